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

export interface WavFormat {
  readonly sampleRate: number;
  readonly channels: number;
  readonly depth: WavExportDepth;
}

function bytesPerSampleOf(depth: WavExportDepth): number {
  return depth === "16" ? 2 : depth === "24" ? 3 : 4;
}

/**
 * The bytes of a WAV file before its samples, for `frames` frames: RIFF, "fmt " (WAVE_FORMAT_EXTENSIBLE above 2
 * channels), "fact" for float (non-PCM formats carry cbSize and a fact chunk: the RIFF WAVE rules; sox warns
 * without them) and the data chunk's header. The data chunk needs a pad byte after its samples when their size is
 * odd (wavDataPadBytes).
 */
export function wavHeader(format: WavFormat, frames: number): Uint8Array {
  const { channels, sampleRate, depth } = format;
  if (!(Number.isInteger(channels) && channels >= 1 && channels <= MAX_CHANNELS)) {
    throw new EncodingError("<export>", `cannot write ${channels} channels to WAV (1..${MAX_CHANNELS})`);
  }
  const bytesPerSample = bytesPerSampleOf(depth);
  const blockAlign = channels * bytesPerSample;
  const dataSize = frames * blockAlign;
  const extensible = channels > 2;
  const float = depth === "32f";
  const fmtSize = extensible ? 40 : float ? 18 : 16;
  const factSize = float ? 12 : 0;
  const headerSize = 12 + 8 + fmtSize + factSize + 8;
  const total = headerSize + dataSize + (dataSize & 1);
  if (total > 0xffffffff) throw new EncodingError("<export>", "audio too long for a WAV file (over 4 GiB)");
  const bytes = new Uint8Array(headerSize);
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
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * blockAlign, true);
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
    view.setUint32(28 + fmtSize, frames, true);
  }
  const dataAt = 20 + fmtSize + factSize;
  ascii(dataAt, "data");
  view.setUint32(dataAt + 4, dataSize, true);
  return bytes;
}

/** 1 when the data chunk of `frames` frames has an odd size (RIFF chunks are padded to even sizes), else 0. */
export function wavDataPadBytes(format: WavFormat, frames: number): number {
  return (frames * format.channels * bytesPerSampleOf(format.depth)) & 1;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Turns interleaved float samples into a WAV's data bytes, block after block, counting what it had to change:
 * integer depths saturate (samples outside [-1, 1) are clamped to the depth's largest value and counted), 32-bit
 * float keeps values beyond ±1, and non-finite samples become 0 and are counted. The one sample writer of the
 * WAV export: whole files (writeWav) and streamed ones (app/spaces/audio/wav-file.ts).
 */
export class WavSampleEncoder {
  readonly depth: WavExportDepth;
  clippedSamples = 0;
  #scratch = new ArrayBuffer(0);

  constructor(depth: WavExportDepth) {
    this.depth = depth;
  }

  /** The bytes of `samples` (whole frames, interleaved); a view of a buffer reused by the next call. */
  encode(samples: Float32Array): Uint8Array {
    const count = samples.length;
    const size = count * bytesPerSampleOf(this.depth);
    if (this.#scratch.byteLength < size) this.#scratch = new ArrayBuffer(size);
    const out = new Uint8Array(this.#scratch, 0, size);
    let clipped = 0;
    if (this.depth === "32f") {
      // Typed arrays write this machine's byte order: little-endian, as WAV wants, on every platform Node runs
      // on in practice; a big-endian host takes the DataView path.
      if (LITTLE_ENDIAN_HOST) {
        const floats = new Float32Array(this.#scratch, 0, count);
        for (let i = 0; i < count; i++) {
          const s = samples[i]!;
          if (Number.isFinite(s)) floats[i] = s;
          else {
            floats[i] = 0;
            clipped += 1;
          }
        }
      } else {
        const view = new DataView(this.#scratch);
        for (let i = 0; i < count; i++) {
          const s = samples[i]!;
          const finite = Number.isFinite(s);
          if (!finite) clipped += 1;
          view.setFloat32(4 * i, finite ? s : 0, true);
        }
      }
    } else {
      const scale = this.depth === "16" ? 32768 : 8388608;
      const ints = this.depth === "16" && LITTLE_ENDIAN_HOST ? new Int16Array(this.#scratch, 0, count) : null;
      for (let i = 0; i < count; i++) {
        const x = samples[i]! * scale;
        let v: number;
        // Math.floor(x + 0.5) is Math.round(x) for every float32 sample times a power of two (x + 0.5 is exact
        // there, or rounds only where both give 0), and several times faster here. NaN fails both comparisons.
        if (x >= -scale - 0.5 && x < scale - 0.5) v = Math.floor(x + 0.5);
        else {
          v = Number.isFinite(x) ? (x > 0 ? scale - 1 : -scale) : 0;
          clipped += 1;
        }
        if (ints) ints[i] = v;
        else if (this.depth === "16") {
          out[2 * i] = v & 0xff;
          out[2 * i + 1] = (v >> 8) & 0xff;
        } else {
          out[3 * i] = v & 0xff;
          out[3 * i + 1] = (v >> 8) & 0xff;
          out[3 * i + 2] = (v >> 16) & 0xff;
        }
      }
    }
    this.clippedSamples += clipped;
    return out;
  }
}

/** Frames per block when writeWav interleaves its planes for the encoder. */
const WRITE_BLOCK_FRAMES = 16_384;

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
  const format = { sampleRate: audio.sampleRate, channels, depth };
  const header = wavHeader(format, audio.frames);
  const dataSize = audio.frames * channels * bytesPerSampleOf(depth);
  const bytes = new Uint8Array(header.length + dataSize + wavDataPadBytes(format, audio.frames));
  bytes.set(header);
  const encoder = new WavSampleEncoder(depth);
  const block = new Float32Array(WRITE_BLOCK_FRAMES * channels);
  let at = header.length;
  for (let first = 0; first < audio.frames; first += WRITE_BLOCK_FRAMES) {
    const frames = Math.min(WRITE_BLOCK_FRAMES, audio.frames - first);
    for (let c = 0; c < channels; c++) {
      const plane = audio.channelData[c]!;
      // A plane shorter than `frames` reads as non-finite past its end: written as 0 and counted, as before.
      for (let f = 0, i = c; f < frames; f++, i += channels) block[i] = plane[first + f] ?? Number.NaN;
    }
    const encoded = encoder.encode(
      frames === WRITE_BLOCK_FRAMES ? block : block.subarray(0, frames * channels),
    );
    bytes.set(encoded, at);
    at += encoded.length;
  }
  return { bytes, clippedSamples: encoder.clippedSamples };
}
