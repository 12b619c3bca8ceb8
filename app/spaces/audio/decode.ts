// Recognises and decodes the audio files musicians bring in: WAV (./wav.ts), FLAC, MP3 and Ogg Vorbis
// (WASM decoders from the wasm-audio-decoders family, MIT). Bytes in, planar float32 PCM out.
// Called by the import pipeline and export; throws only EncodingError for bad input.
import { createRequire } from "node:module";
import { EncodingError } from "../errors";
import { type PcmAudio, parseWav, type WavInfo } from "./wav";

const load = createRequire(import.meta.url);

export type AudioContainer = "wav" | "flac" | "mp3" | "ogg-vorbis";

export interface DecodedFile {
  readonly container: AudioContainer;
  readonly audio: PcmAudio;
  /** Present for WAV. */
  readonly wav?: WavInfo;
  /** The decoder that produced the PCM, with its package version, recorded with the artifact. */
  readonly decoder: string;
  /** Bits per sample of the source where the format states it (WAV, FLAC). */
  readonly bitsPerSample?: number;
}

function startsWith(bytes: Uint8Array, ascii: string, at = 0): boolean {
  for (let i = 0; i < ascii.length; i++) if (bytes[at + i] !== ascii.charCodeAt(i)) return false;
  return true;
}

/** Which container the bytes are, from their magic numbers; undefined when none matches. */
export function sniffAudio(bytes: Uint8Array): AudioContainer | "ogg-other" | undefined {
  if (startsWith(bytes, "RIFF") && startsWith(bytes, "WAVE", 8)) return "wav";
  if (startsWith(bytes, "fLaC")) return "flac";
  if (startsWith(bytes, "OggS")) {
    const head = new TextDecoder("latin1").decode(bytes.subarray(0, Math.min(bytes.length, 128)));
    return head.includes("\x01vorbis") ? "ogg-vorbis" : "ogg-other";
  }
  if (startsWith(bytes, "ID3")) return "mp3";
  if (bytes.length >= 2 && bytes[0] === 0xff && (bytes[1]! & 0xe0) === 0xe0 && (bytes[1]! & 0x06) !== 0)
    return "mp3";
  return undefined;
}

interface WasmResult {
  channelData: Float32Array[];
  samplesDecoded: number;
  sampleRate: number;
  errors: Array<{ message: string; frameNumber?: number }>;
  bitDepth?: number;
}

function checked(file: string, kind: string, result: WasmResult): PcmAudio {
  const fail = (problem: string): never => {
    throw new EncodingError(file, problem, `The ${kind} file is damaged or truncated; re-export it`);
  };
  const first = result.errors[0];
  if (first)
    fail(
      `${kind} decoding failed${first.frameNumber === undefined ? "" : ` at frame ${first.frameNumber}`}: ${first.message}`,
    );
  if (result.samplesDecoded === 0 || result.channelData.length === 0)
    fail(`no ${kind} audio could be decoded`);
  if (result.sampleRate < 1) fail(`${kind} stream has no sample rate`);
  const frames = result.samplesDecoded;
  return {
    sampleRate: result.sampleRate,
    frames,
    channelData: result.channelData.map((c) => (c.length === frames ? c : c.slice(0, frames))),
  };
}

/**
 * The FLAC decoder scales integers by 1 / (2^(bits-1) - 1); we restore the integers and scale by 1 / 2^(bits-1)
 * like WAV, so a FLAC and a WAV of the same samples decode to the same floats.
 */
function requantize(audio: PcmAudio, bitDepth: number): PcmAudio {
  if (!Number.isInteger(bitDepth) || bitDepth < 4 || bitDepth > 24) return audio;
  const decoderScale = 2 ** (bitDepth - 1) - 1;
  const scale = 2 ** (bitDepth - 1);
  for (const channel of audio.channelData) {
    for (let i = 0; i < channel.length; i++) channel[i] = Math.round(channel[i]! * decoderScale) / scale;
  }
  return audio;
}

async function decodeFlac(bytes: Uint8Array, file: string): Promise<DecodedFile> {
  const { FLACDecoder } = load("@wasm-audio-decoders/flac") as typeof import("@wasm-audio-decoders/flac");
  const decoder = new FLACDecoder();
  await decoder.ready;
  try {
    const result = await decoder.decodeFile(bytes);
    const audio = requantize(checked(file, "FLAC", result), result.bitDepth);
    return {
      container: "flac",
      audio,
      decoder: "@wasm-audio-decoders/flac@0.2.11",
      bitsPerSample: result.bitDepth,
    };
  } finally {
    decoder.free();
  }
}

async function decodeVorbis(bytes: Uint8Array, file: string): Promise<DecodedFile> {
  const { OggVorbisDecoder } = load(
    "@wasm-audio-decoders/ogg-vorbis",
  ) as typeof import("@wasm-audio-decoders/ogg-vorbis");
  const decoder = new OggVorbisDecoder();
  await decoder.ready;
  try {
    const audio = checked(file, "Ogg Vorbis", await decoder.decodeFile(bytes));
    return { container: "ogg-vorbis", audio, decoder: "@wasm-audio-decoders/ogg-vorbis@0.1.20" };
  } finally {
    decoder.free();
  }
}

/** Channel mode of the first MPEG audio frame (after any ID3v2 tag): true when it is single-channel. */
function mpegIsMono(bytes: Uint8Array): boolean {
  let at = 0;
  if (startsWith(bytes, "ID3") && bytes.length >= 10) {
    at =
      10 +
      ((bytes[6]! & 0x7f) << 21) +
      ((bytes[7]! & 0x7f) << 14) +
      ((bytes[8]! & 0x7f) << 7) +
      (bytes[9]! & 0x7f);
  }
  for (; at + 3 < bytes.length; at++) {
    if (bytes[at] === 0xff && (bytes[at + 1]! & 0xe0) === 0xe0 && (bytes[at + 1]! & 0x06) !== 0) {
      return bytes[at + 3]! >> 6 === 3;
    }
  }
  return false;
}

async function decodeMp3(bytes: Uint8Array, file: string): Promise<DecodedFile> {
  const { MPEGDecoder } = load("mpg123-decoder") as typeof import("mpg123-decoder");
  const decoder = new MPEGDecoder();
  await decoder.ready;
  try {
    const both = checked(file, "MP3", decoder.decode(bytes));
    // mpg123-decoder always returns two channels; a mono stream gets its one channel back.
    const audio = mpegIsMono(bytes) ? { ...both, channelData: both.channelData.slice(0, 1) } : both;
    return { container: "mp3", audio, decoder: "mpg123-decoder@1.0.3" };
  } finally {
    decoder.free();
  }
}

/** Decodes a whole audio file of any supported container; the container is recognised from its bytes. */
export async function decodeAudio(bytes: Uint8Array, file: string): Promise<DecodedFile> {
  const kind = sniffAudio(bytes);
  const guard = async (run: () => Promise<DecodedFile>): Promise<DecodedFile> => {
    try {
      return await run();
    } catch (error) {
      if (error instanceof EncodingError) throw error;
      const detail = error instanceof Error ? error.message : String(error);
      throw new EncodingError(
        file,
        `the ${kind} decoder failed (${detail})`,
        "The file is damaged or truncated; re-export it",
      );
    }
  };
  switch (kind) {
    case "wav": {
      const { audio, info } = parseWav(bytes, file);
      return {
        container: "wav",
        audio,
        wav: info,
        decoder: "lcanvas.wav",
        bitsPerSample: info.bitsPerSample,
      };
    }
    case "flac":
      return guard(() => decodeFlac(bytes, file));
    case "ogg-vorbis":
      return guard(() => decodeVorbis(bytes, file));
    case "mp3":
      return guard(() => decodeMp3(bytes, file));
    case "ogg-other":
      throw new EncodingError(
        file,
        "an Ogg file that is not Vorbis (Opus and FLAC-in-Ogg are not supported)",
        "Convert it to WAV, FLAC or Ogg Vorbis",
      );
    default:
      throw new EncodingError(
        file,
        "not a recognised audio file (WAV, FLAC, MP3 or Ogg Vorbis)",
        "Check the file type",
      );
  }
}
