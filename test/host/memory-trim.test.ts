// The host gives the C heap's free memory back to the system every trimMemoryMs (glibc malloc_trim), and never
// when it is 0.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSession } from "../../app/host/session";
import { type DemoFixture, demoProject, sleep } from "./fixture";

describe("host memory trim", () => {
  let demo: DemoFixture;
  beforeAll(async () => {
    demo = await demoProject();
  });
  afterAll(() => demo?.dispose());

  it("trims on its period, and not at all when turned off", async () => {
    const trimming = await openSession(demo.project, { driver: "offline", autosaveMs: 0, trimMemoryMs: 20 });
    try {
      await sleep(300);
      const { count, maxMs } = trimming.stats().memoryTrims;
      expect(count).toBeGreaterThanOrEqual(3);
      expect(maxMs).toBeGreaterThanOrEqual(0);
    } finally {
      await trimming.close();
    }
    const off = await openSession(demo.project, { driver: "offline", autosaveMs: 0, trimMemoryMs: 0 });
    try {
      await sleep(100);
      expect(off.stats().memoryTrims).toEqual({ count: 0, maxMs: 0 });
    } finally {
      await off.close();
    }
  });
});
