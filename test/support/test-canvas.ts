// Test support: a canvas file with deterministic lane content and a control block set up to play it, for the
// driver, real-time-safety and benchmark runs. Callers: test/audio/*, bench/engine/*. Uses the engine's own modules
// (app/audio/canvas-file, control-block, native) so what is played is what the product plays.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CanvasReader, CanvasWriter, createCanvasFile } from "../../app/audio/canvas-file";
import { ControlBlock } from "../../app/audio/control-block";

export interface TestCanvasOptions {
  lanes: number;
  /** Frames of content per lane written up front. */
  frames: number;
  sampleRate?: number;
  framesPerPage?: number;
  /** Page slots; default: twice the pages written (the table is open-addressed with bounded probing). */
  pageCapacity?: number;
  maxHeads?: number;
  /** Lanes of the control block (default: lanes); more leaves room for streams the canvas does not have. */
  maxLanes?: number;
}

export interface TestCanvas {
  readonly dir: string;
  readonly path: string;
  readonly sampleRate: number;
  readonly framesPerPage: number;
  readonly lanes: number;
  readonly keys: bigint[];
  readonly control: ControlBlock;
  readonly writer: CanvasWriter;
  /** Lane content (interleaved stereo) for frames [startFrame, startFrame + frames). */
  laneFrames(lane: number, startFrame: number, frames: number): Float32Array;
  /** (Re)writes page `pageIndex` of every lane with `generation`. */
  writePage(pageIndex: number, generation: number): void;
  reader(): CanvasReader;
  dispose(): void;
}

/** A value that never repeats within 2^20 frames and is never zero: frame i of lane l, channel c. */
export function laneSample(lane: number, frame: number, channel: number): number {
  const i = (frame % (1 << 20)) + 1;
  if (channel === 0) return Math.fround(((i * (lane + 1)) % (1 << 20)) / (1 << 21) + 1 / (1 << 22));
  // Right channel: a 32-bit LCG of (lane, frame), scaled to [-0.25, 0.25).
  const x = (Math.imul(i ^ (lane * 0x9e3779b1), 1664525) + 1013904223) >>> 0;
  return Math.fround((x / 2 ** 32 - 0.5) * 0.5);
}

export function createTestCanvas(options: TestCanvasOptions): TestCanvas {
  const sampleRate = options.sampleRate ?? 48_000;
  const framesPerPage = options.framesPerPage ?? 4096;
  const pagesPerLane = Math.ceil(options.frames / framesPerPage);
  const pageCapacity = options.pageCapacity ?? Math.ceil(pagesPerLane * options.lanes * 2) + 64;
  const dir = mkdtempSync(join(tmpdir(), "lc-canvas-"));
  const path = join(dir, "canvas.lccanvas");
  createCanvasFile(path, { sampleRate, channels: 2, framesPerPage, pageCapacity });
  const writer = new CanvasWriter(path);
  const keys = Array.from({ length: options.lanes }, (_, l) => BigInt(l + 1) * 0x1000_0001n);
  const control = ControlBlock.create({
    maxHeads: options.maxHeads ?? 2,
    maxLanes: Math.max(options.maxLanes ?? options.lanes, 1),
    channels: 2,
  });
  const laneFrames = (lane: number, startFrame: number, frames: number): Float32Array => {
    const out = new Float32Array(frames * 2);
    for (let i = 0; i < frames; i++) {
      out[2 * i] = laneSample(lane, startFrame + i, 0);
      out[2 * i + 1] = laneSample(lane, startFrame + i, 1);
    }
    return out;
  };
  const writePage = (pageIndex: number, generation: number): void => {
    for (let l = 0; l < options.lanes; l++) {
      writer.writePage(
        keys[l]!,
        pageIndex,
        generation,
        laneFrames(l, pageIndex * framesPerPage, framesPerPage),
      );
    }
  };
  for (let p = 0; p < pagesPerLane; p++) writePage(p, 1);
  return {
    dir,
    path,
    sampleRate,
    framesPerPage,
    lanes: options.lanes,
    keys,
    control,
    writer,
    laneFrames,
    writePage,
    reader: () => new CanvasReader(path),
    dispose: () => {
      writer.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Sets distinct, non-trivial mixer controls (gains, pans) and maps head 0 onto every lane; does not start it. */
export function setMixerControls(canvas: TestCanvas): void {
  const { control } = canvas;
  control.setMasterGain(0.7);
  for (let l = 0; l < canvas.lanes; l++) {
    control.setLaneGain(l, 0.5 + (l % 5) * 0.1);
    control.setLanePan(l, ((l % 7) - 3) / 4);
  }
  control.setHeadGain(0, 0.9);
  control.setHeadStreams(0, canvas.keys);
}
