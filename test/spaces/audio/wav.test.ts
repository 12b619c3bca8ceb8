import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseWav, WavSampleEncoder, writeWav } from "../../../app/spaces/audio/wav";
import { EncodingError } from "../../../app/spaces/errors";
import { type Depth, floatSamples, integerSamples, wavBytes } from "../support/wav-bytes";

const dir = mkdtempSync(join(tmpdir(), "lc-wav-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function errorOf(fn: () => unknown): EncodingError {
  try {
    fn();
  } catch (error) {
    if (error instanceof EncodingError) return error;
    throw error;
  }
  throw new Error("expected an EncodingError");
}

describe("WAV round trip is bit-identical", () => {
  const cases: Array<[Depth, number, number]> = [
    ["16", 1, 44100],
    ["16", 2, 48000],
    ["16", 6, 22050],
    ["24", 1, 96000],
    ["24", 2, 44100],
    ["24", 8, 48000],
    ["32f", 1, 48000],
    ["32f", 2, 8000],
    ["32f", 5, 192000],
  ];
  for (const [depth, channels, sampleRate] of cases) {
    it(`${depth}-bit, ${channels} channel(s), ${sampleRate} Hz`, () => {
      const count = channels * 1001;
      const interleaved =
        depth === "32f" ? floatSamples(count) : integerSamples(count, depth === "16" ? 16 : 24);
      const input = wavBytes({ depth, sampleRate, channels, interleaved });
      const { audio, info } = parseWav(input, "in.wav");
      expect(info.channels).toBe(channels);
      expect(info.sampleRate).toBe(sampleRate);
      expect(info.frames).toBe(1001);
      expect(info.extensible).toBe(channels > 2);
      const { bytes, clippedSamples } = writeWav(audio, depth);
      expect(clippedSamples).toBe(0);
      expect(Buffer.from(bytes).equals(Buffer.from(input))).toBe(true);
    });
  }

  it("reads WAVE_FORMAT_EXTENSIBLE stereo and skips LIST chunks of odd size", () => {
    const input = wavBytes({
      depth: "24",
      sampleRate: 44100,
      channels: 2,
      extensible: true,
      interleaved: [8388607, -8388608, 1, -1],
      extraChunks: [["LIST", [1, 2, 3]]],
    });
    const { audio, info } = parseWav(input, "ext.wav");
    expect(info.extensible).toBe(true);
    expect(info.skippedChunks).toEqual(["LIST"]);
    expect([...audio.channelData[0]!]).toEqual([8388607 / 8388608, 1 / 8388608]);
    expect([...audio.channelData[1]!]).toEqual([-1, -1 / 8388608]);
  });

  it("reads streamed WAVs (RIFF and data sizes left at 0xFFFFFFFF) and a missing final pad byte", () => {
    const input = wavBytes({ depth: "16", sampleRate: 8000, channels: 1, interleaved: [100, -200, 300] });
    const streamed = input.slice();
    const view = new DataView(streamed.buffer);
    view.setUint32(4, 0xffffffff, true);
    view.setUint32(40, 0xffffffff, true);
    const { audio } = parseWav(streamed, "s.wav");
    expect([...audio.channelData[0]!].map((x) => x * 32768)).toEqual([100, -200, 300]);
    const odd = wavBytes({ depth: "24", sampleRate: 8000, channels: 1, interleaved: [1, 2, 3] });
    expect(odd.length % 2).toBe(0);
    const unpadded = parseWav(odd.subarray(0, odd.length - 1), "p.wav");
    expect([...unpadded.audio.channelData[0]!].map((x) => x * 8388608)).toEqual([1, 2, 3]);
    expect(() => parseWav(odd.subarray(0, odd.length - 2), "t.wav")).toThrow(/truncated/);
  });

  it("saturates integer export and counts the clipped samples; float export keeps values beyond ±1", () => {
    const audio = {
      sampleRate: 48000,
      frames: 4,
      channelData: [Float32Array.from([1.5, -1.5, 0.5, Number.NaN])],
    };
    const wav16 = writeWav(audio, "16");
    expect(wav16.clippedSamples).toBe(3);
    expect([...parseWav(wav16.bytes, "c.wav").audio.channelData[0]!]).toEqual([32767 / 32768, -1, 0.5, 0]);
    const wavF = writeWav(audio, "32f");
    expect([...parseWav(wavF.bytes, "f.wav").audio.channelData[0]!]).toEqual([1.5, -1.5, 0.5, 0]);
  });
});

describe("the sample encoder rounds as Math.round does", () => {
  /** The encoder's contract, written the slow obvious way: round half up, saturate, non-finite to 0. */
  function reference(sample: number, bits: 16 | 24): { value: number; changed: boolean } {
    const scale = bits === 16 ? 32768 : 8388608;
    if (!Number.isFinite(sample)) return { value: 0, changed: true };
    const v = Math.round(sample * scale);
    if (v >= scale) return { value: scale - 1, changed: true };
    if (v < -scale) return { value: -scale, changed: true };
    return { value: v, changed: false };
  }

  for (const bits of [16, 24] as const) {
    it(`${bits}-bit: halves, the saturation edges, tiny and non-finite samples, and random float32 values`, () => {
      const scale = bits === 16 ? 32768 : 8388608;
      const edges = [0, -0, 0.5, -0.5, 1, -1, 1.5, -1.5, Number.NaN, Number.POSITIVE_INFINITY];
      edges.push(Number.NEGATIVE_INFINITY, 1e-30, -1e-30, 3.4e38, -3.4e38);
      for (const k of [-scale - 1, -scale, -3, -1, 0, 1, 2, scale - 2, scale - 1, scale]) {
        for (const offset of [-0.5, -0.25, 0.25, 0.5]) edges.push((k + offset) / scale);
      }
      edges.push(Math.fround(0.5 - 2 ** -25) / scale, Math.fround((scale - 0.5) / scale));
      let seed = 12345;
      for (let i = 0; i < 200_000; i++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        edges.push(((seed / 2 ** 32) * 2.2 - 1.1) * (i % 7 === 0 ? 1e-4 : 1));
      }
      const samples = Float32Array.from(edges);
      const encoder = new WavSampleEncoder(bits === 16 ? "16" : "24");
      const bytes = encoder.encode(samples);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      let changed = 0;
      for (let i = 0; i < samples.length; i++) {
        const want = reference(samples[i]!, bits);
        if (want.changed) changed += 1;
        const got =
          bits === 16
            ? view.getInt16(2 * i, true)
            : view.getUint16(3 * i, true) | (view.getInt8(3 * i + 2) << 16);
        if (got !== want.value)
          throw new Error(`sample ${samples[i]} (#${i}): wrote ${got}, expected ${want.value}`);
      }
      expect(encoder.clippedSamples).toBe(changed);
      expect(changed).toBeGreaterThan(10);
    });
  }
});

describe("WAV agrees with sox", () => {
  for (const [bits, encoding] of [
    ["16", "signed-integer"],
    ["24", "signed-integer"],
    ["32", "signed-integer"],
    ["32", "floating-point"],
    ["8", "unsigned-integer"],
  ] as const) {
    it(`reads sox's ${bits}-bit ${encoding} 3-channel WAV exactly as sox converts it to float`, () => {
      const wav = join(dir, `sox-${bits}-${encoding}.wav`);
      const raw = join(dir, `sox-${bits}-${encoding}.f32`);
      const synth = ["synth", "0.05", "sine", "1000", "sine", "300", "noise"];
      execFileSync("sox", [
        "-n",
        "-r",
        "32000",
        "-c",
        "3",
        "-b",
        bits,
        "-e",
        encoding,
        wav,
        ...synth,
        "vol",
        "0.7",
      ]);
      execFileSync("sox", [wav, "-t", "f32", "-e", "floating-point", raw]);
      const { audio, info } = parseWav(readFileSync(wav), wav);
      const ref = new Float32Array(readFileSync(raw).buffer.slice(0));
      expect(info.frames).toBe(1600);
      expect(info.channels).toBe(3);
      const tolerance = bits === "32" && encoding === "signed-integer" ? 2 ** -24 : 0;
      let worst = 0;
      for (let f = 0; f < info.frames; f++) {
        for (let c = 0; c < 3; c++)
          worst = Math.max(worst, Math.abs(audio.channelData[c]![f]! - ref[f * 3 + c]!));
      }
      expect(worst).toBeLessThanOrEqual(tolerance);
    });
  }

  it("writes files sox reads back with the same samples", () => {
    const audio = { sampleRate: 44100, frames: 3, channelData: [Float32Array.from([0.25, -0.5, 0.125])] };
    const path = join(dir, "ours.wav");
    execFileSync("sh", ["-c", `cat > ${path}`], { input: writeWav(audio, "24").bytes });
    const out = execFileSync("sox", [path, "-t", "f32", "-"]);
    expect([...new Float32Array(out.buffer, out.byteOffset, 3)]).toEqual([0.25, -0.5, 0.125]);
  });

  for (const [depth, channels] of [
    ["32f", 2],
    ["32f", 1],
    ["32f", 5],
    ["24", 2],
    ["16", 6],
  ] as const) {
    it(`writes a ${depth}-bit ${channels}-channel header sox reads without a warning, same samples`, () => {
      const frames = 4;
      const channelData = Array.from({ length: channels }, (_, c) =>
        Float32Array.from({ length: frames }, (_, f) => (f - 2 + c / 8) / 4),
      );
      const path = join(dir, `header-${depth}-${channels}.wav`);
      execFileSync("sh", ["-c", `cat > ${path}`], {
        input: writeWav({ sampleRate: 48000, frames, channelData }, depth).bytes,
      });
      // sox prints "WARN wav: wave header missing extended part of fmt chunk" for a float file without cbSize.
      // Debian's sox 14.4 prints it for our float WAVE_FORMAT_EXTENSIBLE file too, although its fmt chunk has all
      // 40 bytes (sox's own writer uses the plain float tag even for 5 channels); the RIFF rules ask for
      // EXTENSIBLE above 2 channels, so we keep it, and the samples must still agree.
      const result = spawnSync("sox", ["-V2", path, "-t", "f32", "-"]);
      expect(result.status).toBe(0);
      const warnings = result.stderr.toString();
      if (depth === "32f" && channels > 2)
        expect(warnings).toBe("sox WARN wav: wave header missing extended part of fmt chunk\n");
      else expect(warnings).toBe("");
      const got = new Float32Array(result.stdout.buffer, result.stdout.byteOffset, frames * channels);
      for (let f = 0; f < frames; f++)
        for (let c = 0; c < channels; c++) expect(got[f * channels + c]).toBe(channelData[c]![f]);
    });
  }
});

describe("WAV validation", () => {
  const good = wavBytes({ depth: "16", sampleRate: 44100, channels: 2, interleaved: integerSamples(64, 16) });
  const mutate = (edit: (b: Uint8Array) => void) => {
    const b = good.slice();
    edit(b);
    return b;
  };
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ["wrong magic", mutate((b) => b.set([0x52, 0x49, 0x46, 0x58])), /starts with "RIFX"/],
    ["not WAVE", mutate((b) => b.set([0x41, 0x56, 0x49, 0x20], 8)), /type "AVI "/],
    ["truncated", good.subarray(0, good.length - 10), /truncated: the RIFF header says/],
    [
      "absurd fmt length",
      mutate((b) => b.set([0xff, 0xff, 0xff, 0x00], 16)),
      /chunk "fmt " at byte 12 declares 16777215 bytes/,
    ],
    ["compressed format", mutate((b) => b.set([0x55, 0x00], 20)), /compressed WAV \(format tag 0x55\)/],
    ["zero channels", mutate((b) => b.set([0, 0], 22)), /0 channels/],
    ["block align mismatch", mutate((b) => b.set([3, 0], 32)), /block align 3/],
    ["12-bit samples", mutate((b) => b.set([12, 0], 34)), /12-bit integer PCM is not supported/],
    ["no data", good.subarray(0, 36).slice(), /truncated|no "data" chunk/],
    ["tiny", Uint8Array.from([1, 2, 3]), /too short/],
  ];
  for (const [label, bytes, pattern] of cases) {
    it(`rejects ${label} with an error naming the file and the problem`, () => {
      const error = errorOf(() => parseWav(bytes, "bad.wav"));
      expect(error.message.startsWith("bad.wav: ")).toBe(true);
      expect(error.message).toMatch(pattern);
    });
  }
});
