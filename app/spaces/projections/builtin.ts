// The built-in projections: midi -> audio through a SoundFont (app/spaces/synth), abc -> midi (app/spaces/abc),
// audio -> audio gain (dB) and resample (libsamplerate). Each stores its output and records it with lineage via
// recordDerived. Owned by app/spaces/projections; reached through defaultProjections().
import { readFile, stat } from "node:fs/promises";
import { dbToGain } from "../../core/gain";
import { hashBytes } from "../../store/hash";
import type { Artifact } from "../../store/types";
import { abcProjectionParams, parseAbc } from "../abc/parse";
import { RESAMPLER } from "../audio/resample";
import { type PcmAudio, writeWav } from "../audio/wav";
import { loadAudio } from "../import";
import { importMidi, writeMidi } from "../midi/smf";
import { bounceMidi } from "../synth/bounce";
import { SYNTH_PROJECTION_NAME, synthToolRecord } from "../synth/lineage";
import { findSoundFont } from "../synth/soundfonts";
import { recordDerived } from "./record";
import {
  DEFAULT_PROJECTION_CREATOR,
  type Projection,
  ProjectionError,
  type ProjectionHandles,
  type ProjectionParams,
  ProjectionRegistry,
} from "./registry";

export const DEFAULT_SAMPLE_RATE = 48_000;
export const MIN_GAIN_DB = -144;
export const MAX_GAIN_DB = 48;

function numberParam(
  projection: string,
  params: ProjectionParams,
  key: string,
  range: { min: number; max: number; integer?: boolean },
  fallback?: number,
): number {
  const value = params[key];
  if (value === undefined) {
    if (fallback !== undefined) return fallback;
    throw new ProjectionError(`projection "${projection}" needs the parameter "${key}" (a number)`);
  }
  const ok =
    typeof value === "number" &&
    Number.isFinite(value) &&
    value >= range.min &&
    value <= range.max &&
    (!range.integer || Number.isInteger(value));
  if (!ok) {
    throw new ProjectionError(
      `projection "${projection}": ${key} is ${JSON.stringify(value)}; use a ${range.integer ? "whole number" : "number"} from ${range.min} to ${range.max}`,
    );
  }
  return value;
}

function single(projection: string, inputs: readonly Artifact[]): Artifact {
  if (inputs.length !== 1) {
    throw new ProjectionError(
      `projection "${projection}" takes exactly one input artifact, got ${inputs.length}`,
    );
  }
  return inputs[0]!;
}

function creatorOf(handles: ProjectionHandles): string {
  return handles.creator ?? DEFAULT_PROJECTION_CREATOR;
}

function wav32f(audio: PcmAudio): Uint8Array {
  return writeWav(audio, "32f").bytes;
}

function audioMetadata(audio: PcmAudio): Record<string, unknown> {
  return {
    sampleRate: audio.sampleRate,
    channels: audio.channelData.length,
    frames: audio.frames,
    durationSeconds: audio.frames / audio.sampleRate,
  };
}

const soundfontHashes = new Map<string, { key: string; hash: Promise<string> }>();

/** BLAKE3 (128-bit) of a SoundFont file, remembered by path, size and modification time. */
async function soundfontHash(path: string): Promise<string> {
  const info = await stat(path);
  const key = `${info.size}:${info.mtimeMs}`;
  const known = soundfontHashes.get(path);
  if (known && known.key === key) return known.hash;
  const hash = readFile(path).then((bytes) => hashBytes(bytes));
  soundfontHashes.set(path, { key, hash });
  return hash;
}

const midiToAudio: Projection = {
  name: SYNTH_PROJECTION_NAME,
  from: "midi",
  to: "audio",
  summary:
    "render MIDI through a General MIDI SoundFont (.sf2/.sf3) to 32-bit float stereo WAV, using every core",
  params: ["soundfont", "sampleRate", "effects", "tailSeconds", "workers"],
  async run(inputs, params, handles) {
    const input = single(this.name, inputs);
    const explicit = params.soundfont;
    if (explicit !== undefined && typeof explicit !== "string") {
      throw new ProjectionError(`projection "${this.name}": soundfont must be a file path (a string)`);
    }
    const soundfont = findSoundFont({ explicitPath: explicit });
    const sampleRate = numberParam(
      this.name,
      params,
      "sampleRate",
      { min: 8000, max: 192_000, integer: true },
      DEFAULT_SAMPLE_RATE,
    );
    const tailSeconds = numberParam(this.name, params, "tailSeconds", { min: 0, max: 60 }, 2);
    const workers =
      params.workers === undefined
        ? undefined
        : numberParam(this.name, params, "workers", { min: 1, max: 64, integer: true });
    const effects = params.effects ?? false;
    if (typeof effects !== "boolean") {
      throw new ProjectionError(`projection "${this.name}": effects must be true or false`);
    }
    const sequence = importMidi(await handles.store.get(input.hash), input.id).sequence;
    const result = await bounceMidi({
      sequence,
      soundfontPath: soundfont.path,
      sampleRate,
      effects,
      tailSeconds,
      ...(workers === undefined ? {} : { workers }),
    });
    const left = new Float32Array(result.frames);
    const right = new Float32Array(result.frames);
    for (let i = 0; i < result.frames; i++) {
      left[i] = result.interleaved[2 * i]!;
      right[i] = result.interleaved[2 * i + 1]!;
    }
    const audio: PcmAudio = { sampleRate, frames: result.frames, channelData: [left, right] };
    return recordDerived(handles, {
      bytes: wav32f(audio),
      space: "audio",
      mediaType: "audio/wav",
      creator: creatorOf(handles),
      parents: [input.id],
      metadata: audioMetadata(audio),
      tool: synthToolRecord({
        soundfontHash: await soundfontHash(soundfont.path),
        soundfontPath: soundfont.path,
        sampleRate,
        effects,
        tailSeconds,
      }),
    });
  },
};

const abcToMidi: Projection = {
  name: "abc->midi",
  from: "abc",
  to: "midi",
  summary: "read one tune of ABC notation into MIDI (tune: 1-based, default 1; repeats expanded)",
  params: ["tune"],
  async run(inputs, params, handles) {
    const input = single(this.name, inputs);
    const tuneNumber = numberParam(this.name, params, "tune", { min: 1, max: 1e6, integer: true }, 1);
    const tune = parseAbc(await handles.store.get(input.hash), input.id, { tune: tuneNumber });
    // The same record as the import pipeline's, so an imported tune's MIDI child is found again.
    return recordDerived(handles, {
      bytes: writeMidi(tune.sequence),
      space: "midi",
      mediaType: "audio/midi",
      creator: creatorOf(handles),
      parents: [input.id],
      metadata: { title: tune.title, voices: tune.voices },
      tool: { kind: "projection", name: this.name, params: abcProjectionParams(tune) },
    });
  },
};

const audioGain: Projection = {
  name: "audio->audio.gain",
  from: "audio",
  to: "audio",
  summary: "change the level by gainDb decibels (float32, no clipping), 32-bit float WAV",
  params: ["gainDb"],
  async run(inputs, params, handles) {
    const input = single(this.name, inputs);
    const gainDb = numberParam(this.name, params, "gainDb", { min: MIN_GAIN_DB, max: MAX_GAIN_DB });
    const source = await loadAudio(handles, input);
    const factor = Math.fround(dbToGain(gainDb));
    const channelData = source.channelData.map((plane) => {
      const out = new Float32Array(plane.length);
      for (let i = 0; i < plane.length; i++) out[i] = plane[i]! * factor;
      return out;
    });
    const audio: PcmAudio = { sampleRate: source.sampleRate, frames: source.frames, channelData };
    return recordDerived(handles, {
      bytes: wav32f(audio),
      space: "audio",
      mediaType: "audio/wav",
      creator: creatorOf(handles),
      parents: [input.id],
      metadata: audioMetadata(audio),
      tool: {
        kind: "projection",
        name: this.name,
        params: { gainDb, factor, arithmetic: "float32 multiply", output: "wav-32f" },
      },
    });
  },
};

const audioResample: Projection = {
  name: "audio->audio.resample",
  from: "audio",
  to: "audio",
  summary: "convert to another sample rate (libsamplerate, best sinc), 32-bit float WAV",
  params: ["sampleRate"],
  async run(inputs, params, handles) {
    const input = single(this.name, inputs);
    const sampleRate = numberParam(this.name, params, "sampleRate", {
      min: 1000,
      max: 768_000,
      integer: true,
    });
    const audio = await loadAudio(handles, input, sampleRate);
    return recordDerived(handles, {
      bytes: wav32f(audio),
      space: "audio",
      mediaType: "audio/wav",
      creator: creatorOf(handles),
      parents: [input.id],
      metadata: audioMetadata(audio),
      tool: {
        kind: "projection",
        name: this.name,
        params: { sampleRate, resampler: RESAMPLER, output: "wav-32f" },
      },
    });
  },
};

export const BUILTIN_PROJECTIONS: readonly Projection[] = Object.freeze([
  midiToAudio,
  abcToMidi,
  audioGain,
  audioResample,
]);

/** A registry holding the built-in projections (add more with register). */
export function defaultProjections(): ProjectionRegistry {
  const registry = new ProjectionRegistry();
  for (const projection of BUILTIN_PROJECTIONS) registry.register(projection);
  return registry;
}
