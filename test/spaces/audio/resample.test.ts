import { describe, expect, it } from "vitest";
import { resample } from "../../../app/spaces/audio/resample";
import { analyseTone, rms, sine } from "../support/spectrum";

function linearInterpolation(input: Float32Array, fromRate: number, toRate: number): Float32Array {
  const out = new Float32Array(Math.floor((input.length * toRate) / fromRate));
  for (let i = 0; i < out.length; i++) {
    const x = (i * fromRate) / toRate;
    const j = Math.floor(x);
    const f = x - j;
    out[i] = (input[j] ?? 0) * (1 - f) + (input[j + 1] ?? 0) * f;
  }
  return out;
}

describe("resampler (libsamplerate, best sinc)", () => {
  it("keeps a 1 kHz sine at 1 kHz from 44100 to 48000 with aliasing, distortion and noise below -80 dB", async () => {
    const input = sine(1000, 44100, 44100);
    const out = await resample({ sampleRate: 44100, frames: input.length, channelData: [input] }, 48000);
    expect(out.sampleRate).toBe(48000);
    expect(out.frames).toBe(48000);
    const tone = analyseTone(out.channelData[0]!, 48000, 1000);
    expect(Math.abs(tone.peakHz - 1000)).toBeLessThan(2);
    expect(tone.residualDb).toBeLessThan(-80);
    expect(rms(out.channelData[0]!, 4000, 44000)).toBeCloseTo(0.5 / Math.SQRT2, 3);
    // The peer in the same run: linear interpolation leaves far more (about -62 dB).
    const linear = analyseTone(linearInterpolation(input, 44100, 48000), 48000, 1000);
    expect(linear.residualDb).toBeGreaterThan(tone.residualDb + 20);
  });

  it("attenuates a 23 kHz tone when going to 44100 Hz (above the new Nyquist) instead of aliasing it to 21.1 kHz", async () => {
    const input = sine(23000, 48000, 48000);
    const out = await resample({ sampleRate: 48000, frames: input.length, channelData: [input] }, 44100);
    const level = 20 * Math.log10(rms(out.channelData[0]!, 4000, 40000) / rms(input));
    expect(level).toBeLessThan(-80);
  });

  it("passes a 21 kHz tone (below the new Nyquist) from 48000 to 44100 without spurious components", async () => {
    const input = sine(21000, 48000, 48000);
    const out = await resample({ sampleRate: 48000, frames: input.length, channelData: [input] }, 44100);
    const tone = analyseTone(out.channelData[0]!, 44100, 21000);
    expect(Math.abs(tone.peakHz - 21000)).toBeLessThan(2);
    expect(tone.residualDb).toBeLessThan(-80);
  });

  it("resamples every channel of a multichannel file and leaves matching rates untouched", async () => {
    const channels = [sine(500, 22050, 22050), sine(2000, 22050, 22050, 0.25), new Float32Array(22050)];
    const audio = { sampleRate: 22050, frames: 22050, channelData: channels };
    expect(await resample(audio, 22050)).toBe(audio);
    const out = await resample(audio, 48000);
    expect(out.channelData).toHaveLength(3);
    expect(out.frames).toBe(48000);
    expect(Math.abs(analyseTone(out.channelData[1]!, 48000, 2000).peakHz - 2000)).toBeLessThan(2);
    expect(rms(out.channelData[2]!)).toBe(0);
  });
});
