// The per-miss record: every page miss the callback counts is also recorded (engine frame, head, lane, key, page,
// generation, reason) in a preallocated ring that takeMisses() drains; pages that are there give no record.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CanvasWriter } from "../../app/audio/canvas-file";
import { Engine, type PageMiss } from "../../app/audio/engine";
import { requireAddon, tempDir, writeTestCanvas } from "./helpers";

const FPP = 1024;
const tmp = tempDir("lc-miss-");
let canvasPath = "";

beforeAll(() => {
  requireAddon();
  canvasPath = join(tmp.dir, "canvas.lcc");
  writeTestCanvas({
    path: canvasPath,
    sampleRate: 48000,
    channels: 2,
    framesPerPage: FPP,
    pageCapacity: 512,
    streams: [
      { key: 1n, pages: 40 },
      { key: 3n, pages: 40, skip: [5, 6] },
      { key: 7n, pages: 40, generation: 1 },
    ],
  });
});
afterAll(() => tmp.cleanup());

function engine(maxHeads = 2): Engine {
  const e = Engine.create({ sampleRate: 48000, channels: 2, maxHeads, maxLanes: 4, maxBlockFrames: 1024 });
  e.openCanvas(canvasPath);
  return e;
}

describe("engine page-miss record", () => {
  it("a head over written pages records nothing", () => {
    const e = engine();
    try {
      e.setHeadStreams(0, [1n, 0n, 3n]);
      e.seek(0, 10 * FPP + 100);
      e.play(0);
      e.renderOffline(8 * FPP, { blockFrames: 256 });
      expect(e.stats().pageMisses).toBe(0);
      expect(e.takeMisses()).toEqual([]);
    } finally {
      e.dispose();
    }
  });

  it("a head over unwritten pages gets one record per missed lane-segment, with frame, page and reason", () => {
    const e = engine();
    try {
      // Head 1 plays key 1 on lane 0 (all pages there) and key 3 on lane 2 (pages 5 and 6 never written).
      e.setHeadStreams(1, [1n, 0n, 3n]);
      const start = 5 * FPP - 256;
      e.seek(1, start);
      e.play(1);
      e.renderOffline(3 * FPP, { blockFrames: 512 });
      const misses = e.takeMisses();
      // Blocks of 512 from frame 4864: [4864,5376) misses page 5 from 5120 (256 frames); the next blocks lie in
      // pages 5 and 6 (misses of 512 each) until 7168, where page 7 is there again.
      const expected: Partial<PageMiss>[] = [
        { engineFrame: 256, timelineFrame: 5 * FPP, pageIndex: 5, frameOffset: 0, frames: 256 },
        { engineFrame: 512, timelineFrame: 5 * FPP + 256, pageIndex: 5, frameOffset: 256, frames: 512 },
        { engineFrame: 1024, timelineFrame: 5 * FPP + 768, pageIndex: 5, frameOffset: 768, frames: 256 },
        { engineFrame: 1280, timelineFrame: 6 * FPP, pageIndex: 6, frameOffset: 0, frames: 256 },
        { engineFrame: 1536, timelineFrame: 6 * FPP + 256, pageIndex: 6, frameOffset: 256, frames: 512 },
        { engineFrame: 2048, timelineFrame: 6 * FPP + 768, pageIndex: 6, frameOffset: 768, frames: 256 },
      ].map((m) => ({ ...m, head: 1, lane: 2, streamKey: 3n, reason: "absent", wantedGeneration: 0 }));
      expect(misses).toHaveLength(expected.length);
      for (const [i, miss] of misses.entries()) expect(miss).toMatchObject(expected[i]!);
      expect(e.stats().pageMisses).toBe(expected.length);
      // Drained: a second call returns nothing new.
      expect(e.takeMisses()).toEqual([]);
    } finally {
      e.dispose();
    }
  });

  it("stale and invalidated pages carry their reason and generations; no canvas is its own reason", () => {
    const e = engine(1);
    try {
      e.setHeadStreams(0, [7n]);
      e.setHeadGeneration(0, 2);
      e.seek(0, 3 * FPP);
      e.play(0);
      e.renderOffline(FPP, { blockFrames: 1024 });
      expect(e.takeMisses()).toEqual([
        expect.objectContaining({
          reason: "stale",
          head: 0,
          lane: 0,
          streamKey: 7n,
          pageIndex: 3,
          wantedGeneration: 2,
          pageGeneration: 1,
          frames: FPP,
        }),
      ]);
      e.setHeadGeneration(0, 0);
      const writer = new CanvasWriter(canvasPath);
      try {
        expect(writer.invalidatePage(7n, 4)).toBe(true);
      } finally {
        writer.close();
      }
      e.renderOffline(2 * FPP, { blockFrames: 1024 });
      expect(e.takeMisses()).toEqual([
        expect.objectContaining({ reason: "invalid", pageIndex: 4, pageGeneration: 1, engineFrame: FPP }),
      ]);
      e.closeCanvas();
      e.renderOffline(256, { blockFrames: 256 });
      expect(e.takeMisses()).toEqual([
        expect.objectContaining({ reason: "no-canvas", streamKey: 7n, engineFrame: 3 * FPP, frames: 256 }),
      ]);
    } finally {
      e.dispose();
    }
  });

  it("a full ring drops records (counted) but never misses", () => {
    const e = engine(1);
    try {
      e.setHeadStreams(0, [99n]); // a key with no pages at all
      e.play(0);
      e.renderOffline(5000 * 64, { blockFrames: 64 });
      const stats = e.stats();
      expect(stats.pageMisses).toBe(5000);
      expect(stats.missRecordsDropped).toBe(5000 - 4096);
      const misses = e.takeMisses();
      expect(misses).toHaveLength(4096);
      expect(misses[4095]).toMatchObject({ engineFrame: 4095 * 64, reason: "absent" });
      // Room again after the drain.
      e.renderOffline(64, { blockFrames: 64 });
      expect(e.takeMisses()).toEqual([expect.objectContaining({ engineFrame: 5000 * 64 })]);
      expect(e.stats().missRecordsDropped).toBe(5000 - 4096);
    } finally {
      e.dispose();
    }
  });

  it("the null driver records the misses of a live head, drained while it plays", async () => {
    const e = engine();
    try {
      e.setHeadStreams(0, [1n]); // written: no records
      e.setHeadStreams(1, [0n, 3n]); // lane 1: page 5 and 6 missing
      e.seek(0, 0);
      e.seek(1, 5 * FPP);
      e.play(0);
      e.play(1);
      e.start({ driver: "null", bufferFrames: 256, realtimePriority: false });
      const seen: PageMiss[] = [];
      const deadline = Date.now() + 5000;
      while (e.headPositionFrames(1) < 8 * FPP && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        seen.push(...e.takeMisses());
      }
      e.stop();
      seen.push(...e.takeMisses());
      // Pages 5 and 6 are 2048 frames: 8 blocks of 256, each one record of head 1, lane 1.
      expect(seen).toHaveLength(8);
      expect(e.stats().pageMisses).toBe(8);
      seen.forEach((miss, i) => {
        expect(miss).toMatchObject({
          head: 1,
          lane: 1,
          streamKey: 3n,
          reason: "absent",
          pageIndex: 5 + Math.floor(i / 4),
          timelineFrame: 5 * FPP + 256 * i,
          frames: 256,
        });
        if (i > 0) expect(miss.engineFrame - seen[i - 1]!.engineFrame).toBe(256);
      });
    } finally {
      e.dispose();
    }
  });
});
