import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { panGains } from "../../app/audio/control-block";
import { Engine } from "../../app/audio/engine";
import type { ProjectDocument } from "../../app/core/document";
import {
  createFixture,
  documentOf,
  type Fixture,
  FRAMES_PER_PAGE,
  SAMPLE_RATE,
  sequenceOf,
  waitFor,
} from "./fixture";

const notes = (count: number, pitch: number) =>
  Array.from({ length: count }, (_, i) => ({ pitch, velocity: 100, startTick: i * 240, durationTicks: 200 }));
const CHUNK = 1024;
const SEEK_FRAME = 3 * SAMPLE_RATE + 1000;
/**
 * Waits are for conditions, never for wall-clock time; this only bounds how long a stuck condition is waited for.
 * Under a loaded full suite, rendering can be many times slower than alone.
 */
const CONDITION_TIMEOUT_MS = 120_000;
const wait = (condition: () => boolean) => waitFor(condition, CONDITION_TIMEOUT_MS);

describe("no stale or missing page is played (offline engine)", () => {
  let fx: Fixture;
  let document: ProjectDocument;
  let edited: ProjectDocument;
  beforeAll(async () => {
    fx = await createFixture();
    const a = await fx.putMidi(sequenceOf(notes(32, 60), 0));
    const b = await fx.putMidi(sequenceOf(notes(32, 72), 0));
    const bass = await fx.putMidi(sequenceOf(notes(32, 40), 33, 1));
    document = documentOf(
      fx.ids,
      [
        [{ encodingHash: a, atBeat: 0, durationBeats: 16 }],
        [{ encodingHash: bass, atBeat: 0, durationBeats: 16 }],
      ],
      [{}],
    );
    edited = {
      ...document,
      regions: document.regions.map((r, i) => (i === 0 ? { ...r, encodingHash: b } : r)),
    };
  });
  afterAll(async () => fx?.dispose());

  it("after an edit and after a seek, every block plays the keys mapped at that time, with zero page misses", async () => {
    // Old keys stay alive for the whole test however slow it runs (their pages are compared below).
    const renderer = await fx.renderer(
      document,
      { lookaheadFrames: SAMPLE_RATE },
      { retireGraceMs: 3_600_000 },
    );
    const head = document.heads[0]!.id;
    const engine = Engine.create({
      sampleRate: SAMPLE_RATE,
      channels: 2,
      maxHeads: 1,
      maxLanes: 2,
      maxBlockFrames: 256,
    });
    try {
      engine.openCanvas(fx.dir + "/canvas.lcc");
      engine.start({ driver: "offline" });
      let keys = renderer.streamKeys(head);
      const oldKeys = keys;
      engine.setHeadStreams(0, keys);
      let switchedAtStep = -1;
      let step = 0;
      renderer.onStreamKeysChanged((id, next) => {
        expect(id).toBe(head);
        engine.setHeadStreams(0, next);
        keys = next;
        switchedAtStep = step;
      });
      // Expected output from the pages of the keys mapped for a chunk (the engine's mix formula), read right after
      // the chunk is played, so nothing the renderer does later (freeing retired keys) can change what is compared.
      const reader = fx.reader();
      const { panLeft, panRight } = panGains(0);
      const gains = [Math.fround(panLeft), Math.fround(panRight)];
      const expectChunk = (position: number, mapped: readonly bigint[]): Float32Array | undefined => {
        const out = new Float32Array(CHUNK * 2);
        for (let i = 0; i < CHUNK; i++) {
          const frame = position + i;
          const page = Math.floor(frame / FRAMES_PER_PAGE);
          for (let c = 0; c < 2; c++) {
            let acc = 0;
            for (const key of mapped) {
              let data = reader.pageFrames(key, page);
              if (!data) {
                // Written after the reader last looked at the page table.
                reader.refresh();
                data = reader.pageFrames(key, page);
              }
              if (!data) return undefined;
              const s = data[(frame - page * FRAMES_PER_PAGE) * 2 + c]!;
              acc = Math.fround(acc + Math.fround(Math.fround(s * gains[c]!) * 1));
            }
            out[i * 2 + c] = Math.fround(acc * 1);
          }
        }
        return out;
      };
      engine.play(0);
      const chunks: Array<{
        position: number;
        keys: readonly bigint[];
        out: Float32Array;
        want: Float32Array | undefined;
        stale: Float32Array | undefined;
      }> = [];
      let position = 0;
      const EDIT_STEP = 10;
      const SEEK_STEP = 60;
      for (step = 0; step < 90; step++) {
        if (step === EDIT_STEP) {
          // Offline playback outruns real time: let the old keys' window fill first, as it would in real time,
          // then wait for the switch here.
          await wait(() => renderer.stats().readyAheadFrames[head]! >= SAMPLE_RATE - FRAMES_PER_PAGE);
          renderer.setDocument(edited);
          await renderer.settled();
          await wait(() => switchedAtStep >= 0);
        }
        if (step === SEEK_STEP) {
          const generation = renderer.seek(head, SEEK_FRAME);
          engine.seek(0, SEEK_FRAME);
          engine.setHeadGeneration(0, generation);
          position = SEEK_FRAME;
        }
        renderer.updateHeads([{ headId: head, audibleFrame: position, playing: true }]);
        // The renderer keeps up: the next chunk's pages of the mapped keys are written before it plays.
        await wait(() => renderer.stats().readyAheadFrames[head]! >= CHUNK);
        const out = engine.renderOffline(CHUNK, { blockFrames: 256 });
        chunks.push({
          position,
          keys,
          out,
          want: expectChunk(position, keys),
          stale: keys === oldKeys ? undefined : expectChunk(position, oldKeys),
        });
        position += CHUNK;
        expect(engine.headPositionFrames(0)).toBe(position);
      }
      expect(engine.stats().pageMisses).toBe(0);
      expect(switchedAtStep).toBe(EDIT_STEP);
      expect(keys[0]).not.toBe(oldKeys[0]);
      expect(keys[1]).toBe(oldKeys[1]);

      let differingAfterSwitch = 0;
      let comparable = 0;
      for (const [index, chunk] of chunks.entries()) {
        const want = chunk.want!;
        expect(chunk.want, `pages of chunk ${index}`).toBeDefined();
        expect(Buffer.from(chunk.out.buffer).equals(Buffer.from(want.buffer)), `chunk ${index}`).toBe(true);
        if (index >= switchedAtStep) {
          expect(chunk.keys).toEqual(keys);
          const stale = chunk.stale;
          // Old pages exist only where they were rendered before the switch (after it, nothing renders them).
          if (stale && !Buffer.from(chunk.out.buffer).equals(Buffer.from(stale.buffer)))
            differingAfterSwitch++;
          if (stale) comparable++;
        }
      }
      // The edit is heard: after the switch the blocks differ from what the old keys would have played.
      expect(comparable).toBeGreaterThan(10);
      expect(differingAfterSwitch).toBeGreaterThan(comparable / 2);
      expect(chunks[SEEK_STEP]!.position).toBe(SEEK_FRAME);
      expect(chunks[SEEK_STEP]!.out.some((v) => v !== 0)).toBe(true);
    } finally {
      engine.dispose();
    }
  }, 600_000);
});

describe("seek", () => {
  it("drops queued jobs of the old window and renders the new window first", async () => {
    const fx = await createFixture();
    try {
      const hash = await fx.putMidi(sequenceOf(notes(240, 64), 0));
      const document = documentOf(fx.ids, [[{ encodingHash: hash, atBeat: 0, durationBeats: 120 }]], [{}]);
      const renderer = await fx.renderer(document, { lookaheadFrames: 20 * SAMPLE_RATE, workers: 1 });
      const head = document.heads[0]!.id;
      renderer.updateHeads([{ headId: head, audibleFrame: 0, playing: true }]);
      expect(renderer.stats().queueLength).toBeGreaterThan(100);
      const generation = renderer.seek(head, 40 * SAMPLE_RATE);
      expect(generation).toBe(1);
      expect(renderer.seek(head, 40 * SAMPLE_RATE)).toBe(2);
      expect(renderer.stats().jobsDropped).toBeGreaterThan(100);
      await wait(() => renderer.stats().readyAheadFrames[head]! >= 2 * FRAMES_PER_PAGE);
      const [key] = renderer.streamKeys(head);
      const oldWindow = Array.from({ length: 200 }, (_, p) => p).filter((p) => renderer.isWritten(key!, p));
      // Only the runs already in flight at the seek finished in the old window: at most 2 runs of 4 pages on the one
      // worker (IN_FLIGHT_PER_WORKER x RUN_PAGES_NEAR in app/render/index.ts), not the 100+ queued.
      expect(oldWindow.length).toBeLessThanOrEqual(8);
    } finally {
      await fx.dispose();
    }
  }, 300_000);
});
