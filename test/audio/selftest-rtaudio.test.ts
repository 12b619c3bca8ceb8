// `lcanvas engine selftest --driver rtaudio --api jack` on a real JACK server (dummy backend): what the RtAudio
// callback produced is bit-exact with the JS reference mix, and the callback count follows JACK's clock.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type JackServer, startJack } from "../support/jack";
import { requireAddon } from "./helpers";

const bin = join(import.meta.dirname, "../../bin/lcanvas.mjs");
let server: JackServer | undefined;

beforeAll(async () => {
  requireAddon();
  server = await startJack({ sampleRate: 48_000, periodFrames: 256 });
});
afterAll(async () => {
  await server?.stop();
});

function run(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("exit", (status) => resolve({ status, stdout, stderr }));
  });
}

describe("engine selftest on JACK", () => {
  it("plays through RtAudio on JACK bit-exact with the reference mix", async () => {
    const result = await run(
      [
        "engine",
        "selftest",
        "--driver",
        "rtaudio",
        "--api",
        "jack",
        "--lanes",
        "6",
        "--heads",
        "3",
        "--seconds",
        "2",
      ],
      server!.env,
    );
    expect(result.stderr, server!.log()).toBe("");
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout) as Record<string, number | string | boolean>;
    expect(report).toMatchObject({
      driver: "rtaudio",
      api: "jack",
      mismatched_samples: 0,
      ok: true,
      buffer_frames: 256,
    });
    expect(report["frames_compared"]).toBeGreaterThanOrEqual(90_000);
    const ratio = (report["callbacks"] as number) / (report["expected_callbacks"] as number);
    expect(Math.abs(ratio - 1)).toBeLessThan(0.05);
    expect(report["page_misses"]).toBe(0);
  });
});
