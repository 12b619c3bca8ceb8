// `lcanvas play` through the rtaudio driver on a real JACK server (dummy backend, started by the test): the demo
// is heard through the device path (no fallback), with no page miss, and the capture is what the callback made.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli";
import { type JackServer, startJack } from "../support/jack";
import { type DemoFixture, demoProject, peak, readInterleaved } from "./fixture";

describe("play on JACK", () => {
  let demo: DemoFixture;
  let server: JackServer;
  beforeAll(async () => {
    demo = await demoProject();
    server = await startJack({ sampleRate: 48_000, periodFrames: 256 });
  });
  afterAll(async () => {
    await server?.stop();
    demo?.dispose();
  });

  it("plays the demo through rtaudio on the JACK server", async () => {
    const capture = join(demo.root, "jack.wav");
    const result = await runCli(
      ["play", demo.project, "--api", "jack", "--seconds", "1.5", "--capture", capture],
      server.env,
      60_000,
    );
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(/null driver/);
    const summary = JSON.parse(result.stdout.trim().split("\n").at(-1)!) as {
      driver: string;
      engine: { pageMisses: number; framesRendered: number; driverFallbacks: number; callbacks: number };
      capture: { frames: number };
    };
    expect(summary.driver).not.toBe("null");
    expect(summary.engine.driverFallbacks).toBe(0);
    expect(summary.engine.pageMisses).toBe(0);
    expect(summary.engine.callbacks).toBeGreaterThan(100);
    const audio = readInterleaved(capture);
    expect(audio.frames).toBe(summary.capture.frames);
    expect(audio.frames / 48_000).toBeGreaterThan(1.2);
    expect(peak(audio.samples)).toBeGreaterThan(0.05);
  }, 90_000);
});
