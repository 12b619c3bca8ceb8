import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseWav } from "../../app/spaces/audio/wav";
import { importMidi } from "../../app/spaces/midi/smf";
import { ticksToSeconds } from "../../app/spaces/midi/tempo";
import { openLibrary } from "../../app/store";
import { multiTrackSmf, type0Smf } from "./support/smf-bytes";
import { integerSamples, wavBytes } from "./support/wav-bytes";

const repo = join(import.meta.dirname, "../..");
const dir = mkdtempSync(join(tmpdir(), "lc-cli-enc-"));
const store = join(dir, "library");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function lcanvas(...args: string[]) {
  const result = spawnSync(process.execPath, [join(repo, "bin/lcanvas.mjs"), ...args], {
    cwd: dir,
    encoding: "utf8",
  });
  const lines = result.stdout.split("\n").filter(Boolean);
  return {
    code: result.status,
    lines: lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    stderr: result.stderr,
  };
}

describe("lcanvas import / export", { timeout: 90_000 }, () => {
  const wav = wavBytes({
    depth: "24",
    sampleRate: 44100,
    channels: 3,
    interleaved: integerSamples(3 * 500, 24),
  });
  writeFileSync(join(dir, "song.mid"), multiTrackSmf());
  writeFileSync(join(dir, "type0.mid"), type0Smf());
  writeFileSync(join(dir, "take.wav"), wav);
  writeFileSync(join(dir, "broken.wav"), wav.subarray(0, 100));
  writeFileSync(join(dir, "tune.abc"), "X:1\nT:Tiny\nM:3/4\nL:1/4\nQ:1/4=90\nK:G\nG A B | d3 |]\n");

  it("imports several files, prints one JSON object each, reports a bad one and still imports the rest", () => {
    const run = lcanvas(
      "import",
      "song.mid",
      "broken.wav",
      "take.wav",
      "tune.abc",
      "--store",
      store,
      "--rate",
      "48000",
    );
    expect(run.code).toBe(1);
    expect(run.lines).toHaveLength(4);
    const [midi, broken, audio, abc] = run.lines;
    expect(midi).toMatchObject({ space: "midi", found: { tracks: 4, notes: 8, tempoBpm: 120 } });
    expect(midi!["id"]).toMatch(/^artifact_/);
    expect(midi!["hash"]).toMatch(/^[0-9a-f]{32}$/);
    expect(broken).toMatchObject({ file: "broken.wav" });
    expect(String(broken!["error"])).toMatch(/^broken\.wav: truncated/);
    expect(run.stderr).toMatch(/broken\.wav: truncated/);
    expect(audio).toMatchObject({
      space: "audio",
      found: { sampleRate: 44100, channels: 3, frames: 500, projectRate: 48000 },
    });
    expect(abc).toMatchObject({
      space: "abc",
      found: { title: "Tiny", notes: 4, durationBeats: 6, durationSeconds: 4, tempoBpm: 90 },
    });
  });

  it("exports MIDI that keeps every note and WAV that is bit-identical to the original", () => {
    const imported = lcanvas("import", "type0.mid", "take.wav", "--store", store);
    expect(imported.code).toBe(0);
    const [midi, audio] = imported.lines;
    const mid = lcanvas(
      "export",
      String(midi!["id"]),
      "--format",
      "mid",
      "--out",
      "out.mid",
      "--store",
      store,
    );
    expect(mid.code).toBe(0);
    expect(importMidi(readFileSync(join(dir, "out.mid")), "out.mid").sequence).toEqual(
      importMidi(type0Smf(), "in.mid").sequence,
    );
    const out = lcanvas(
      "export",
      String(audio!["id"]),
      "--format",
      "wav",
      "--bits",
      "24",
      "--out",
      "out.wav",
      "--store",
      store,
    );
    expect(out.code).toBe(0);
    expect(out.lines[0]).toMatchObject({ format: "wav", bits: "24", sampleRate: 44100, clippedSamples: 0 });
    expect(readFileSync(join(dir, "out.wav")).equals(Buffer.from(wav))).toBe(true);
  });

  it("exports WAV at the source's depth when --bits is not given (16-bit in, 16-bit out, same bytes)", () => {
    const wav16 = wavBytes({
      depth: "16",
      sampleRate: 48000,
      channels: 2,
      interleaved: integerSamples(2 * 700, 16),
    });
    writeFileSync(join(dir, "take16.wav"), wav16);
    const imported = lcanvas("import", "take16.wav", "--store", store);
    expect(imported.code).toBe(0);
    const id = String(imported.lines[0]!["id"]);
    const out = lcanvas("export", id, "--format", "wav", "--out", "out16.wav", "--store", store);
    expect(out.code).toBe(0);
    expect(out.lines[0]).toMatchObject({ format: "wav", bits: "16", sampleRate: 48000 });
    expect(readFileSync(join(dir, "out16.wav")).equals(Buffer.from(wav16))).toBe(true);
  });

  it("names an --out path it cannot write and what to do, without a stack trace", () => {
    const imported = lcanvas("import", "type0.mid", "--store", store);
    const id = String(imported.lines[0]!["id"]);
    const out = lcanvas("export", id, "--format", "mid", "--out", "no/such/folder/x.mid", "--store", store);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/cannot write no\/such\/folder\/x\.mid \(ENOENT\).*folder exists/);
    expect(out.stderr).not.toMatch(/internal error|at async/);
  });

  it("exports MIDI as WAV through the SoundFont synthesizer, at --bits and --rate, with lineage", async () => {
    const imported = lcanvas("import", "song.mid", "--store", store);
    const id = String(imported.lines[0]!["id"]);
    const run = lcanvas(
      "export",
      id,
      "--format",
      "wav",
      "--bits",
      "16",
      "--rate",
      "44100",
      "--out",
      "song.wav",
      "--store",
      store,
    );
    expect(run.stderr).not.toMatch(/internal error|needs the synthesizer/);
    expect(run.code).toBe(0);
    expect(run.lines[0]).toMatchObject({ id, format: "wav", bits: "16", sampleRate: 44100 });
    const { audio, info } = parseWav(readFileSync(join(dir, "song.wav")), "song.wav");
    expect(info).toMatchObject({ sampleFormat: "int16", bitsPerSample: 16, channels: 2, sampleRate: 44100 });
    // Length: the music (its own tempo map) plus the synthesizer's 2 s release tail.
    const sequence = importMidi(readFileSync(join(dir, "song.mid")), "song.mid").sequence;
    const musicFrames = Math.round(ticksToSeconds(sequence, sequence.durationTicks) * 44100);
    expect(Math.abs(audio.frames - (musicFrames + 2 * 44100))).toBeLessThanOrEqual(1);
    let peak = 0;
    for (const plane of audio.channelData) for (const v of plane) peak = Math.max(peak, Math.abs(v));
    expect(peak).toBeGreaterThan(0.01);
    // The render is an artifact of the library whose parent is the MIDI, made by midi->audio.sf2.
    const library = await openLibrary(store);
    try {
      const children = await library.graph.children(id);
      expect(children.map((edge) => edge.tool?.name)).toContain("midi->audio.sf2");
    } finally {
      await library.close();
    }
  });

  it("names what to install when WAV export of MIDI finds no SoundFont, and rejects bad options with usage", () => {
    const imported = lcanvas("import", "song.mid", "--store", store);
    const id = String(imported.lines[0]!["id"]);
    const result = spawnSync(
      process.execPath,
      [join(repo, "bin/lcanvas.mjs"), "export", id, "--format", "wav", "--out", "x.wav", "--store", store],
      {
        cwd: dir,
        encoding: "utf8",
        env: { ...process.env, LCANVAS_SOUNDFONT: join(dir, "no-such-font.sf2") },
      },
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/no-such-font\.sf2/);
    expect(result.stderr).toMatch(/SoundFont/);
    expect(result.stderr).not.toMatch(/internal error|at async/);
    const usage = lcanvas("export", id, "--format", "ogg", "--out", "x.ogg", "--store", store);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--format must be mid or wav/);
    expect(lcanvas("import", "--store", store).code).toBe(2);
  });
});
