import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseWav } from "../../../app/spaces/audio/wav";
import { importMidi, writeMidi } from "../../../app/spaces/midi/smf";
import { bounceMidiSerial } from "../../../app/spaces/synth/bounce";
import { benchmarkSong } from "../../../bench/synth/song";
import { TIMGM6MB } from "./fixtures";

const run = promisify(execFile);
let dir: string;
let midiPath: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "lc-synth-cli-"));
  midiPath = join(dir, "song.mid");
  writeFileSync(midiPath, writeMidi(benchmarkSong(4)));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function lcanvas(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run("node", ["bin/lcanvas.mjs", ...args], { cwd: process.cwd() });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe("lcanvas synth render", () => {
  it("writes a 32-bit float WAV equal to the library's one-thread render", { timeout: 120_000 }, async () => {
    const out = join(dir, "song.wav");
    const result = await lcanvas([
      "synth",
      "render",
      midiPath,
      "--out",
      out,
      "--soundfont",
      TIMGM6MB,
      "--depth",
      "32f",
    ]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as {
      frames: number;
      channelGroups: number[][];
      sampleRate: number;
      synth: string;
    };
    expect(report.sampleRate).toBe(48_000);
    expect(report.synth).toMatch(/^fluidsynth@/);
    const { audio } = parseWav(readFileSync(out), out);
    expect(audio.frames).toBe(report.frames);
    const { sequence } = importMidi(readFileSync(midiPath), midiPath);
    const reference = await bounceMidiSerial({ sequence, soundfontPath: TIMGM6MB, sampleRate: 48_000 });
    expect(reference.frames).toBe(audio.frames);
    let differences = 0;
    for (let i = 0; i < audio.frames; i++) {
      if (audio.channelData[0]![i] !== reference.interleaved[2 * i]) differences++;
      if (audio.channelData[1]![i] !== reference.interleaved[2 * i + 1]) differences++;
    }
    expect(differences).toBe(0);
  });

  it("--synth spessasynth renders with the fallback; an unknown synthesizer is refused by name", {
    timeout: 120_000,
  }, async () => {
    const out = join(dir, "spessa.wav");
    const args = ["synth", "render", midiPath, "--out", out, "--soundfont", TIMGM6MB, "--depth", "32f"];
    const spessa = await lcanvas([...args, "--synth", "spessasynth"]);
    expect(spessa.code).toBe(0);
    expect((JSON.parse(spessa.stdout) as { synth: string }).synth).toMatch(/^spessasynth@/);
    const { sequence } = importMidi(readFileSync(midiPath), midiPath);
    const reference = await bounceMidiSerial({
      sequence,
      soundfontPath: TIMGM6MB,
      sampleRate: 48_000,
      synth: "spessasynth",
    });
    const { audio } = parseWav(readFileSync(out), out);
    let differences = 0;
    for (let i = 0; i < audio.frames; i++)
      if (audio.channelData[0]![i] !== reference.interleaved[2 * i]) differences++;
    expect(differences).toBe(0);
    const unknown = await lcanvas([...args, "--synth", "timidity"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown synthesizer "timidity"; use one of: fluidsynth, spessasynth/);
  });

  it("says what is wrong with a missing SoundFont or MIDI file", { timeout: 120_000 }, async () => {
    const noFont = await lcanvas([
      "synth",
      "render",
      midiPath,
      "--out",
      join(dir, "x.wav"),
      "--soundfont",
      "/no/font.sf2",
    ]);
    expect(noFont.code).toBe(1);
    expect(noFont.stderr).toMatch(/\/no\/font\.sf2 does not exist.*timgm6mb-soundfont/);
    const noMidi = await lcanvas(["synth", "render", join(dir, "missing.mid"), "--out", join(dir, "x.wav")]);
    expect(noMidi.code).toBe(1);
    expect(noMidi.stderr).toMatch(/cannot read .*missing\.mid/);
    const usage = await lcanvas(["synth", "render", midiPath]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--out OUT\.wav is required/);
  });
});

describe("lcanvas sample markov", () => {
  it("writes the same MIDI bytes for the same seed and different bytes for another seed", {
    timeout: 120_000,
  }, async () => {
    const outputs: Buffer[] = [];
    for (const [name, seed] of [
      ["a.mid", "11"],
      ["b.mid", "11"],
      ["c.mid", "12"],
    ] as const) {
      const out = join(dir, name);
      const result = await lcanvas([
        "sample",
        "markov",
        midiPath,
        "--bars",
        "4",
        "--seed",
        seed,
        "--temperature",
        "0.9",
        "--out",
        out,
      ]);
      expect(result.code).toBe(0);
      outputs.push(readFileSync(out));
    }
    expect(outputs[0]!.equals(outputs[1]!)).toBe(true);
    expect(outputs[0]!.equals(outputs[2]!)).toBe(false);
    const { sequence } = importMidi(outputs[0]!, "a.mid");
    expect(sequence.tracks.length).toBe(5);
    const bad = await lcanvas([
      "sample",
      "markov",
      midiPath,
      "--temperature=-2",
      "--out",
      join(dir, "d.mid"),
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/temperature is -2/);
  });
});
