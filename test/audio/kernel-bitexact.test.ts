// The mix kernel (offline driver) against the JS reference mix, bit for bit, over sample rates and block sizes,
// with control changes between blocks, several heads, shared and per-head streams, missing and stale pages.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CanvasReader } from "../../app/audio/canvas-file";
import { Engine } from "../../app/audio/engine";
import { countMismatches, ReferenceMixer } from "../../app/audio/reference-mix";
import { requireAddon, tempDir, writeTestCanvas } from "./helpers";

const FRAMES_PER_PAGE = 1024;
const PAGES = 48;
const tmp = tempDir();

beforeAll(() => requireAddon());
afterAll(() => tmp.cleanup());

function canvasFor(sampleRate: number, channels: number): string {
  const path = join(tmp.dir, `canvas-${sampleRate}-${channels}.lcc`);
  writeTestCanvas({
    path,
    sampleRate,
    channels,
    framesPerPage: FRAMES_PER_PAGE,
    pageCapacity: 1024,
    streams: [
      { key: 1n, pages: PAGES },
      { key: 2n, pages: PAGES },
      { key: 3n, pages: PAGES, skip: [5, 6, 17] },
      { key: 4n, pages: PAGES },
      { key: 0xfeedface_00000101n, pages: PAGES, generation: 1 },
      { key: 0xfeedface_00000102n, pages: PAGES, generation: 3 },
    ],
  });
  return path;
}

type Step = (engine: Engine) => void;

// Applied one per chunk, between blocks, identically to both mixes (they share the control block).
const STEPS: Step[] = [
  (e) => {
    e.setHeadStreams(0, [1n, 2n, 3n, 4n]);
    e.setHeadStreams(1, [1n, 2n, 0xfeedface_00000101n, 0xfeedface_00000102n]);
    e.setHeadStreams(2, [4n, 3n, 2n, 1n]);
    e.play(0);
  },
  (e) => {
    e.play(1);
    e.setLaneGain(1, 0.5);
    e.setLanePan(0, -0.3);
  },
  (e) => {
    e.setHeadGain(1, 0.7);
    e.setLanePan(3, 0.9);
    e.seek(2, 3000);
    e.setLoop(2, { startFrames: 2500, endFrames: 2500 + 1777, enabled: true });
    e.play(2);
  },
  (e) => {
    e.setLaneMute(2, true);
    e.setMasterGain(0.8);
    e.setHeadGeneration(1, 2);
  },
  (e) => {
    e.setLaneSolo(1, true);
    e.setLaneSolo(3, true);
    e.seek(0, 40_000);
  },
  (e) => {
    e.setLaneSolo(1, false);
    e.setLaneSolo(3, false);
    e.setLaneMute(2, false);
    e.setHeadSolo(2, true);
  },
  (e) => {
    e.setHeadSolo(2, false);
    e.setHeadMute(0, true);
    e.setLanePan(1, 1);
  },
  (e) => {
    e.setHeadMute(0, false);
    e.pause(1);
    e.seek(1, 10);
    e.setLaneGain(0, 1.25);
  },
];

describe("mix kernel is bit-exact with the JS reference mix", () => {
  for (const sampleRate of [44100, 48000, 96000]) {
    const path = () => canvasFor(sampleRate, 2);
    for (const blockFrames of [32, 64, 256, 1000, 4096]) {
      it(`stereo at ${sampleRate} Hz in blocks of ${blockFrames} frames`, () => {
        const canvasPath = path();
        const engine = Engine.create({
          sampleRate,
          channels: 2,
          maxHeads: 3,
          maxLanes: 4,
          maxBlockFrames: 4096,
        });
        try {
          engine.openCanvas(canvasPath);
          engine.start({ driver: "offline" });
          const reference = new ReferenceMixer(new CanvasReader(canvasPath), engine.control, 2);
          const chunkFrames = blockFrames * 5;
          let compared = 0;
          let nonSilent = 0;
          for (const step of STEPS) {
            step(engine);
            const missesBefore = engine.stats().pageMisses;
            const native = engine.renderOffline(chunkFrames, { blockFrames });
            const ref = reference.render(chunkFrames, blockFrames);
            const diff = countMismatches(native, ref.output);
            expect(diff.mismatched, `first mismatch at sample ${diff.firstIndex}`).toBe(0);
            expect(engine.stats().pageMisses - missesBefore).toBe(ref.pageMisses);
            for (let h = 0; h < 3; h++)
              expect(engine.headPositionFrames(h)).toBe(reference.headPositionFrames(h));
            compared += diff.compared;
            nonSilent += native.filter((v) => v !== 0).length;
          }
          expect(compared).toBe(STEPS.length * chunkFrames * 2);
          expect(nonSilent).toBeGreaterThan(compared / 2);
        } finally {
          engine.dispose();
        }
      });
    }
  }

  it("mono canvas, and renders split across maxBlockFrames pieces", () => {
    const canvasPath = canvasFor(48000, 1);
    const engine = Engine.create({
      sampleRate: 48000,
      channels: 1,
      maxHeads: 3,
      maxLanes: 4,
      maxBlockFrames: 700,
    });
    try {
      engine.openCanvas(canvasPath);
      const reference = new ReferenceMixer(new CanvasReader(canvasPath), engine.control, 1);
      for (const step of STEPS) {
        step(engine);
        const native = engine.renderOffline(2100, { blockFrames: 700 });
        const ref = reference.render(2100, 700);
        expect(countMismatches(native, ref.output).mismatched).toBe(0);
      }
    } finally {
      engine.dispose();
    }
  });

  it("a missing page is silence and a counted miss; stale generations too", () => {
    const canvasPath = canvasFor(48000, 2);
    const engine = Engine.create({
      sampleRate: 48000,
      channels: 2,
      maxHeads: 1,
      maxLanes: 1,
      maxBlockFrames: 1024,
    });
    try {
      engine.openCanvas(canvasPath);
      engine.setHeadStreams(0, [3n]);
      engine.seek(0, 5 * FRAMES_PER_PAGE);
      engine.play(0);
      const silent = engine.renderOffline(FRAMES_PER_PAGE, { blockFrames: 1024 });
      expect(silent.every((v) => v === 0)).toBe(true);
      expect(engine.stats().pageMisses).toBe(1);
      engine.seek(0, 7 * FRAMES_PER_PAGE);
      expect(engine.renderOffline(FRAMES_PER_PAGE).some((v) => v !== 0)).toBe(true);
      engine.setHeadGeneration(0, 2);
      expect(engine.renderOffline(FRAMES_PER_PAGE).every((v) => v === 0)).toBe(true);
      expect(engine.stats().pageMisses).toBe(2);
    } finally {
      engine.dispose();
    }
  });
});
