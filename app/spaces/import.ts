// The import and export pipeline of encodings: recognises a file (MIDI, WAV/FLAC/MP3/Ogg Vorbis, ABC), parses
// and decodes it completely, and only then stores it in the library (original bytes once; each tune of an ABC file
// gets its `abc -> midi` projection as a child; audio keeps only the original unless the decoded form is asked
// for). Export turns an artifact back into a MIDI or WAV file (midi/abc to WAV through the projection registry's
// synthesizer).
// Callers: the CLI (app/cli/commands/encodings.ts), the engine host. Throws EncodingError for bad input.
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { basename, extname } from "node:path";
import type { Artifact, ArtifactGraph, ContentStore, NewArtifact } from "../store/types";
import { type AbcTune, abcProjectionParams, listAbcTunes, parseAbc } from "./abc/parse";
import { decodeAudio, sniffAudio } from "./audio/decode";
import { RESAMPLER, resample } from "./audio/resample";
import { type PcmAudio, type WavExportDepth, writeWav } from "./audio/wav";
import { EncodingError } from "./errors";
import type { MidiSequence } from "./midi/sequence";
import { importMidi, writeMidi } from "./midi/smf";
import { ticksToBeats, ticksToSeconds } from "./midi/tempo";

export const DEFAULT_PROJECT_RATE = 48_000;
const CREATOR = "lcanvas import";

export interface LibraryHandles {
  readonly store: ContentStore;
  readonly graph: ArtifactGraph;
}

export interface ImportOptions {
  /** The project's sample rate: audio is decoded and resampled to it (default 48000). */
  readonly projectRate?: number;
  /** Also store the decoded, resampled audio (32-bit float WAV) as a child artifact. Off by default. */
  readonly storeDecoded?: boolean;
  readonly creator?: string;
}

/** What an import found and stored; printed by `lcanvas import` as one JSON object. */
export interface ImportSummary {
  readonly file: string;
  readonly id: string;
  readonly hash: string;
  readonly space: string;
  readonly mediaType: string;
  readonly found: Readonly<Record<string, unknown>>;
  /** Artifacts derived at import: the MIDI projection of an ABC tune, the decoded audio when asked for. */
  readonly derived: ReadonlyArray<{ readonly id: string; readonly hash: string; readonly space: string }>;
}

type Kind = "midi" | "audio" | "abc";

function startsWith(bytes: Uint8Array, ascii: string): boolean {
  for (let i = 0; i < ascii.length; i++) if (bytes[i] !== ascii.charCodeAt(i)) return false;
  return true;
}

function recognise(bytes: Uint8Array, file: string): Kind {
  if (startsWith(bytes, "MThd")) return "midi";
  const audio = sniffAudio(bytes);
  if (audio !== undefined) return "audio";
  const extension = extname(file).toLowerCase();
  if (extension === ".abc") return "abc";
  if (extension === ".mid" || extension === ".midi" || extension === ".smf") return "midi";
  if ([".wav", ".wave", ".flac", ".mp3", ".ogg", ".oga"].includes(extension)) return "audio";
  const head = new TextDecoder("latin1").decode(bytes.subarray(0, 256));
  if (/^(\uFEFF|\xEF\xBB\xBF)?(%abc|X:)/m.test(head)) return "abc";
  throw new EncodingError(
    file,
    "not a recognised file (MIDI, WAV, FLAC, MP3, Ogg Vorbis or ABC)",
    "Check the file type",
  );
}

function newId(): string {
  return `artifact_${randomBytes(8).toString("hex")}`;
}

export function summariseSequence(sequence: MidiSequence): Record<string, unknown> {
  return {
    tracks: sequence.tracks.length,
    notes: sequence.tracks.reduce((sum, t) => sum + t.notes.length, 0),
    channels: [...new Set(sequence.tracks.map((t) => t.channel))].sort((a, b) => a - b),
    ppq: sequence.ppq,
    durationTicks: sequence.durationTicks,
    durationBeats: ticksToBeats(sequence, sequence.durationTicks),
    durationSeconds: ticksToSeconds(sequence, sequence.durationTicks),
    tempoBpm: sequence.tempos[0]?.bpm ?? 120,
    tempoChanges: sequence.tempos.length,
    meters: sequence.meters.map((m) => `${m.numerator}/${m.denominator}@${m.tick}`),
  };
}

/** Imports one file's bytes; nothing is written unless the whole file parsed. */
export async function importBytes(
  library: LibraryHandles,
  bytes: Uint8Array,
  file: string,
  options: ImportOptions = {},
): Promise<ImportSummary> {
  const creator = options.creator ?? CREATOR;
  const fileName = basename(file);
  const kind = recognise(bytes, file);
  if (kind === "midi") {
    const { sequence, info } = importMidi(bytes, file);
    const found = { ...summariseSequence(sequence), format: info.format, sysexEvents: info.sysexEvents };
    const hash = await library.store.put(bytes);
    const artifact = await library.graph.add({
      hash,
      space: "midi",
      mediaType: "audio/midi",
      creator,
      metadata: { fileName, ...found },
      tool: {
        kind: "import",
        name: "import.midi",
        params: { validator: "lcanvas.smf", parser: "@tonejs/midi@2.0.28" },
      },
    });
    return { file, id: artifact.id, hash, space: "midi", mediaType: "audio/midi", found, derived: [] };
  }
  if (kind === "abc") return importAbc(library, bytes, file, fileName, creator);
  const projectRate = options.projectRate ?? DEFAULT_PROJECT_RATE;
  const decoded = await decodeAudio(bytes, file);
  const mediaType = {
    wav: "audio/wav",
    flac: "audio/flac",
    mp3: "audio/mpeg",
    "ogg-vorbis": "audio/ogg",
  }[decoded.container];
  const decode = {
    decoder: decoded.decoder,
    sampleRate: projectRate,
    resampler: decoded.audio.sampleRate === projectRate ? null : RESAMPLER,
  };
  const found = {
    container: decoded.container,
    sampleRate: decoded.audio.sampleRate,
    channels: decoded.audio.channelData.length,
    frames: decoded.audio.frames,
    durationSeconds: decoded.audio.frames / decoded.audio.sampleRate,
    ...(decoded.bitsPerSample === undefined ? {} : { bitsPerSample: decoded.bitsPerSample }),
    ...(decoded.wav ? { sampleFormat: decoded.wav.sampleFormat } : {}),
    projectRate,
  };
  // The project-rate form is derived on demand (loadAudio); best-quality resampling runs at ~10x realtime for stereo.
  const derivedAudio = options.storeDecoded ? await resample(decoded.audio, projectRate) : null;
  const derivedWav = derivedAudio ? writeWav(derivedAudio, "32f").bytes : null;
  const hash = await library.store.put(bytes);
  const audioId = newId();
  const artifacts: NewArtifact[] = [
    {
      id: audioId,
      hash,
      space: "audio",
      mediaType,
      creator,
      metadata: { fileName, ...found, decode },
      tool: { kind: "import", name: `import.${decoded.container}`, params: { decoder: decoded.decoder } },
    },
  ];
  const derived: Array<{ id: string; hash: string; space: string }> = [];
  if (derivedWav && derivedAudio) {
    const derivedHash = await library.store.put(derivedWav);
    const id = newId();
    artifacts.push({
      id,
      hash: derivedHash,
      space: "audio",
      mediaType: "audio/wav",
      creator,
      metadata: {
        fileName,
        sampleRate: projectRate,
        channels: derivedAudio.channelData.length,
        frames: derivedAudio.frames,
      },
      parents: [audioId],
      tool: { kind: "projection", name: "audio.decode", params: decode },
    });
    derived.push({ id, hash: derivedHash, space: "audio" });
  }
  await library.graph.addMany(artifacts);
  return { file, id: audioId, hash, space: "audio", mediaType, found, derived };
}

/** Reads and imports a file from disk. */
export async function importFile(
  library: LibraryHandles,
  path: string,
  options: ImportOptions = {},
): Promise<ImportSummary> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const problem =
      code === "ENOENT"
        ? "no such file"
        : code === "EISDIR"
          ? "is a folder, not a file"
          : `cannot be read (${code})`;
    throw new EncodingError(path, problem, "Check the path");
  }
  return importBytes(library, bytes, path, options);
}

export type ExportFormat = "mid" | "wav";

export interface ExportOptions {
  readonly format: ExportFormat;
  /** WAV sample format; default the source's own depth (16, 24 or 32f) when it has one of these, else 24. */
  readonly bits?: WavExportDepth;
  /** WAV sample rate; default the source's own rate (a midi or abc artifact: the project rate, 48 kHz). */
  readonly sampleRate?: number;
  /** midi/abc to WAV: the SoundFont setting (else LCANVAS_SOUNDFONT, else the system locations). */
  readonly soundfont?: string;
}

export interface ExportResult {
  readonly bytes: Uint8Array;
  readonly format: ExportFormat;
  /** WAV only: samples saturated at the integer depth (see writeWav). */
  readonly clippedSamples?: number;
  readonly sampleRate?: number;
  /** WAV only: the sample format written. */
  readonly bits?: WavExportDepth;
  /** WAV of a midi/abc artifact: the audio artifact the synthesizer rendered (recorded with lineage). */
  readonly renderedId?: string;
}

const SOURCE_DEPTHS: Readonly<Record<string, WavExportDepth>> = { int16: "16", int24: "24", float32: "32f" };

async function sequenceOf(library: LibraryHandles, artifact: Artifact): Promise<MidiSequence> {
  const bytes = await library.store.get(artifact.hash);
  if (artifact.space === "midi") return importMidi(bytes, artifact.id).sequence;
  return parseAbc(bytes, artifact.id).sequence;
}

/** Decodes an `audio` artifact (the stored original) and resamples it when `sampleRate` differs. */
export async function loadAudio(
  library: LibraryHandles,
  artifact: Artifact,
  sampleRate?: number,
): Promise<PcmAudio> {
  const decoded = await decodeAudio(await library.store.get(artifact.hash), artifact.id);
  return sampleRate === undefined ? decoded.audio : resample(decoded.audio, sampleRate);
}

/** Highest rate the SoundFont synthesizer renders at; higher export rates are resampled from it. */
const MAX_SYNTH_RATE = 192_000;

/**
 * WAV export of a midi (or abc) artifact: projected through the registry's `abc->midi` (abc only) and
 * `midi->audio.sf2` with the discovered SoundFont (the setting, LCANVAS_SOUNDFONT, the system locations), so the
 * rendered audio is recorded in the library as a child artifact with its lineage; then written at `bits`
 * (default 24) and the asked rate (default the project rate).
 */
async function exportSynthesized(
  library: LibraryHandles,
  artifact: Artifact,
  options: ExportOptions,
): Promise<ExportResult> {
  const { defaultProjections, ProjectionError } = await import("./projections");
  const { SoundFontError } = await import("./synth/soundfonts");
  const { SYNTH_PROJECTION_NAME } = await import("./synth/lineage");
  const sampleRate = options.sampleRate ?? DEFAULT_PROJECT_RATE;
  const registry = defaultProjections();
  const handles = { store: library.store, graph: library.graph, creator: "lcanvas export" };
  let rendered: Artifact;
  try {
    const midi =
      artifact.space === "abc"
        ? await registry.run(registry.get("abc", "midi"), [artifact], {}, handles)
        : artifact;
    rendered = await registry.run(
      registry.byName(SYNTH_PROJECTION_NAME),
      [midi],
      {
        sampleRate: Math.min(sampleRate, MAX_SYNTH_RATE),
        ...(options.soundfont === undefined ? {} : { soundfont: options.soundfont }),
      },
      handles,
    );
  } catch (error) {
    if (error instanceof SoundFontError) {
      throw new EncodingError(artifact.id, `WAV export of a ${artifact.space} artifact: ${error.message}`);
    }
    if (error instanceof ProjectionError) throw new EncodingError(artifact.id, error.message);
    throw error;
  }
  const decoded = await decodeAudio(await library.store.get(rendered.hash), rendered.id);
  const audio =
    decoded.audio.sampleRate === sampleRate ? decoded.audio : await resample(decoded.audio, sampleRate);
  const bits = options.bits ?? "24";
  const { bytes, clippedSamples } = writeWav(audio, bits);
  return {
    format: "wav",
    bytes,
    clippedSamples,
    sampleRate: audio.sampleRate,
    bits,
    renderedId: rendered.id,
  };
}

/** Encodes an artifact as a MIDI (SMF type 1) or WAV file. */
export async function exportArtifact(
  library: LibraryHandles,
  id: string,
  options: ExportOptions,
): Promise<ExportResult> {
  const artifact = await library.graph.get(id);
  if (!artifact)
    throw new EncodingError(
      id,
      "no artifact with this id in the library",
      "List artifacts with `lcanvas query`",
    );
  const symbolic = artifact.space === "midi" || artifact.space === "abc";
  if (options.format === "mid") {
    if (!symbolic) {
      throw new EncodingError(
        id,
        `a ${artifact.space} artifact cannot be exported as MIDI`,
        "Export it with --format wav",
      );
    }
    return { format: "mid", bytes: writeMidi(await sequenceOf(library, artifact)) };
  }
  if (symbolic) return exportSynthesized(library, artifact, options);
  if (artifact.space !== "audio") {
    throw new EncodingError(
      id,
      `a ${artifact.space} artifact cannot be exported as WAV`,
      "Export an audio artifact",
    );
  }
  const decoded = await decodeAudio(await library.store.get(artifact.hash), artifact.id);
  const audio =
    options.sampleRate === undefined ? decoded.audio : await resample(decoded.audio, options.sampleRate);
  const bits = options.bits ?? SOURCE_DEPTHS[decoded.wav?.sampleFormat ?? ""] ?? "24";
  const { bytes, clippedSamples } = writeWav(audio, bits);
  return { format: "wav", bytes, clippedSamples, sampleRate: audio.sampleRate, bits };
}

/**
 * An ABC file: the file is stored once, and every tune that parses gets its `abc -> midi` child (a tune book
 * becomes one MIDI artifact per tune). A tune that does not parse is reported in `found.skippedTunes` and the
 * others are imported; when none parses, the first tune's error is thrown and nothing is stored.
 */
async function importAbc(
  library: LibraryHandles,
  bytes: Uint8Array,
  file: string,
  fileName: string,
  creator: string,
): Promise<ImportSummary> {
  const refs = listAbcTunes(bytes, file);
  const parsed: AbcTune[] = [];
  const skippedTunes: Array<{ tune: number; x: string; title: string; error: string }> = [];
  let firstError: unknown;
  for (const ref of refs) {
    try {
      parsed.push(parseAbc(bytes, file, { tune: ref.tune }));
    } catch (error) {
      if (!(error instanceof EncodingError)) throw error;
      firstError ??= error;
      skippedTunes.push({ tune: ref.tune, x: ref.x, title: ref.title, error: error.message });
    }
  }
  const first = parsed[0];
  if (!first) throw firstError;
  const several = refs.length > 1;
  const found = {
    title: first.title,
    voices: first.voices,
    tunesInFile: first.tunesInFile,
    ...summariseSequence(first.sequence),
    ...(several
      ? {
          tunesImported: parsed.length,
          tunes: parsed.map((t) => {
            const { notes, durationBeats } = summariseSequence(t.sequence);
            return { tune: t.tune, x: t.x, title: t.title, notes, durationBeats };
          }),
          skippedTunes,
        }
      : {}),
  };
  const abcHash = await library.store.put(bytes);
  const abcId = newId();
  const artifacts: NewArtifact[] = [
    {
      id: abcId,
      hash: abcHash,
      space: "abc",
      mediaType: "text/vnd.abc",
      creator,
      metadata: { fileName, title: first.title, fields: first.fields, tunesInFile: first.tunesInFile },
      tool: { kind: "import", name: "import.abc", params: {} },
    },
  ];
  const derived: Array<{ id: string; hash: string; space: string }> = [];
  for (const tune of parsed) {
    const midiHash = await library.store.put(writeMidi(tune.sequence));
    const midiId = newId();
    artifacts.push({
      id: midiId,
      hash: midiHash,
      space: "midi",
      mediaType: "audio/midi",
      creator,
      metadata: {
        fileName,
        title: tune.title,
        ...(several ? { tune: tune.tune, x: tune.x } : {}),
        ...summariseSequence(tune.sequence),
      },
      parents: [abcId],
      tool: { kind: "projection", name: "abc->midi", params: abcProjectionParams(tune) },
    });
    derived.push({ id: midiId, hash: midiHash, space: "midi" });
  }
  await library.graph.addMany(artifacts);
  return { file, id: abcId, hash: abcHash, space: "abc", mediaType: "text/vnd.abc", found, derived };
}
