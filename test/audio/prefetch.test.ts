// Prefetch: pages ahead of a playing head are brought into memory by the non-real-time prefetch step (and kept
// ahead by the live driver's prefetch thread), while pages far from every head stay cold.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Engine } from "../../app/audio/engine";
import { requireAddon, tempDir, writeTestCanvas } from "./helpers";

const tmp = tempDir();
const canvasPath = join(tmp.dir, "prefetch.lcc");
const FRAMES_PER_PAGE = 4096;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(() => {
  requireAddon();
  writeTestCanvas({
    path: canvasPath,
    sampleRate: 48000,
    channels: 2,
    framesPerPage: FRAMES_PER_PAGE,
    pageCapacity: 512,
    streams: [{ key: 31n, pages: 200 }],
  });
});
afterAll(() => tmp.cleanup());

describe("prefetch", () => {
  it("faults in the pages ahead of a head and leaves the rest cold", () => {
    const engine = Engine.create({
      sampleRate: 48000,
      channels: 2,
      maxHeads: 1,
      maxLanes: 1,
      maxBlockFrames: 512,
    });
    try {
      engine.openCanvas(canvasPath);
      engine.evictCanvasFromPageCache();
      expect(engine.residentPages(31n, 0, 200)).toBeLessThan(5);
      engine.setHeadStreams(0, [31n]);
      engine.seek(0, 50 * FRAMES_PER_PAGE);
      engine.renderOffline(1);
      engine.play(0);
      engine.prefetch(8);
      expect(engine.residentPages(31n, 50, 8)).toBe(8);
      expect(engine.residentPages(31n, 120, 40)).toBeLessThan(5);
    } finally {
      engine.dispose();
    }
  });

  it("prefetchStreams faults in exactly the asked pages of keys no head plays yet", () => {
    const engine = Engine.create({
      sampleRate: 48000,
      channels: 2,
      maxHeads: 1,
      maxLanes: 1,
      maxBlockFrames: 512,
    });
    try {
      engine.openCanvas(canvasPath);
      engine.evictCanvasFromPageCache();
      expect(engine.residentPages(31n, 0, 200)).toBeLessThan(5);
      // No head plays key 31 (the prefetch thread would not touch it); the host asks before mapping it.
      engine.prefetchStreams([31n, 999n], 90, 3);
      expect(engine.residentPages(31n, 90, 3)).toBe(3);
      expect(engine.residentPages(31n, 93, 60)).toBeLessThan(5);
      expect(() => engine.prefetchStreams([31n], -1, 3)).toThrow(/firstPage/);
    } finally {
      engine.dispose();
    }
  });

  it("keeps pages ahead of a head resident while the null driver plays", async () => {
    const engine = Engine.create({
      sampleRate: 48000,
      channels: 2,
      maxHeads: 1,
      maxLanes: 1,
      maxBlockFrames: 512,
    });
    try {
      engine.openCanvas(canvasPath);
      engine.setHeadStreams(0, [31n]);
      engine.play(0);
      engine.evictCanvasFromPageCache();
      engine.start({ driver: "null", bufferFrames: 256, prefetchPages: 8 });
      await sleep(400);
      const page = Math.floor(engine.headPositionFrames(0) / FRAMES_PER_PAGE);
      expect(engine.residentPages(31n, page, 6)).toBe(6);
      expect(engine.residentPages(31n, page + 40, 40)).toBeLessThan(5);
      engine.stop();
      expect(engine.stats().pageMisses).toBe(0);
    } finally {
      engine.dispose();
    }
  });
});
