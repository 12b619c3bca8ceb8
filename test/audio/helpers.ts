// Shared fixtures for the engine tests: temp dirs, deterministic page content, a canvas with several streams.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CanvasWriter, createCanvasFile } from "../../app/audio/canvas-file";
import { loadAddon } from "../../app/audio/native";

/** Loads the addon or fails with the loader's message ("native addon not built: run npm run setup ..."). */
export function requireAddon(): void {
  loadAddon();
}

export function tempDir(prefix = "lc-audio-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Deterministic content in [-0.5, 0.5) that differs per stream, page, frame and channel. */
export function pageContent(
  streamKey: bigint,
  pageIndex: number,
  frames: number,
  channels: number,
): Float32Array {
  const out = new Float32Array(frames * channels);
  let x = (Number(streamKey % 100003n) * 7919 + pageIndex * 104729 + 1) >>> 0;
  for (let i = 0; i < out.length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x / 4294967296 - 0.5;
  }
  return out;
}

export interface TestCanvasSpec {
  path: string;
  sampleRate: number;
  channels: number;
  framesPerPage: number;
  pageCapacity: number;
  streams: Array<{ key: bigint; pages: number; skip?: number[]; generation?: number }>;
}

export function writeTestCanvas(spec: TestCanvasSpec): void {
  createCanvasFile(spec.path, spec);
  const writer = new CanvasWriter(spec.path);
  try {
    for (const stream of spec.streams) {
      for (let p = 0; p < stream.pages; p++) {
        if (stream.skip?.includes(p)) continue;
        writer.writePage(
          stream.key,
          p,
          stream.generation ?? 1,
          pageContent(stream.key, p, spec.framesPerPage, spec.channels),
        );
      }
    }
  } finally {
    writer.close();
  }
}
