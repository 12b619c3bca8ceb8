import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseWav } from "../../app/spaces/audio/wav";
import { EncodingError } from "../../app/spaces/errors";
import { exportArtifact, importBytes, importFile, loadAudio } from "../../app/spaces/import";
import { importMidi } from "../../app/spaces/midi/smf";
import { type Library, openLibrary, runGraphQuery } from "../../app/store/index";
import { multiTrackSmf } from "./support/smf-bytes";
import { integerSamples, wavBytes } from "./support/wav-bytes";

let dir: string;
let library: Library;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "lc-import-"));
  library = await openLibrary(join(dir, "library"));
});
afterEach(async () => {
  await library.close();
  rmSync(dir, { recursive: true, force: true });
});

async function storedObjects(): Promise<string[]> {
  const hashes: string[] = [];
  for await (const hash of library.store.list()) hashes.push(hash);
  return hashes.sort();
}

async function artifactCount(): Promise<number> {
  const result = await runGraphQuery(library.graph, "{ artifactCount }");
  return (result.data as { artifactCount: number }).artifactCount;
}

describe("import pipeline", () => {
  it("stores a MIDI file once, as a midi artifact with what was found", async () => {
    const bytes = multiTrackSmf();
    const summary = await importBytes(library, bytes, "song.mid");
    expect(summary.space).toBe("midi");
    expect(summary.found).toMatchObject({ tracks: 4, notes: 8, ppq: 480, tempoBpm: 120, tempoChanges: 3 });
    expect(await library.store.get(summary.hash)).toEqual(bytes);
    const artifact = await library.graph.get(summary.id);
    expect(artifact?.metadata).toMatchObject({ fileName: "song.mid", format: 1 });
    expect(await storedObjects()).toEqual([summary.hash]);
    const exported = await exportArtifact(library, summary.id, { format: "mid" });
    expect(importMidi(exported.bytes, "out.mid").sequence).toEqual(importMidi(bytes, "in.mid").sequence);
  });

  it("imports ABC as an abc artifact with a midi child made by the abc->midi projection", async () => {
    const path = join(import.meta.dirname, "../fixtures/abc/reel-with-endings.abc");
    const summary = await importFile(library, path);
    expect(summary.space).toBe("abc");
    expect(summary.found).toMatchObject({
      title: "The Canvas Reel",
      notes: 29,
      durationBeats: 24,
      tempoBpm: 180,
    });
    expect(summary.found["durationSeconds"]).toBeCloseTo(8, 9);
    const [midi] = summary.derived;
    const edges = await library.graph.parents(midi!.id);
    expect(edges).toHaveLength(1);
    expect(edges[0]!.parentId).toBe(summary.id);
    expect(edges[0]!.tool).toMatchObject({
      kind: "projection",
      name: "abc->midi",
      params: { ppq: 480, repeats: "expanded" },
    });
    expect(new TextDecoder().decode(await library.store.get(summary.hash))).toBe(readFileSync(path, "utf8"));
    const stored = importMidi(await library.store.get(midi!.hash), "p.mid").sequence;
    expect(stored.tracks[0]!.notes).toHaveLength(29);
    const fromAbc = await exportArtifact(library, summary.id, { format: "mid" });
    expect(Buffer.from(fromAbc.bytes).equals(Buffer.from(await library.store.get(midi!.hash)))).toBe(true);
  });

  it("imports every tune of an ABC tune book; a tune that does not parse is reported, the others kept", async () => {
    const book = [
      "%abc-2.1",
      "L:1/4",
      "",
      "X:1",
      "T:First",
      "K:C",
      "C D E F|",
      "",
      "X:7",
      "T:Broken",
      "K:C",
      "C D [E|",
      "",
      "X:12",
      "T:Third",
      "L:1/8",
      "K:G",
      "G A B c|",
      "",
    ].join("\n");
    const summary = await importBytes(library, new TextEncoder().encode(book), "book.abc");
    expect(summary.space).toBe("abc");
    expect(summary.found).toMatchObject({ title: "First", tunesInFile: 3, tunesImported: 2 });
    expect(summary.found["tunes"]).toEqual([
      { tune: 1, x: "1", title: "First", notes: 4, durationBeats: 4 },
      { tune: 3, x: "12", title: "Third", notes: 4, durationBeats: 2 },
    ]);
    const skipped = summary.found["skippedTunes"] as Array<{ tune: number; x: string; error: string }>;
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toMatchObject({ tune: 2, x: "7", title: "Broken" });
    expect(skipped[0]!.error).toMatch(/^book\.abc: 12:\d+: unexpected "\|" inside a chord/);
    expect(summary.derived).toHaveLength(2);
    const third = importMidi(await library.store.get(summary.derived[1]!.hash), "t.mid").sequence;
    // G major: F is sharp; its own L:1/8 overrides the file header's L:1/4.
    expect(third.tracks[0]!.notes.map((n) => n.pitch)).toEqual([67, 69, 71, 72]);
    const first = importMidi(await library.store.get(summary.derived[0]!.hash), "f.mid").sequence;
    // The file header's L:1/4 applies to the first tune: four quarter notes.
    expect(first.tracks[0]!.notes.map((n) => n.durationTicks)).toEqual([480, 480, 480, 480]);
    for (const [index, child] of summary.derived.entries()) {
      const edges = await library.graph.parents(child.id);
      expect(edges.map((e) => e.parentId)).toEqual([summary.id]);
      expect(edges[0]!.tool).toMatchObject({ name: "abc->midi", params: { tune: index === 0 ? 1 : 3 } });
    }
    expect(await artifactCount()).toBe(3);
  });

  it("refuses an ABC tune book in which no tune parses, names the first error and stores nothing", async () => {
    const book = "X:1\nT:A\nK:C\nC [D\n\nX:2\nT:B\nK:C\nE [F\n";
    await expect(importBytes(library, new TextEncoder().encode(book), "none.abc")).rejects.toThrow(
      /^none\.abc: 4:\d+: /,
    );
    expect(await storedObjects()).toEqual([]);
    expect(await artifactCount()).toBe(0);
  });

  it("stores the original audio once, records the decode parameters and derives the project-rate form", async () => {
    const interleaved = integerSamples(2 * 4410, 16);
    const bytes = wavBytes({ depth: "16", sampleRate: 44100, channels: 2, interleaved });
    const summary = await importBytes(library, bytes, "take.wav", { projectRate: 48000 });
    expect(summary.found).toMatchObject({
      container: "wav",
      sampleRate: 44100,
      channels: 2,
      frames: 4410,
      bitsPerSample: 16,
    });
    expect(summary.derived).toEqual([]);
    expect(await storedObjects()).toEqual([summary.hash]);
    const artifact = (await library.graph.get(summary.id))!;
    expect(artifact.metadata["decode"]).toMatchObject({
      sampleRate: 48000,
      resampler: { name: "libsamplerate", converter: "SRC_SINC_BEST_QUALITY" },
    });
    const derived = await loadAudio(library, artifact, 48000);
    expect(derived.frames).toBe(4800);
    const same = await exportArtifact(library, summary.id, { format: "wav", bits: "16" });
    expect(Buffer.from(same.bytes).equals(Buffer.from(bytes))).toBe(true);
    const resampled = await exportArtifact(library, summary.id, {
      format: "wav",
      bits: "32f",
      sampleRate: 48000,
    });
    expect(parseWav(resampled.bytes, "r.wav").info).toMatchObject({
      sampleRate: 48000,
      frames: 4800,
      sampleFormat: "float32",
    });
  });

  it("stores the decoded form as a child only when asked", async () => {
    const bytes = wavBytes({
      depth: "24",
      sampleRate: 22050,
      channels: 1,
      interleaved: integerSamples(2205, 24),
    });
    const summary = await importBytes(library, bytes, "x.wav", { projectRate: 44100, storeDecoded: true });
    expect(summary.derived).toHaveLength(1);
    const edges = await library.graph.parents(summary.derived[0]!.id);
    expect(edges[0]).toMatchObject({
      parentId: summary.id,
      tool: { kind: "projection", name: "audio.decode" },
    });
    const decoded = parseWav(await library.store.get(summary.derived[0]!.hash), "d.wav");
    expect(decoded.info).toMatchObject({ sampleRate: 44100, frames: 4410, sampleFormat: "float32" });
  });

  it("imports FLAC made by sox and exports it as WAV with the same samples", async () => {
    const wav = join(dir, "s.wav");
    const flac = join(dir, "s.flac");
    execFileSync("sox", [
      "-D",
      "-n",
      "-r",
      "48000",
      "-c",
      "2",
      "-b",
      "24",
      wav,
      "synth",
      "0.2",
      "sine",
      "440",
    ]);
    execFileSync("sox", [wav, flac]);
    const summary = await importFile(library, flac);
    expect(summary.mediaType).toBe("audio/flac");
    const out = await exportArtifact(library, summary.id, { format: "wav", bits: "24" });
    const a = parseWav(out.bytes, "a.wav");
    const b = parseWav(readFileSync(wav), "b.wav");
    expect(a.info.frames).toBe(b.info.frames);
    expect(
      Buffer.from(a.audio.channelData[1]!.buffer).equals(Buffer.from(b.audio.channelData[1]!.buffer)),
    ).toBe(true);
  });

  it("writes nothing for malformed files and says what was wrong", async () => {
    const bad: Array<[string, Uint8Array]> = [
      ["cut.mid", multiTrackSmf().subarray(0, 60)],
      [
        "cut.wav",
        wavBytes({ depth: "16", sampleRate: 8000, channels: 1, interleaved: [1, 2, 3, 4] }).subarray(0, 40),
      ],
      ["bad.abc", new TextEncoder().encode("X:1\nK:C\nC D [E\n")],
      ["bad.flac", Uint8Array.from([0x66, 0x4c, 0x61, 0x43, 0, 0, 0, 34, 1, 2, 3])],
    ];
    for (const [name, bytes] of bad) {
      await expect(importBytes(library, bytes, name)).rejects.toThrow(EncodingError);
      await expect(importBytes(library, bytes, name)).rejects.toThrow(
        new RegExp(`^${name.replace(".", "\\.")}: `),
      );
    }
    expect(await storedObjects()).toEqual([]);
    expect(await artifactCount()).toBe(0);
  });

  it("refuses WAV export of MIDI without a SoundFont and MIDI export of audio with a clear error", async () => {
    const midi = await importBytes(library, multiTrackSmf(), "a.mid");
    await expect(
      exportArtifact(library, midi.id, { format: "wav", soundfont: "/nonexistent/font.sf2" }),
    ).rejects.toThrow(new RegExp(`^${midi.id}: WAV export of a midi artifact: .*font\\.sf2`));
    const wav = await importBytes(
      library,
      wavBytes({ depth: "16", sampleRate: 8000, channels: 1, interleaved: [1, 2] }),
      "b.wav",
    );
    await expect(exportArtifact(library, wav.id, { format: "mid" })).rejects.toThrow(
      /cannot be exported as MIDI/,
    );
    await expect(exportArtifact(library, "artifact_nope", { format: "mid" })).rejects.toThrow(
      /no artifact with this id/,
    );
  });
});
