import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseWav, writeWav } from "../../../app/spaces/audio/wav";
import { importBytes } from "../../../app/spaces/import";
import type { MidiSequence } from "../../../app/spaces/midi/sequence";
import { importMidi, writeMidi } from "../../../app/spaces/midi/smf";
import {
  defaultProjections,
  type Projection,
  ProjectionError,
  ProjectionRegistry,
} from "../../../app/spaces/projections";
import { findSoundFont } from "../../../app/spaces/synth/soundfonts";
import { type Library, openLibrary } from "../../../app/store/index";

const TUNE = `X:1
T:Projection test
M:4/4
L:1/8
Q:1/4=120
K:G
|: GABc d2 B2 | c2 A2 B2 G2 :|
`;

function phrase(): MidiSequence {
  return {
    ppq: 480,
    tempos: [{ tick: 0, bpm: 120 }],
    meters: [{ tick: 0, numerator: 4, denominator: 4 }],
    tracks: [
      {
        name: "piano",
        channel: 0,
        program: 0,
        notes: [
          { pitch: 60, velocity: 100, startTick: 0, durationTicks: 480 },
          { pitch: 64, velocity: 90, startTick: 480, durationTicks: 480 },
        ],
        controlChanges: [],
      },
    ],
    durationTicks: 960,
  };
}

function tone(sampleRate: number, frames: number): Uint8Array {
  const left = new Float32Array(frames).map((_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * i) / sampleRate));
  const right = left.map((v) => -v);
  return writeWav({ sampleRate, frames, channelData: [left, right] }, "32f").bytes;
}

let dir: string;
let library: Library;
const registry = defaultProjections();

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lc-projections-"));
  library = await openLibrary(join(dir, "library"));
});
afterEach(async () => {
  await library.close();
  await rm(dir, { recursive: true, force: true });
});

async function runTwice(name: string, inputId: string, params: Record<string, unknown>) {
  const count = await library.graph.count();
  const first = await registry.runByIds(name, [inputId], params, library);
  const afterFirst = await library.graph.count();
  const second = await registry.runByIds(name, [inputId], params, library);
  expect(second.id).toBe(first.id);
  expect(second.hash).toBe(first.hash);
  expect(await library.graph.count()).toBe(afterFirst);
  const parents = await library.graph.parents(first.id);
  expect(parents.map((edge) => edge.parentId)).toEqual([inputId]);
  expect(parents[0]!.tool?.name).toBe(name);
  return { artifact: first, added: afterFirst - count };
}

describe("the projection registry", () => {
  it("lists the built-in projections and finds them by (from, to, name)", () => {
    expect(registry.list().map((p) => `${p.from}->${p.to}:${p.name}`)).toEqual([
      "abc->midi:abc->midi",
      "audio->audio:audio->audio.gain",
      "audio->audio:audio->audio.resample",
      "midi->audio:midi->audio.sf2",
    ]);
    expect(registry.get("abc", "midi").name).toBe("abc->midi");
    expect(registry.get("audio", "audio", "audio->audio.gain").params).toEqual(["gainDb"]);
    expect(registry.byName("abc->midi").params).toEqual(["tune"]);
    expect(() => registry.get("audio", "audio")).toThrow(/2 projections go audio -> audio .*; name one/);
    expect(() => registry.get("midi", "abc")).toThrow(/no projection goes midi -> abc; known: abc->midi/);
    expect(() => registry.get("audio", "midi", "abc->midi")).toThrow(
      /"abc->midi" goes abc -> midi, not audio -> midi/,
    );
    expect(() => registry.byName("midi->tokens")).toThrow(ProjectionError);
    const extra: Projection = { ...registry.byName("abc->midi") };
    expect(() => new ProjectionRegistry().register(extra).register(extra)).toThrow(/already registered/);
  });

  it("refuses the wrong input space, unknown parameters, bad values and unknown artifacts", async () => {
    const midi = await importBytes(library, writeMidi(phrase()), "phrase.mid");
    await expect(registry.runByIds("audio->audio.gain", [midi.id], { gainDb: -6 }, library)).rejects.toThrow(
      /reads audio, but artifact .* is midi; pick a audio artifact or a projection from midi/,
    );
    const wav = await importBytes(library, tone(48_000, 4800), "tone.wav");
    await expect(registry.runByIds("audio->audio.gain", [wav.id], { gain: -6 }, library)).rejects.toThrow(
      /has no parameter "gain"; it takes: gainDb/,
    );
    await expect(
      registry.runByIds("audio->audio.gain", [wav.id], { gainDb: "loud" }, library),
    ).rejects.toThrow(/gainDb is "loud"; use a number from -144 to 48/);
    await expect(registry.runByIds("audio->audio.gain", [wav.id], {}, library)).rejects.toThrow(
      /needs the parameter "gainDb"/,
    );
    await expect(registry.runByIds("abc->midi", ["artifact_missing"], {}, library)).rejects.toThrow(
      /no artifact has id "artifact_missing"/,
    );
  });

  it("abc -> midi gives the import's own MIDI child again (same hash, same artifact, no duplicate)", async () => {
    const imported = await importBytes(library, new TextEncoder().encode(TUNE), "tune.abc");
    const { artifact, added } = await runTwice("abc->midi", imported.id, {});
    expect(added).toBe(0);
    expect(artifact.id).toBe(imported.derived[0]!.id);
    expect(artifact.space).toBe("midi");
    const sequence = importMidi(await library.store.get(artifact.hash), "out").sequence;
    expect(sequence.tracks.flatMap((t) => t.notes)).toHaveLength(20); // 10 notes, repeated
  });

  it("abc -> midi reads the tune asked for in a tune book: the import's child of that tune again", async () => {
    const book = "X:1\nT:A\nK:C\nC D\n\nX:2\nT:B\nK:C\nE F G\n\nX:3\nT:C\nK:C\nA B c d\n";
    const imported = await importBytes(library, new TextEncoder().encode(book), "book.abc");
    expect(imported.derived).toHaveLength(3);
    const { artifact, added } = await runTwice("abc->midi", imported.id, { tune: 3 });
    expect(added).toBe(0);
    expect(artifact.id).toBe(imported.derived[2]!.id);
    const sequence = importMidi(await library.store.get(artifact.hash), "out").sequence;
    expect(sequence.tracks.flatMap((t) => t.notes.map((n) => n.pitch))).toEqual([69, 71, 72, 74]);
    await expect(registry.runByIds("abc->midi", [imported.id], { tune: 4 }, library)).rejects.toThrow(
      /there is no tune 4: the file has 3 tunes/,
    );
    await expect(registry.runByIds("abc->midi", [imported.id], { tune: 1.5 }, library)).rejects.toThrow(
      /tune is 1\.5; use a whole number from 1/,
    );
  });

  it("midi -> audio renders through the SoundFont to float WAV with the synth's tool record", async () => {
    const soundfont = findSoundFont();
    const midi = await importBytes(library, writeMidi(phrase()), "phrase.mid");
    const params = { sampleRate: 24_000, tailSeconds: 0.5, workers: 1 };
    const { artifact, added } = await runTwice("midi->audio.sf2", midi.id, params);
    expect(added).toBe(1);
    expect(artifact.space).toBe("audio");
    expect(artifact.mediaType).toBe("audio/wav");
    expect(artifact.tool?.kind).toBe("projection");
    expect(artifact.tool?.params).toMatchObject({
      soundfontPath: soundfont.path,
      sampleRate: 24_000,
      effects: false,
      tailSeconds: 0.5,
    });
    expect(artifact.tool?.params.soundfontHash).toMatch(/^[0-9a-f]{32}$/);
    const { audio, info } = parseWav(await library.store.get(artifact.hash), "render");
    expect(info.sampleFormat).toBe("float32");
    expect(audio.sampleRate).toBe(24_000);
    expect(audio.channelData).toHaveLength(2);
    expect(audio.frames).toBe(24_000 * 1.5); // 1 s of notes + 0.5 s tail
    let peak = 0;
    for (const v of audio.channelData[0]!.subarray(0, 12_000)) peak = Math.max(peak, Math.abs(v));
    expect(peak).toBeGreaterThan(0.01);
    // Two threads render the same bits (bounceMidi is thread-count independent): same artifact again.
    const parallel = await registry.runByIds(
      "midi->audio.sf2",
      [midi.id],
      { ...params, workers: 2 },
      library,
    );
    expect(parallel.hash).toBe(artifact.hash);
  });

  it("audio -> audio gain scales every sample by 10^(dB/20) in float32", async () => {
    const wav = await importBytes(library, tone(48_000, 4800), "tone.wav");
    const { artifact, added } = await runTwice("audio->audio.gain", wav.id, { gainDb: -6 });
    expect(added).toBe(1);
    const source = parseWav(tone(48_000, 4800), "in").audio;
    const out = parseWav(await library.store.get(artifact.hash), "out").audio;
    const factor = Math.fround(10 ** (-6 / 20));
    expect(out.frames).toBe(4800);
    for (const c of [0, 1]) {
      for (let i = 0; i < out.frames; i += 97) {
        expect(out.channelData[c]![i]).toBe(Math.fround(source.channelData[c]![i]! * factor));
      }
    }
    const louder = await registry.runByIds("audio->audio.gain", [wav.id], { gainDb: 3 }, library);
    expect(louder.hash).not.toBe(artifact.hash);
  });

  it("audio -> audio resample converts the rate and keeps the length in seconds", async () => {
    const wav = await importBytes(library, tone(48_000, 48_000), "tone.wav");
    const { artifact, added } = await runTwice("audio->audio.resample", wav.id, { sampleRate: 32_000 });
    expect(added).toBe(1);
    const out = parseWav(await library.store.get(artifact.hash), "out").audio;
    expect(out.sampleRate).toBe(32_000);
    expect(Math.abs(out.frames - 32_000)).toBeLessThanOrEqual(1);
    expect(artifact.tool?.params).toMatchObject({ sampleRate: 32_000, resampler: { name: "libsamplerate" } });
  });
});
