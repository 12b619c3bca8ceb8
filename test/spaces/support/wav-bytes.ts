// Test helper: builds WAV files byte by byte, independently of app/spaces/audio/wav.ts, from integer or float
// sample values we choose (so round trips can be checked bit for bit).

export type Depth = "16" | "24" | "32f";

export interface WavSpec {
  readonly depth: Depth;
  readonly sampleRate: number;
  /** Interleaved samples: integers for 16/24, floats for 32f. */
  readonly interleaved: readonly number[];
  readonly channels: number;
  /** Force WAVE_FORMAT_EXTENSIBLE (default: only for more than 2 channels, as our writer does). */
  readonly extensible?: boolean;
  /** Chunks inserted before "data" (tag, body). */
  readonly extraChunks?: ReadonlyArray<readonly [string, number[]]>;
}

function le(value: number, bytes: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < bytes; i++) out.push(Math.floor(value / 2 ** (8 * i)) & 0xff);
  return out;
}

function tag(s: string): number[] {
  return [...s].map((c) => c.charCodeAt(0));
}

export function wavBytes(spec: WavSpec): Uint8Array {
  const bytesPerSample = spec.depth === "16" ? 2 : spec.depth === "24" ? 3 : 4;
  const extensible = spec.extensible ?? spec.channels > 2;
  const formatTag = spec.depth === "32f" ? 3 : 1;
  const blockAlign = spec.channels * bytesPerSample;
  const fmt = [
    ...le(extensible ? 0xfffe : formatTag, 2),
    ...le(spec.channels, 2),
    ...le(spec.sampleRate, 4),
    ...le(spec.sampleRate * blockAlign, 4),
    ...le(blockAlign, 2),
    ...le(bytesPerSample * 8, 2),
  ];
  if (extensible) {
    const masks = [0, 0x4, 0x3, 0x7, 0x33, 0x37, 0x3f, 0x13f, 0x63f];
    fmt.push(
      ...le(22, 2),
      ...le(bytesPerSample * 8, 2),
      ...le(masks[spec.channels] ?? 0, 4),
      ...le(formatTag, 2),
    );
    fmt.push(0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71);
  } else if (formatTag === 3) {
    fmt.push(...le(0, 2)); // cbSize: a non-PCM fmt chunk is 18 bytes
  }
  const data: number[] = [];
  const f32 = new DataView(new ArrayBuffer(4));
  for (const v of spec.interleaved) {
    if (spec.depth === "32f") {
      f32.setFloat32(0, v, true);
      data.push(f32.getUint8(0), f32.getUint8(1), f32.getUint8(2), f32.getUint8(3));
    } else {
      const unsigned = v < 0 ? v + 2 ** (8 * bytesPerSample) : v;
      data.push(...le(unsigned, bytesPerSample));
    }
  }
  const chunks: number[] = [...tag("fmt "), ...le(fmt.length, 4), ...fmt];
  // Float (non-PCM) files carry a fact chunk with the frame count.
  if (formatTag === 3)
    chunks.push(...tag("fact"), ...le(4, 4), ...le(spec.interleaved.length / spec.channels, 4));
  for (const [t, body] of spec.extraChunks ?? []) {
    chunks.push(...tag(t), ...le(body.length, 4), ...body);
    if (body.length & 1) chunks.push(0);
  }
  chunks.push(...tag("data"), ...le(data.length, 4), ...data);
  if (data.length & 1) chunks.push(0);
  return Uint8Array.from([...tag("RIFF"), ...le(chunks.length + 4, 4), ...tag("WAVE"), ...chunks]);
}

/** Deterministic pseudo-random integers covering the full range of a depth, extremes included. */
export function integerSamples(count: number, bits: 16 | 24, seed = 1): number[] {
  const max = 2 ** (bits - 1);
  let state = seed >>> 0 || 1;
  const out: number[] = [-max, max - 1, 0, -1, 1];
  while (out.length < count) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out.push((state % (2 * max)) - max);
  }
  return out.slice(0, count);
}

export function floatSamples(count: number, seed = 7): number[] {
  let state = seed >>> 0 || 1;
  const out: number[] = [1, -1, 0, 1.5, -2.25, 1e-30];
  while (out.length < count) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out.push(Math.fround(state / 2 ** 31 - 1));
  }
  return out.slice(0, count);
}
