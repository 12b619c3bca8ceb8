// Test support for the host tests: a fresh copy of the demo project (built by assets/demo/make-demo.ts) in a
// temporary folder, and reading back 32-bit float WAV files as interleaved samples.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseWav } from "../../app/spaces/audio/wav";
import { makeDemo } from "../../assets/demo/make-demo";

export interface DemoFixture {
  readonly root: string;
  readonly project: string;
  dispose(): void;
}

export async function demoProject(): Promise<DemoFixture> {
  const root = mkdtempSync(join(tmpdir(), "lc-host-"));
  const project = join(root, "demo");
  await makeDemo(project);
  return { root, project, dispose: () => rmSync(root, { recursive: true, force: true }) };
}

/** A WAV file as interleaved float32 samples (stereo). */
export function readInterleaved(file: string): { samples: Float32Array; sampleRate: number; frames: number } {
  const { audio } = parseWav(new Uint8Array(readFileSync(file)), file);
  const channels = audio.channelData.length;
  const samples = new Float32Array(audio.frames * channels);
  for (let i = 0; i < audio.frames; i++) {
    for (let c = 0; c < channels; c++) samples[i * channels + c] = audio.channelData[c]![i]!;
  }
  return { samples, sampleRate: audio.sampleRate, frames: audio.frames };
}

export function firstMismatch(a: Float32Array, b: Float32Array): number {
  const n = Math.min(a.length, b.length);
  const ua = new Uint32Array(a.buffer, a.byteOffset, n);
  const ub = new Uint32Array(b.buffer, b.byteOffset, n);
  for (let i = 0; i < n; i++) if (ua[i] !== ub[i]) return i;
  return a.length === b.length ? -1 : n;
}

export function peak(samples: Float32Array, from = 0, to = samples.length): number {
  let max = 0;
  for (let i = from; i < to; i++) max = Math.max(max, Math.abs(samples[i]!));
  return max;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
