// A capture of live playback from the start (null driver, real-time thread, 256-frame blocks) and an offline bounce
// of the same span (4096-frame blocks), both of the demo project through the real renderer and engine, are
// bit-identical.
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
      await session.seek(undefined, 0);
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

describe("realization per head in the demo", () => {
  let demo: DemoFixture;
  beforeAll(async () => {
    demo = await demoProject();
  });
  afterAll(() => demo?.dispose());

  it("heads share deterministic lanes and differ on the generated one; a second bounce gives the same bits", async () => {
    const frames = 4 * 48_000;
    const stemsOf = async (head: string, name: string) => {
      const stems = join(demo.root, name);
      const result = await bounce(demo.project, { out: join(demo.root, `${name}.wav`), head, frames, stems });
      return result.stems.map((file) => readInterleaved(file).samples);
    };
    const alpha = await stemsOf("Alpha", "alpha");
    const beta = await stemsOf("Beta", "beta");
    const again = await stemsOf("Alpha", "alpha-again");
    expect(alpha).toHaveLength(5);
    for (let lane = 0; lane < 4; lane++) expect(firstMismatch(alpha[lane]!, beta[lane]!)).toBe(-1);
    expect(peak(alpha[4]!)).toBeGreaterThan(0.01);
    expect(peak(beta[4]!)).toBeGreaterThan(0.01);
    expect(firstMismatch(alpha[4]!, beta[4]!)).not.toBe(-1);
    for (let lane = 0; lane < 5; lane++) expect(firstMismatch(alpha[lane]!, again[lane]!)).toBe(-1);
  }, 120_000);
});
