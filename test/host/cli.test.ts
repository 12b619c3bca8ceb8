// `lcanvas play` and `lcanvas bounce` end to end: the real CLI as a child process on a fresh build of the demo
// project; WAV files non-silent and of the right length; errors for a missing project, a corrupt document (left
// untouched) and bad options.
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli";
import { REPO_ROOT } from "../support/native-build";
import { type DemoFixture, demoProject, peak, readInterleaved } from "./fixture";

describe("lcanvas play / bounce", () => {
  let demo: DemoFixture;
  beforeAll(async () => {
    demo = await demoProject();
  });
  afterAll(() => demo?.dispose());

  it("bounces the demo to a mix and per-lane stems of the content's length", async () => {
    const out = join(demo.root, "mix.wav");
    const stems = join(demo.root, "stems");
    const result = await runCli(
      ["bounce", demo.project, "--out", out, "--stems", stems, "--bits", "24"],
      process.env,
      120_000,
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split("\n");
    expect(lines.some((line) => /^rendering pages \d+\/\d+ \(100%\)$/.test(line))).toBe(true);
    const summary = JSON.parse(lines.at(-1)!) as { frames: number; stems: string[]; pageMisses: number };
    expect(summary.pageMisses).toBe(0);
    const mix = readInterleaved(out);
    expect(mix.frames).toBe(summary.frames);
    // 8 bars at 110 bpm (17.45 s) plus release tails.
    expect(mix.frames / mix.sampleRate).toBeGreaterThan(17.4);
    expect(mix.frames / mix.sampleRate).toBeLessThan(22);
    expect(peak(mix.samples)).toBeGreaterThan(0.05);
    expect(summary.stems).toHaveLength(5);
    for (const stem of summary.stems) {
      const audio = readInterleaved(stem);
      expect(audio.frames).toBe(summary.frames);
      expect(peak(audio.samples)).toBeGreaterThan(0.005);
    }
  }, 120_000);

  it("bounces one head by name", async () => {
    const out = join(demo.root, "beta.wav");
    const result = await runCli(
      ["bounce", demo.project, "--out", out, "--head", "Beta"],
      process.env,
      120_000,
    );
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout.trim().split("\n").at(-1)!).heads).toEqual(["head-2"]);
    expect(peak(readInterleaved(out).samples)).toBeGreaterThan(0.05);
  }, 120_000);

  it("plays the demo on the null driver for the given seconds and captures what the callback produced", async () => {
    const capture = join(demo.root, "capture.wav");
    const result = await runCli(
      ["play", demo.project, "--driver", "null", "--seconds", "1.5", "--capture", capture, "--heads", "1"],
      process.env,
      60_000,
    );
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/playing 1 head\(s\) through the null driver/);
    const lines = result.stdout.trim().split("\n");
    expect(lines.filter((line) => /\[null\].*Alpha beat/.test(line)).length).toBeGreaterThanOrEqual(2);
    const summary = JSON.parse(lines.at(-1)!) as {
      engine: { pageMisses: number; framesRendered: number };
      capture: { frames: number };
      heads: { name: string; positionFrames: number }[];
    };
    expect(summary.engine.pageMisses).toBe(0);
    const audio = readInterleaved(capture);
    expect(audio.frames).toBe(summary.capture.frames);
    expect(audio.frames).toBe(summary.engine.framesRendered);
    expect(audio.frames / 48_000).toBeGreaterThan(1.4);
    expect(audio.frames / 48_000).toBeLessThan(2.5);
    expect(peak(audio.samples)).toBeGreaterThan(0.05);
    // Only the first head played.
    expect(summary.heads.find((h) => h.name === "Beta")!.positionFrames).toBe(0);
  }, 60_000);

  it("stops cleanly on Ctrl-C (SIGINT): summary printed, exit 0, no library lock left", async () => {
    const child = spawn(
      process.execPath,
      [join(REPO_ROOT, "bin", "lcanvas.mjs"), "play", demo.project, "--driver", "null"],
      {
        cwd: REPO_ROOT,
      },
    );
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const deadline = Date.now() + 30_000;
    while (!/Alpha beat/.test(stdout) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    const summary = JSON.parse(stdout.trim().split("\n").at(-1)!) as { interrupted: boolean };
    expect(summary.interrupted).toBe(true);
    expect(existsSync(join(demo.project, "library", "graph.sqlite.lock"))).toBe(false);
  }, 60_000);

  it("ends cleanly when its stdout is closed (piped into head): exit 0, no library lock left", async () => {
    const child = spawn(
      process.execPath,
      [join(REPO_ROOT, "bin", "lcanvas.mjs"), "play", demo.project, "--driver", "null"],
      {
        cwd: REPO_ROOT,
      },
    );
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    child.stdout.once("data", () => child.stdout.destroy());
    expect(await exited).toBe(0);
    expect(stderr).not.toMatch(/EPIPE|internal error/);
    expect(existsSync(join(demo.project, "library", "graph.sqlite.lock"))).toBe(false);
  }, 60_000);

  it("falls back to the null driver with a note when no audio server is reachable", async () => {
    const env = {
      ...process.env,
      JACK_NO_START_SERVER: "1",
      PULSE_SERVER: "unix:/nonexistent",
      JACK_DEFAULT_SERVER: "lc-none",
    };
    const result = await runCli(["play", demo.project, "--api", "jack", "--seconds", "0.3"], env, 60_000);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/note: no audio device or server available .*null driver/);
  }, 60_000);

  it("names a missing project and what to do", async () => {
    const result = await runCli(["play", join(demo.root, "nope"), "--driver", "null"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/the folder .*nope does not exist/);
    expect(result.stderr).not.toMatch(/internal error/);
  });

  it("refuses a corrupt document and leaves it untouched", async () => {
    const file = join(demo.project, "project.lcanvas.json");
    const original = readFileSync(file, "utf8");
    const corrupt = original.replace('"bpm": 110', '"bpm": "fast"');
    writeFileSync(file, corrupt);
    try {
      for (const args of [
        ["play", demo.project, "--driver", "null", "--seconds", "1"],
        ["bounce", demo.project, "--out", join(demo.root, "x.wav")],
      ]) {
        const result = await runCli(args);
        expect(result.code).toBe(1);
        expect(result.stderr).toMatch(/project\.lcanvas\.json.*bpm/s);
        expect(result.stderr).not.toMatch(/internal error/);
        expect(readFileSync(file, "utf8")).toBe(corrupt);
      }
    } finally {
      writeFileSync(file, original);
    }
  });

  it("names a missing SoundFont and a missing encoding, and what to do", async () => {
    const file = join(demo.project, "project.lcanvas.json");
    const before = readFileSync(file, "utf8");
    const env = { ...process.env, LCANVAS_SOUNDFONT: join(demo.root, "none.sf2") };
    const font = await runCli(["bounce", demo.project, "--out", join(demo.root, "f.wav")], env);
    expect(font.code).toBe(1);
    expect(font.stderr).toMatch(/none\.sf2 does not exist.*install a General MIDI SoundFont/s);

    const other = await demoProject();
    try {
      rmSync(join(other.project, "library", "objects"), { recursive: true, force: true });
      const missing = await runCli(["bounce", other.project, "--out", join(other.root, "m.wav")]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(
        /library .* lacks the encoding [0-9a-f]{32} of region "Groove".*import that file again/,
      );
      expect(missing.stderr).not.toMatch(/internal error/);
      expect(existsSync(join(other.root, "m.wav"))).toBe(false);
    } finally {
      other.dispose();
    }
    expect(readFileSync(file, "utf8")).toBe(before);
  }, 60_000);

  it("rejects bad options with the usage", async () => {
    const bits = await runCli(["bounce", demo.project, "--out", "x.wav", "--bits", "12"]);
    expect(bits.code).toBe(2);
    expect(bits.stderr).toMatch(/--bits must be 16, 24 or 32f.*\nusage: lcanvas bounce/s);
    const driver = await runCli(["play", demo.project, "--driver", "wasapi"]);
    expect(driver.code).toBe(2);
    expect(driver.stderr).toMatch(/--driver must be rtaudio or null/);
    const head = await runCli(["bounce", demo.project, "--out", join(demo.root, "y.wav"), "--head", "Gamma"]);
    expect(head.code).toBe(1);
    expect(head.stderr).toMatch(/no attention head "Gamma"/);
  }, 60_000);
});
