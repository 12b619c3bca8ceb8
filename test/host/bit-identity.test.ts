// A capture of live playback from the start (null driver, real-time thread) and an offline bounce of the same
// span, both of the demo project through the real renderer and engine, are bit-identical.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bounce } from "../../app/host/bounce";
import { openSession } from "../../app/host/session";
import { type DemoFixture, demoProject, firstMismatch, peak, readInterleaved, sleep } from "./fixture";

describe("live capture vs offline bounce", () => {
  let demo: DemoFixture;
  beforeAll(async () => {
    demo = await demoProject();
  });
  afterAll(() => demo?.dispose());

  it("a null-driver capture of both heads from frame 0 equals the bounce of the same span, bit for bit", async () => {
    const session = await openSession(demo.project, { driver: "null", loops: false, autosaveMs: 0 });
    let captured: Float32Array;
    try {
      session.seek(undefined, 0);
      await session.waitReady();
      session.startCapture(48_000 * 4);
      session.play();
      session.start();
      await sleep(1500);
      session.engine.stop();
      captured = session.stopCapture();
      const stats = session.stats();
      expect(stats.engine.pageMisses).toBe(0);
      expect(stats.engine.captureOverruns).toBe(0);
    } finally {
      await session.close();
    }
    const frames = captured.length / 2;
    expect(frames).toBeGreaterThan(48_000);
    expect(peak(captured)).toBeGreaterThan(0.05);

    const out = join(demo.root, "span.wav");
    const result = await bounce(demo.project, { out, frames });
    expect(result.pageMisses).toBe(0);
    const bounced = readInterleaved(out);
    expect(bounced.frames).toBe(frames);
    expect(firstMismatch(captured, bounced.samples)).toBe(-1);
  }, 60_000);
});
