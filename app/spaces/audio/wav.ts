// RIFF/WAVE reading and writing for the `audio` space: bytes <-> planar float32 PCM.
// Reads 8/16/24/32-bit integer and 32/64-bit float PCM, plain or WAVE_FORMAT_EXTENSIBLE, any channel count.
// Writes 16-bit and 24-bit integer (saturating) and 32-bit float. Pure functions; called by the import pipeline,
// the decoders' dispatcher (./decode.ts) and export.
import { EncodingError } from "../errors";

/** Planar PCM at one sample rate; samples nominally in [-1, 1). */
export interface PcmAudio {
  readonly sampleRate: number;
  readonly frames: number;
  readonly channelData: readonly Float32Array[];
}

export type WavSampleFormat = "uint8" | "int16" | "int24" | "int32" | "float32" | "float64";
export type WavExportDepth = "16" | "24" | "32f";

export interface WavInfo {
  readonly sampleFormat: WavSampleFormat;
  readonly bitsPerSample: number;
  readonly channels: number;
  readonly sampleRate: number;
  readonly frames: number;
  readonly extensible: boolean;
  /** Tags of chunks other than fmt/data that were skipped (LIST, bext, ...). */
  readonly skippedChunks: readonly string[];
  /** True when int32 or float64 samples were narrowed to float32. */
  readonly narrowed: boolean;
}

const MAX_CHANNELS = 256;
const MAX_SAMPLE_RATE = 1_536_000;
const GUID_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

function tagAt(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
}

function shown(tag: string): string {
  return /^[\x20-\x7e]{4}$/.test(tag) ? `"${tag}"` : "binary data";
}

/** Parses a whole WAV file; throws EncodingError naming the file and the problem. */
export function parseWav(bytes: Uint8Array, file: string): { audio: PcmAudio; info: WavInfo } {
  const fail = (problem: string): never => {
    throw new EncodingError(
      file,
      problem,
      "The WAV file is damaged or of an unsupported kind; re-export it as PCM WAV",
    );
  };
  if (bytes.length < 12) fail(`too short for a WAV file (${bytes.length} bytes)`);
  const riff = tagAt(bytes, 0);
  if (riff !== "RIFF") fail(`not a WAV file: starts with ${shown(riff)}, not "RIFF"`);
  if (tagAt(bytes, 8) !== "WAVE") fail(`RIFF file of type ${shown(tagAt(bytes, 8))}, not "WAVE"`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const riffSize = view.getUint32(4, true);
  // A size of 0 or 0xFFFFFFFF is what streaming writers leave when they cannot seek back; one missing final pad
  // byte is a common writer slip. Both are read to the end of the file; anything shorter is truncation.
  const streamed = riffSize === 0 || riffSize === 0xffffffff;
  if (!streamed && riffSize + 8 > bytes.length + 1) {
    fail(`truncated: the RIFF header says ${riffSize + 8} bytes, the file has ${bytes.length}`);
  }
  const end = streamed ? bytes.length : Math.min(riffSize + 8, bytes.length);
  let fmt: { at: number; size: number } | undefined;
  let data: { at: number; size: number } | undefined;
  const skippedChunks: string[] = [];
  let pos = 12;
  while (pos + 8 <= end) {
    const tag = tagAt(bytes, pos);
    const at = pos + 8;
    const declared = view.getUint32(pos + 4, true);
    const size =
      tag === "data" && (declared === 0xffffffff || (streamed && declared === 0)) ? end - at : declared;
    if (at + size > end)
      fail(`chunk ${shown(tag)} at byte ${pos} declares ${size} bytes but only ${end - at} remain`);
    if (tag === "fmt ") {
      if (fmt) fail("two fmt chunks");
      fmt = { at, size };
    } else if (tag === "data") {
      if (data) fail("two data chunks");
      data = { at, size };
    } else if (tag !== "fact") {
      // "fact" only repeats the frame count for non-PCM data; the data chunk's size is what is read.
      skippedChunks.push(tag);
    }
    pos = at + size + (size & 1);
  }
  if (!fmt) return fail('no "fmt " chunk');
  if (!data) return fail('no "data" chunk');
  if (fmt.size < 16) fail(`fmt chunk of ${fmt.size} bytes, at least 16 expected`);
  let formatTag = view.getUint16(fmt.at, true);
  const channels = view.getUint16(fmt.at + 2, true);
  const sampleRate = view.getUint32(fmt.at + 4, true);
  const blockAlign = view.getUint16(fmt.at + 12, true);
  const bitsPerSample = view.getUint16(fmt.at + 14, true);
  const extensible = formatTag === 0xfffe;
  if (extensible) {
    if (fmt.size < 40 || view.getUint16(fmt.at + 16, true) < 22)
      fail("WAVE_FORMAT_EXTENSIBLE fmt chunk is too short");
    formatTag = view.getUint16(fmt.at + 24, true);
    for (let i = 0; i < GUID_TAIL.length; i++) {
      if (bytes[fmt.at + 26 + i] !== GUID_TAIL[i])
        fail("WAVE_FORMAT_EXTENSIBLE sub-format is not PCM or IEEE float");
    }
  }
  if (channels === 0 || channels > MAX_CHANNELS) fail(`${channels} channels (1..${MAX_CHANNELS} supported)`);
  if (sampleRate < 1 || sampleRate > MAX_SAMPLE_RATE) fail(`sample rate ${sampleRate} Hz is out of range`);
  let sampleFormat: WavSampleFormat;
  if (formatTag === 1) {
    const byBits: Record<number, WavSampleFormat> = { 8: "uint8", 16: "int16", 24: "int24", 32: "int32" };
    sampleFormat =
      byBits[bitsPerSample] ?? fail(`${bitsPerSample}-bit integer PCM is not supported (8/16/24/32)`);
  } else if (formatTag === 3) {
    const byBits: Record<number, WavSampleFormat> = { 32: "float32", 64: "float64" };
    sampleFormat = byBits[bitsPerSample] ?? fail(`${bitsPerSample}-bit float is not supported (32/64)`);
  } else {
    return fail(
      `compressed WAV (format tag 0x${formatTag.toString(16)}) is not supported; convert it to PCM`,
    );
  }
  const bytesPerSample = bitsPerSample / 8;
  if (blockAlign !== channels * bytesPerSample) {
    fail(`block align ${blockAlign} does not match ${channels} channels of ${bitsPerSample} bits`);
  }
  const frames = Math.floor(data.size / blockAlign);
  const channelData = Array.from({ length: channels }, () => new Float32Array(frames));
  let at = data.at;
  for (let f = 0; f < frames; f++) {
    for (let c = 0; c < channels; c++) {
      let v: number;
      switch (sampleFormat) {
        case "uint8":
          v = (view.getUint8(at) - 128) / 128;
          break;
        case "int16":
          v = view.getInt16(at, true) / 32768;
          break;
        case "int24":
          v =
            ((view.getUint8(at + 2) << 24) | (view.getUint8(at + 1) << 16) | (view.getUint8(at) << 8)) /
            2147483648;
          break;
        case "int32":
          v = view.getInt32(at, true) / 2147483648;
          break;
        case "float32":
          v = view.getFloat32(at, true);
          break;
        case "float64":
          v = view.getFloat64(at, true);
          break;
      }
      channelData[c]![f] = v;
      at += bytesPerSample;
    }
  }
  const narrowed = sampleFormat === "int32" || sampleFormat === "float64";
  return {
    audio: { sampleRate, frames, channelData },
    info: { sampleFormat, bitsPerSample, channels, sampleRate, frames, extensible, skippedChunks, narrowed },
  };
}

/** Default speaker positions (dwChannelMask) for 1..8 channels, as WAVE_FORMAT_EXTENSIBLE writers use. */
const CHANNEL_MASKS = [0, 0x4, 0x3, 0x7, 0x33, 0x37, 0x3f, 0x13f, 0x63f];

/**
 * Writes a WAV file. Integer depths saturate: samples outside [-1, 1) are clamped to the largest value of the
 * depth and counted in `clippedSamples`; non-finite samples become 0 and are counted too. 32-bit float is
 * written unchanged (values beyond ±1 are kept), except non-finite samples, which become 0.
 */
export function writeWav(
  audio: PcmAudio,
  depth: WavExportDepth,
): { bytes: Uint8Array; clippedSamples: number } {
  const channels = audio.channelData.length;
  if (channels === 0 || channels > MAX_CHANNELS) {
    throw new EncodingError("<export>", `cannot write ${channels} channels to WAV (1..${MAX_CHANNELS})`);
  }
  const bytesPerSample = depth === "16" ? 2 : depth === "24" ? 3 : 4;
  const blockAlign = channels * bytesPerSample;
  const dataSize = audio.frames * blockAlign;
  const extensible = channels > 2;
  const float = depth === "32f";
  // Non-PCM formats (IEEE float) carry cbSize in "fmt " and a "fact" chunk with the frame count (the RIFF WAVE
  // rules; readers such as sox warn without them).
  const fmtSize = extensible ? 40 : float ? 18 : 16;
  const factSize = float ? 12 : 0;
  const total = 12 + 8 + fmtSize + factSize + 8 + dataSize + (dataSize & 1);
  if (total > 0xffffffff) throw new EncodingError("<export>", "audio too long for a WAV file (over 4 GiB)");
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  const ascii = (at: number, s: string) => {
    for (let i = 0; i < 4; i++) bytes[at + i] = s.charCodeAt(i);
  };
  ascii(0, "RIFF");
  view.setUint32(4, total - 8, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  view.setUint32(16, fmtSize, true);
  const formatTag = float ? 3 : 1;
  view.setUint16(20, extensible ? 0xfffe : formatTag, true);
  view.setUint16(22, channels, true);
  view.setUint32(24, audio.sampleRate, true);
  view.setUint32(28, audio.sampleRate * blockAlign, true);
  view.setUint16(32, blockAlign, true);
  view.setUint16(34, bytesPerSample * 8, true);
  if (extensible) {
    view.setUint16(36, 22, true);
    view.setUint16(38, bytesPerSample * 8, true);
    view.setUint32(40, CHANNEL_MASKS[channels] ?? 0, true);
    view.setUint16(44, formatTag, true);
    bytes.set(GUID_TAIL, 46);
  } else if (float) {
    view.setUint16(36, 0, true);
  }
  if (float) {
    ascii(20 + fmtSize, "fact");
    view.setUint32(24 + fmtSize, 4, true);
    view.setUint32(28 + fmtSize, audio.frames, true);
  }
  const dataAt = 20 + fmtSize + factSize;
  ascii(dataAt, "data");
  view.setUint32(dataAt + 4, dataSize, true);
  let at = dataAt + 8;
  let clippedSamples = 0;
  const scale = depth === "16" ? 32768 : 8388608;
  for (let f = 0; f < audio.frames; f++) {
    for (let c = 0; c < channels; c++) {
      let s = audio.channelData[c]![f]!;
      if (!Number.isFinite(s)) {
        s = 0;
        clippedSamples += 1;
      }
      if (depth === "32f") {
        view.setFloat32(at, s, true);
      } else {
        let v = Math.round(s * scale);
        if (v >= scale || v < -scale) {
          v = v < 0 ? -scale : scale - 1;
          clippedSamples += 1;
        }
        if (depth === "16") {
          view.setInt16(at, v, true);
        } else {
          bytes[at] = v & 0xff;
          bytes[at + 1] = (v >> 8) & 0xff;
          bytes[at + 2] = (v >> 16) & 0xff;
        }
      }
      at += bytesPerSample;
    }
  }
  return { bytes, clippedSamples };
}
