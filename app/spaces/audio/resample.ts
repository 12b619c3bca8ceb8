// Band-limited sample-rate conversion for the `audio` space: libsamplerate (WASM, BSD) at its best sinc quality,
// one channel at a time. Called by the import pipeline and export; never on the real-time path.
import { createRequire } from "node:module";
import type { PcmAudio } from "./wav";

type LibSampleRate = typeof import("@alexanderolsen/libsamplerate-js");
const libsamplerate = createRequire(import.meta.url)("@alexanderolsen/libsamplerate-js") as LibSampleRate;

/** What is recorded with an artifact whose decoded form was resampled. */
export const RESAMPLER = {
  name: "libsamplerate",
  converter: "SRC_SINC_BEST_QUALITY",
  package: "@alexanderolsen/libsamplerate-js@2.1.2",
} as const;

/** Converts every channel to `targetRate`; returns the input itself when the rates already match. */
export async function resample(audio: PcmAudio, targetRate: number): Promise<PcmAudio> {
  if (audio.sampleRate === targetRate) return audio;
  if (!Number.isInteger(targetRate) || targetRate < 1000 || targetRate > 768_000) {
    throw new RangeError(`target sample rate ${targetRate} Hz is out of range (1000..768000)`);
  }
  const channelData: Float32Array[] = [];
  for (const channel of audio.channelData) {
    const converter = await libsamplerate.create(1, audio.sampleRate, targetRate, {
      converterType: libsamplerate.ConverterType.SRC_SINC_BEST_QUALITY,
    });
    try {
      channelData.push(channel.length === 0 ? new Float32Array(0) : converter.simple(channel));
    } finally {
      converter.destroy();
    }
  }
  const frames = channelData.reduce((min, c) => Math.min(min, c.length), Number.POSITIVE_INFINITY);
  return {
    sampleRate: targetRate,
    frames: Number.isFinite(frames) ? frames : 0,
    channelData: channelData.map((c) => (c.length === frames ? c : c.subarray(0, frames))),
  };
}
