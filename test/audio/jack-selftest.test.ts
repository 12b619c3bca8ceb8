// `lcanvas engine selftest --driver rtaudio --api jack` end to end: the real CLI plays through the rtaudio driver on
// a dummy JACK server and compares its capture with the reference mix.
import { describe, expect, it } from "vitest";
import { runCli } from "../support/cli";
import { startJack } from "../support/jack";

describe("lcanvas engine selftest on JACK", () => {
  it("plays bit-exact through the rtaudio driver", async () => {
    const server = await startJack({ sampleRate: 48_000, periodFrames: 256 });
    try {
      const result = await runCli(
        ["engine", "selftest", "--driver", "rtaudio", "--api", "jack", "--seconds", "2"],
        server.env,
      );
      expect(result.code, result.stderr).toBe(0);
      const report = JSON.parse(result.stdout) as Record<string, unknown>;
      expect(report).toMatchObject({
        driver: "rtaudio",
        api: "jack",
        sample_rate: 48_000,
        buffer_frames: 256,
        mismatched_samples: 0,
        page_misses: 0,
        ok: true,
      });
      expect(report["frames_compared"]).toBeGreaterThan(48_000);
    } finally {
      await server.stop();
    }
  });

  it("fails with a clear message when no JACK server runs", async () => {
    const result = await runCli(
      ["engine", "selftest", "--driver", "rtaudio", "--api", "jack", "--seconds", "1"],
      { ...process.env, JACK_DEFAULT_SERVER: `lc-absent-${process.pid}`, JACK_NO_START_SERVER: "1" },
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/jack API lists no devices \(is a JACK server running/);
  });
});
