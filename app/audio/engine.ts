// Owns the typed engine API over the native addon: one Engine = one control block + one native kernel + at most
// one live driver. Callers: the engine host (transport, mixer, renderer wiring), the CLI, tests.
// Controls are written into the shared control block and heard in the next block, with no re-render.
import { closeSync, openSync, writeSync } from "node:fs";
import { ControlBlock, type EngineStats } from "./control-block";
import {
  loadAddon,
  type NativeCanvasInfo,
  type NativeDriverInfo,
  type NativeEngineInstance,
  type NativeMissRecord,
} from "./native";

export interface EngineOptions {
  sampleRate: number;
  channels: number;
  maxHeads: number;
  maxLanes: number;
  maxBlockFrames: number;
}

export type DriverKind = "null" | "offline" | "rtaudio";

export interface StartOptions {
  driver: DriverKind;
  /** Frames per callback (null, rtaudio). Default 256. */
  bufferFrames?: number;
  /** rtaudio: "jack", "alsa", "pulse" (default: RtAudio's choice). */
  api?: string;
  deviceId?: string;
  /** Try SCHED_FIFO for the callback thread (default true; silently normal priority where not permitted). */
  realtimePriority?: boolean;
  /** Pages per lane the prefetch thread keeps faulted in ahead of each head (default 8). */
  prefetchPages?: number;
  /** Also mlock prefetched pages (root or a raised RLIMIT_MEMLOCK only). */
  lockPages?: boolean;
}

export type DriverInfo = NativeDriverInfo;

/** Why a lane-segment was silence; the index is the native MissReason (native/src/engine.h). */
export const MISS_REASONS = [
  "no-canvas",
  "page-out-of-range",
  "absent",
  "never-written",
  "invalid",
  "moved",
  "stale",
  "torn",
] as const;
export type MissReason = (typeof MISS_REASONS)[number];

/**
 * One page miss recorded by the callback: a lane-segment of a head that played silence. `engineFrame` is the
 * output frame (the engine's framesRendered count) where the silent segment starts; `timelineFrame` is the head's
 * timeline position there; `frames` how long the segment is (a segment ends at a page boundary, the loop end or
 * the block end, so one missing page gives one record per block it spans).
 */
export interface PageMiss {
  readonly engineFrame: number;
  readonly timelineFrame: number;
  readonly head: number;
  readonly lane: number;
  readonly streamKey: bigint;
  readonly pageIndex: number;
  readonly frameOffset: number;
  readonly frames: number;
  readonly wantedGeneration: number;
  /** The page's generation where it was read (stale, invalid), else 0. */
  readonly pageGeneration: number;
  readonly reason: MissReason;
}

function toPageMiss(record: NativeMissRecord): PageMiss {
  const { reason, ...rest } = record;
  return { ...rest, reason: MISS_REASONS[reason] ?? "absent" };
}

export class Engine {
  readonly options: Readonly<EngineOptions>;
  readonly control: ControlBlock;
  #native: NativeEngineInstance | undefined;
  #driver: DriverKind | undefined;

  private constructor(options: EngineOptions, control: ControlBlock, native: NativeEngineInstance) {
    this.options = Object.freeze({ ...options });
    this.control = control;
    this.#native = native;
  }

  static create(options: EngineOptions): Engine {
    const addon = loadAddon();
    const control = ControlBlock.create(options);
    const native = new addon.NativeEngine(control.bytes, { ...options });
    return new Engine(options, control, native);
  }

  #engine(): NativeEngineInstance {
    if (!this.#native) throw new Error("this engine was disposed; create a new Engine");
    return this.#native;
  }

  /** Maps a canvas file for playback (validated first). On error the previous canvas stays active. */
  openCanvas(path: string): NativeCanvasInfo {
    return this.#engine().openCanvas(path);
  }
  closeCanvas(): void {
    this.#engine().closeCanvas();
  }

  setMasterGain(gain: number): void {
    this.control.setMasterGain(gain);
  }
  setLaneGain(lane: number, gain: number): void {
    this.control.setLaneGain(lane, gain);
  }
  setLanePan(lane: number, pan: number): void {
    this.control.setLanePan(lane, pan);
  }
  setLaneMute(lane: number, mute: boolean): void {
    this.control.setLaneMute(lane, mute);
  }
  setLaneSolo(lane: number, solo: boolean): void {
    this.control.setLaneSolo(lane, solo);
  }
  play(head: number): void {
    this.control.setHeadPlaying(head, true);
  }
  pause(head: number): void {
    this.control.setHeadPlaying(head, false);
  }
  seek(head: number, frames: number): number {
    return this.control.seekHead(head, frames);
  }
  setLoop(head: number, loop: { startFrames: number; endFrames: number; enabled: boolean }): void {
    this.control.setHeadLoop(head, loop);
  }
  setHeadGain(head: number, gain: number): void {
    this.control.setHeadGain(head, gain);
  }
  setHeadMute(head: number, mute: boolean): void {
    this.control.setHeadMute(head, mute);
  }
  setHeadSolo(head: number, solo: boolean): void {
    this.control.setHeadSolo(head, solo);
  }
  setHeadGeneration(head: number, generation: number): void {
    this.control.setHeadGeneration(head, generation);
  }
  setHeadStreams(head: number, keys: ReadonlyArray<bigint>, firstLane = 0): void {
    this.control.setHeadStreams(head, keys, firstLane);
  }

  /** Starts a driver. "offline" starts nothing: render with renderOffline(). */
  start(options: StartOptions): DriverInfo {
    if (this.#driver) throw new Error(`the ${this.#driver} driver is already started; stop() it first`);
    if (options.driver === "offline") {
      this.#driver = "offline";
      return { name: "offline", running: false, sampleRate: this.options.sampleRate };
    }
    const info = this.#engine().startDriver({ ...options, driver: options.driver });
    this.#driver = options.driver;
    return info;
  }

  stop(): void {
    this.#native?.stopDriver();
    this.#driver = undefined;
  }

  /** rtaudio: after a fallback to the null driver, tries the device again (throws with the reason). */
  reopenDriver(): DriverInfo {
    return this.#engine().reopenDriver();
  }

  driverInfo(): DriverInfo {
    if (this.#driver === "offline") return { name: "offline", running: false };
    return this.#engine().driverInfo();
  }

  /** The offline driver: renders frames as fast as possible through the same kernel, in blocks of blockFrames. */
  renderOffline(frames: number, options: { blockFrames?: number } = {}): Float32Array {
    if (!Number.isInteger(frames) || frames < 0)
      throw new RangeError("frames must be a non-negative integer");
    if (this.#driver && this.#driver !== "offline") {
      throw new Error(`cannot render offline while the ${this.#driver} driver runs; stop() it first`);
    }
    return this.#engine().renderOffline(frames, options.blockFrames ?? this.options.maxBlockFrames);
  }

  /** Bounces frames to a 32-bit float WAV file. */
  renderOfflineToWav(path: string, frames: number, options: { blockFrames?: number } = {}): void {
    writeWavFloat32(
      path,
      this.renderOffline(frames, options),
      this.options.channels,
      this.options.sampleRate,
    );
  }

  /** Captures what the callback produces (preallocated SPSC ring drained by a non-real-time thread). */
  startCapture(maxFrames: number): void {
    this.#engine().startCapture(maxFrames);
  }
  stopCapture(): Float32Array {
    return this.#engine().stopCapture();
  }

  /** Faults in pages ahead of every playing head now (the live drivers also run a prefetch thread). */
  prefetch(aheadPages = 8): void {
    this.#engine().prefetch(aheadPages);
  }

  /**
   * Faults in pages [firstPage, firstPage + pageCount) of these streams now, on this thread: call it before
   * mapping new keys into a head, so the callback's first reads of them find the pages in its page table (the
   * prefetch thread follows only the keys already mapped).
   */
  prefetchStreams(keys: readonly bigint[], firstPage: number, pageCount: number): void {
    if (!(Number.isInteger(firstPage) && firstPage >= 0 && firstPage <= 0xffff_ffff)) {
      throw new RangeError(`firstPage must be an integer in 0..2^32-1, got ${firstPage}`);
    }
    if (!(Number.isInteger(pageCount) && pageCount >= 0 && pageCount <= 4096)) {
      throw new RangeError(`pageCount must be an integer in 0..4096, got ${pageCount}`);
    }
    this.#engine().prefetchStreams([...keys], firstPage, pageCount);
  }

  /** Diagnostics: how many of a stream's pages [firstPage, firstPage+count) are written and in memory. */
  residentPages(streamKey: bigint, firstPage: number, count: number): number {
    return this.#engine().residentPages(streamKey, firstPage, count);
  }

  /** Diagnostics (tests): drops the active canvas from the OS page cache, so its pages are cold again. */
  evictCanvasFromPageCache(): void {
    this.#engine().evictCanvasFromPageCache();
  }

  stats(): EngineStats {
    return this.control.stats();
  }

  /**
   * The page misses the callback recorded since the last call, oldest first (at most `maxRecords`). The engine
   * keeps up to 4096 undrained records; further misses are still counted in stats().pageMisses and the records
   * lost are counted in stats().missRecordsDropped.
   */
  takeMisses(maxRecords = 4096): PageMiss[] {
    return this.#engine().takeMisses(maxRecords).map(toPageMiss);
  }

  headPositionFrames(head: number): number {
    return this.control.headPositionFrames(head);
  }

  dispose(): void {
    this.#native?.dispose();
    this.#native = undefined;
    this.#driver = undefined;
  }
}

export function writeWavFloat32(
  path: string,
  samples: Float32Array,
  channels: number,
  sampleRate: number,
): void {
  const dataBytes = samples.length * 4;
  const header = Buffer.alloc(44);
  header.write("RIFF", 0, "ascii");
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write("WAVE", 8, "ascii");
  header.write("fmt ", 12, "ascii");
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(3, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * channels * 4, 28);
  header.writeUInt16LE(channels * 4, 32);
  header.writeUInt16LE(32, 34);
  header.write("data", 36, "ascii");
  header.writeUInt32LE(dataBytes, 40);
  const fd = openSync(path, "w");
  try {
    writeSync(fd, header);
    writeSync(fd, new Uint8Array(samples.buffer, samples.byteOffset, dataBytes));
  } finally {
    closeSync(fd);
  }
}
