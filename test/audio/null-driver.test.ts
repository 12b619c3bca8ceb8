// The null driver: paced by the clock (callback count within 2% of elapsed time), and what its callback produced
// (captured through the SPSC ring) equals the JS reference mix bit for bit. The offline bounce gives the same bits.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CanvasReader } from "../../app/audio/canvas-file";
import { Engine } from "../../app/audio/engine";
import { countMismatches, ReferenceMixer } from "../../app/audio/reference-mix";
import { requireAddon, tempDir, writeTestCanvas } from "./helpers";

const tmp = tempDir();
const canvasPath = join(tmp.dir, "null.lcc");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(5);
  }
}

beforeAll(() => {
  requireAddon();
  writeTestCanvas({
    path: canvasPath,
    sampleRate: 48000,
    channels: 2,
    framesPerPage: 2048,
    pageCapacity: 256,
    streams: [
      { key: 11n, pages: 40 },
      { key: 12n, pages: 40 },
      { key: 13n, pages: 40, skip: [3] },
    ],
  });
});
afterAll(() => tmp.cleanup());

function setUp(engine: Engine): void {
  engine.openCanvas(canvasPath);
  engine.setHeadStreams(0, [11n, 12n, 13n]);
  engine.setHeadStreams(1, [13n, 0n, 11n]);
  engine.setLanePan(0, -0.5);
  engine.setLaneGain(2, 0.6);
  engine.setHeadGain(1, 0.4);
  engine.setLoop(0, { startFrames: 1000, endFrames: 70_001, enabled: true });
  engine.seek(1, 20_000);
  engine.setLoop(1, { startFrames: 0, endFrames: 81_920, enabled: true });
  engine.play(0);
  engine.play(1);
}

describe("null driver", () => {
  it("captured output is bit-exact with the reference and the callback count follows the clock", async () => {
    const engine = Engine.create({
      sampleRate: 48000,
      channels: 2,
      maxHeads: 2,
      maxLanes: 3,
      maxBlockFrames: 1024,
    });
    try {
      const reference = new ReferenceMixer(new CanvasReader(canvasPath), engine.control, 2);
      setUp(engine);
      engine.startCapture(48000 * 4);
      const t0 = performance.now();
      const info = engine.start({ driver: "null", bufferFrames: 256 });
      expect(info).toMatchObject({ name: "null", running: true, bufferFrames: 256, sampleRate: 48000 });
      await sleep(2000);
      const callbacks = engine.stats().callbacks;
      const elapsedSeconds = (performance.now() - t0) / 1000;
      engine.stop();
      const captured = engine.stopCapture();
      const stats = engine.stats();

      const expected = (elapsedSeconds * 48000) / 256;
      expect(Math.abs(callbacks - expected) / expected).toBeLessThan(0.02);
      expect(stats.captureOverruns).toBe(0);
      expect(captured.length).toBe(stats.callbacks * 256 * 2);
      const ref = reference.render(captured.length / 2, 256);
      const diff = countMismatches(captured, ref.output);
      expect(diff.mismatched, `first mismatch at sample ${diff.firstIndex}`).toBe(0);
      expect(stats.pageMisses).toBe(ref.pageMisses);
      expect(ref.pageMisses).toBeGreaterThan(0);
      expect(captured.filter((v) => v !== 0).length).toBeGreaterThan(captured.length / 2);
      expect(engine.headPositionFrames(0)).toBe(reference.headPositionFrames(0));
      expect(stats.maxCallbackNs).toBeGreaterThan(0);
      expect(stats.maxCallbackNs).toBeLessThan(1e9);
    } finally {
      engine.dispose();
    }
  });

  it("the offline bounce of the same canvas and controls gives the same bits as the null driver", async () => {
    const live = Engine.create({
      sampleRate: 48000,
      channels: 2,
      maxHeads: 2,
      maxLanes: 3,
      maxBlockFrames: 1024,
    });
    const bounce = Engine.create({
      sampleRate: 48000,
      channels: 2,
      maxHeads: 2,
      maxLanes: 3,
      maxBlockFrames: 1024,
    });
    try {
      setUp(live);
      setUp(bounce);
      live.startCapture(48000);
      live.start({ driver: "null", bufferFrames: 128, realtimePriority: false });
      await sleep(300);
      live.stop();
      const captured = live.stopCapture();
      const wav = join(tmp.dir, "bounce.wav");
      bounce.renderOfflineToWav(wav, captured.length / 2, { blockFrames: 1000 });
      const bytes = readFileSync(wav);
      expect(bytes.toString("ascii", 0, 4)).toBe("RIFF");
      expect(bytes.readUInt16LE(20)).toBe(3);
      const samples = new Float32Array(
        bytes.buffer.slice(bytes.byteOffset + 44, bytes.byteOffset + bytes.length),
      );
      expect(countMismatches(captured, samples).mismatched).toBe(0);
      expect(captured.length).toBeGreaterThan(10_000);
    } finally {
      live.dispose();
      bounce.dispose();
    }
  });

  it("seek and position: a head publishes its position and applies a seek at the next block", async () => {
    const engine = Engine.create({
      sampleRate: 48000,
      channels: 2,
      maxHeads: 1,
      maxLanes: 1,
      maxBlockFrames: 512,
    });
    try {
      engine.openCanvas(canvasPath);
      engine.setHeadStreams(0, [11n]);
      engine.play(0);
      engine.start({ driver: "null", bufferFrames: 256 });
      await waitFor(() => engine.headPositionFrames(0) > 0);
      const p1 = engine.headPositionFrames(0);
      expect(p1).toBeGreaterThan(0);
      expect(p1 % 256).toBe(0);
      const counter = engine.seek(0, 1_000_000);
      await waitFor(() => engine.control.headSeekApplied(0) === counter);
      expect(engine.headPositionFrames(0)).toBeGreaterThan(1_000_000);
      expect(engine.headPositionFrames(0)).toBeLessThan(1_000_000 + 48000);
    } finally {
      engine.dispose();
    }
  });

  it("a control change while playing is heard from the next block on, never inside a block", async () => {
    const engine = Engine.create({
      sampleRate: 48000,
      channels: 2,
      maxHeads: 1,
      maxLanes: 2,
      maxBlockFrames: 256,
    });
    try {
      engine.openCanvas(canvasPath);
      engine.setHeadStreams(0, [11n, 12n]);
      engine.setLoop(0, { startFrames: 0, endFrames: 30 * 2048, enabled: true });
      engine.play(0);
      engine.startCapture(48000 * 2);
      engine.start({ driver: "null", bufferFrames: 256 });
      await sleep(150);
      const before = engine.stats().callbacks;
      engine.setLaneMute(1, true);
      const after = engine.stats().callbacks;
      await sleep(150);
      engine.stop();
      const captured = engine.stopCapture();

      const unmuted = Engine.create({
        sampleRate: 48000,
        channels: 2,
        maxHeads: 1,
        maxLanes: 2,
        maxBlockFrames: 256,
      });
      const muted = Engine.create({
        sampleRate: 48000,
        channels: 2,
        maxHeads: 1,
        maxLanes: 2,
        maxBlockFrames: 256,
      });
      try {
        for (const e of [unmuted, muted]) {
          e.openCanvas(canvasPath);
          e.setHeadStreams(0, [11n, 12n]);
          e.setLoop(0, { startFrames: 0, endFrames: 30 * 2048, enabled: true });
          e.play(0);
        }
        muted.setLaneMute(1, true);
        const frames = captured.length / 2;
        const a = unmuted.renderOffline(frames, { blockFrames: 256 });
        const b = muted.renderOffline(frames, { blockFrames: 256 });
        const blockSamples = 512;
        const kinds: string[] = [];
        for (let k = 0; k * blockSamples < captured.length; k++) {
          const slice = (x: Float32Array) => x.subarray(k * blockSamples, (k + 1) * blockSamples);
          const got = slice(captured);
          if (countMismatches(got, slice(a)).mismatched === 0) kinds.push("unmuted");
          else if (countMismatches(got, slice(b)).mismatched === 0) kinds.push("muted");
          else kinds.push(`block ${k} is neither`);
        }
        const firstMuted = kinds.indexOf("muted");
        expect(kinds.slice(0, firstMuted).every((k) => k === "unmuted")).toBe(true);
        expect(kinds.slice(firstMuted).every((k) => k === "muted")).toBe(true);
        expect(firstMuted).toBeGreaterThanOrEqual(before);
        expect(firstMuted).toBeLessThanOrEqual(after + 1);
      } finally {
        unmuted.dispose();
        muted.dispose();
      }
    } finally {
      engine.dispose();
    }
  });
});
