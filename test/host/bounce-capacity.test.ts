import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCanvasLayout } from "../../app/audio/canvas-file";
import { bounce } from "../../app/host/bounce";
import { CANVAS_CACHE_FILE, MIN_PAGE_CAPACITY, pageCapacityFor } from "../../app/host/canvas-cache";
import { type DemoFixture, demoProject, peak, readInterleaved } from "./fixture";

describe("the canvas holds a whole bounce", () => {
  let demo: DemoFixture;
  beforeAll(async () => {
    demo = await demoProject();
  });
  afterAll(() => demo.dispose());

  it("sizes the canvas from the project: at least the live minimum, twice a bounce's pages, a power of two", () => {
    const base = { lanes: 5, heads: 2, tailFrames: 96_000, framesPerPage: 4096 };
    expect(pageCapacityFor({ ...base, endFrame: 20 * 48_000 })).toBe(MIN_PAGE_CAPACITY);
    // 8 minutes: 5 x 2 x (ceil((23,040,000 + 96,000) / 4096) + 1) = 56,500 pages; twice that -> 131,072.
    expect(pageCapacityFor({ ...base, endFrame: 480 * 48_000 })).toBe(131_072);
  });

  // Before, the canvas had 32,768 slots whatever the project: a bounce keeps every page until it is mixed, so an
  // 8-minute 5-lane project failed with "the canvas file is full". Small pages (128 frames) make the 20-second demo
  // need as many pages (6 streams x 7,300), so the same failure is reproduced in seconds.
  it("bounces a project whose pages outnumber the old fixed capacity", async () => {
    const out = join(demo.root, "small-pages.wav");
    const result = await bounce(demo.project, { out, session: { framesPerPage: 128 } });
    expect(result.pageMisses).toBe(0);
    const layout = readCanvasLayout(join(demo.project, CANVAS_CACHE_FILE));
    expect(layout.framesPerPage).toBe(128);
    expect(layout.pageCapacity).toBeGreaterThan(MIN_PAGE_CAPACITY);
    expect(existsSync(out)).toBe(true);
    const { samples, frames } = readInterleaved(out);
    expect(frames).toBe(result.frames);
    expect(peak(samples)).toBeGreaterThan(0.05);
  }, 120_000);
});
