// Owns the engine self-test: writes a test canvas (a distinct tone per lane, shared and per-head streams) in a
// temp dir, plays it through a driver, captures what the callback produced and compares it bit for bit with the
// JS reference mix. Callers: `lcanvas engine selftest` (app/cli/commands/engine.ts), tests.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CanvasReader, CanvasWriter, createCanvasFile } from "./canvas-file";
import { Engine } from "./engine";
import { countMismatches, ReferenceMixer } from "./reference-mix";

export interface SelftestOptions {
  driver: "null" | "offline" | "rtaudio";
  api?: string;
  deviceId?: string;
  lanes: number;
  heads: number;
  seconds: number;
  sampleRate: number;
  bufferFrames: number;
}

export interface SelftestResult {
  driver: string;
  api: string | null;
  sample_rate: number;
  buffer_frames: number;
  heads: number;
  lanes: number;
  seconds: number;
  callbacks: number;
  expected_callbacks: number;
  late_blocks: number;
  page_misses: number;
  expected_page_misses: number;
  torn_read_retries: number;
  max_callback_us: number;
  capture_overruns: number;
  realtime_priority: boolean;
  frames_compared: number;
  mismatched_samples: number;
  first_mismatch: number | null;
  ok: boolean;
}

const FRAMES_PER_PAGE = 4096;
const LOOP_PAGES = 12;

/** Stream key of a lane for a head: lane 0..n-2 are shared by all heads, the last lane is per head. */
export function selftestStreamKey(head: number, lane: number, lanes: number): bigint {
  return lane === lanes - 1 && lanes > 1 ? BigInt(1000 + head) : BigInt(1 + lane);
}

function tone(
  frequencyHz: number,
  sampleRate: number,
  startFrame: number,
  frames: number,
  amplitude: number,
) {
  const out = new Float32Array(frames * 2);
  for (let i = 0; i < frames; i++) {
    const v = amplitude * Math.sin((2 * Math.PI * frequencyHz * (startFrame + i)) / sampleRate);
    out[2 * i] = v;
    out[2 * i + 1] = v * 0.5;
  }
  return out;
}

function writeSelftestCanvas(path: string, o: SelftestOptions): void {
  createCanvasFile(path, {
    sampleRate: o.sampleRate,
    channels: 2,
    framesPerPage: FRAMES_PER_PAGE,
    pageCapacity: 4096,
  });
  const writer = new CanvasWriter(path);
  try {
    const keys = new Set<bigint>();
    for (let h = 0; h < o.heads; h++)
      for (let l = 0; l < o.lanes; l++) keys.add(selftestStreamKey(h, l, o.lanes));
    let n = 0;
    for (const key of keys) {
      const frequency = 110 * 2 ** (n++ / 5);
      for (let p = 0; p < LOOP_PAGES; p++) {
        writer.writePage(key, p, 1, tone(frequency, o.sampleRate, p * FRAMES_PER_PAGE, FRAMES_PER_PAGE, 0.1));
      }
    }
  } finally {
    writer.close();
  }
}

function setControls(engine: Engine, o: SelftestOptions): void {
  for (let l = 0; l < o.lanes; l++) {
    engine.setLanePan(l, o.lanes === 1 ? 0 : -1 + (2 * l) / (o.lanes - 1));
    engine.setLaneGain(l, 1 - l / (2 * o.lanes));
  }
  for (let h = 0; h < o.heads; h++) {
    engine.setHeadStreams(
      h,
      Array.from({ length: o.lanes }, (_, l) => selftestStreamKey(h, l, o.lanes)),
    );
    engine.setHeadGain(h, 1 / o.heads);
    engine.seek(h, (h * 5003) % (LOOP_PAGES * FRAMES_PER_PAGE));
    engine.setLoop(h, { startFrames: 0, endFrames: LOOP_PAGES * FRAMES_PER_PAGE, enabled: true });
    engine.play(h);
  }
  engine.setMasterGain(0.9);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runSelftest(o: SelftestOptions): Promise<SelftestResult> {
  const dir = mkdtempSync(join(tmpdir(), "lc-selftest-"));
  const engine = Engine.create({
    sampleRate: o.sampleRate,
    channels: 2,
    maxHeads: o.heads,
    maxLanes: o.lanes,
    maxBlockFrames: Math.max(4096, o.bufferFrames),
  });
  try {
    const path = join(dir, "selftest.lcc");
    writeSelftestCanvas(path, o);
    engine.openCanvas(path);
    const reference = new ReferenceMixer(new CanvasReader(path), engine.control, 2);
    setControls(engine, o);
    const frames = Math.round(o.seconds * o.sampleRate);
    let captured: Float32Array;
    let expectedCallbacks: number;
    let realtime = false;
    let bufferFrames = o.bufferFrames;
    if (o.driver === "offline") {
      engine.start({ driver: "offline" });
      captured = engine.renderOffline(frames, { blockFrames: o.bufferFrames });
      expectedCallbacks = Math.ceil(frames / o.bufferFrames);
    } else {
      engine.startCapture(frames + o.sampleRate * 2);
      const info = engine.start({
        driver: o.driver,
        bufferFrames: o.bufferFrames,
        ...(o.api ? { api: o.api } : {}),
        ...(o.deviceId ? { deviceId: o.deviceId } : {}),
      });
      bufferFrames = info.bufferFrames ?? o.bufferFrames;
      realtime = info.realtimePriority ?? false;
      // Opening a device can take a while: the clock comparison starts once start() has returned.
      const t0 = performance.now();
      const callbacksAtStart = engine.stats().callbacks;
      await sleep(o.seconds * 1000);
      const callbacksAtEnd = engine.stats().callbacks;
      const elapsedSeconds = (performance.now() - t0) / 1000;
      engine.stop();
      captured = engine.stopCapture();
      expectedCallbacks =
        engine.stats().callbacks -
        (callbacksAtEnd - callbacksAtStart) +
        Math.round((elapsedSeconds * o.sampleRate) / bufferFrames);
    }
    engine.stop();
    const stats = engine.stats();
    const ref = reference.render(captured.length / 2, bufferFrames);
    const diff = countMismatches(captured, ref.output);
    const compared = diff.compared / 2;
    return {
      driver: o.driver,
      api: o.api ?? null,
      sample_rate: o.sampleRate,
      buffer_frames: bufferFrames,
      heads: o.heads,
      lanes: o.lanes,
      seconds: o.seconds,
      callbacks: stats.callbacks,
      expected_callbacks: expectedCallbacks,
      late_blocks: stats.lateBlocks,
      page_misses: stats.pageMisses,
      expected_page_misses: ref.pageMisses,
      torn_read_retries: stats.tornReadRetries,
      max_callback_us: Math.round(stats.maxCallbackNs / 100) / 10,
      capture_overruns: stats.captureOverruns,
      realtime_priority: realtime,
      frames_compared: compared,
      mismatched_samples: diff.mismatched,
      first_mismatch: diff.firstIndex < 0 ? null : diff.firstIndex,
      ok: diff.mismatched === 0 && compared > 0 && stats.captureOverruns === 0,
    };
  } finally {
    engine.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}
