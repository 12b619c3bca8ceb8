// Owns the control block layout (the one definition; native/src/control_block.h mirrors it) and typed access to
// a control block in a SharedArrayBuffer. Callers: engine.ts (setters), reference-mix.ts (reads), tests.
// JS writes with Atomics.store; the real-time callback reads with acquire loads and publishes positions and stats.

export const CONTROL_MAGIC = 0x42434c4c;
export const CONTROL_VERSION = 1;

export const GLOBAL = {
  magicOff: 0,
  versionOff: 4,
  maxHeadsOff: 8,
  maxLanesOff: 12,
  masterGainOff: 16,
  channelsOff: 20,
} as const;

export const STATS = {
  callbacksOff: 64,
  lateBlocksOff: 72,
  pageMissesOff: 80,
  tornReadRetriesOff: 88,
  maxCallbackNsOff: 96,
  lastCallbackNsOff: 104,
  framesRenderedOff: 112,
  captureOverrunsOff: 120,
  driverFallbacksOff: 128,
  missRecordsDroppedOff: 136,
} as const;

export const LANE = {
  lanesOff: 256,
  laneStride: 32,
  laneGainOff: 0,
  lanePanLeftOff: 4,
  lanePanRightOff: 8,
  laneMuteOff: 12,
  laneSoloOff: 16,
} as const;

export const HEAD = {
  headFixedBytes: 128,
  headPlayingOff: 0,
  headGainOff: 4,
  headMuteOff: 8,
  headSoloOff: 12,
  headGenerationOff: 16,
  headSeekCounterOff: 20,
  headSeekTargetOff: 24,
  headLoopStartOff: 32,
  headLoopEndOff: 40,
  headLoopEnabledOff: 48,
  headStreamMapSeqOff: 52,
  headPositionOff: 56,
  headSeekAppliedOff: 64,
  headStreamKeysOff: 128,
} as const;

export interface ControlLayout {
  readonly maxHeads: number;
  readonly maxLanes: number;
  readonly headsOff: number;
  readonly headStride: number;
  readonly totalBytes: number;
}

export function controlLayout(maxHeads: number, maxLanes: number): ControlLayout {
  const headsOff = LANE.lanesOff + LANE.laneStride * maxLanes;
  const headStride = HEAD.headFixedBytes + 8 * maxLanes;
  return { maxHeads, maxLanes, headsOff, headStride, totalBytes: headsOff + headStride * maxHeads };
}

/** Every offset by the names the addon's controlLayout() reports, for the layout comparison test. */
export function flatLayout(maxHeads: number, maxLanes: number): Record<string, number> {
  const l = controlLayout(maxHeads, maxLanes);
  return {
    magic: CONTROL_MAGIC,
    version: CONTROL_VERSION,
    ...GLOBAL,
    ...STATS,
    ...LANE,
    ...Object.fromEntries(Object.entries(HEAD).filter(([k]) => k !== "headFixedBytes")),
    headsOff: l.headsOff,
    headStride: l.headStride,
    totalBytes: l.totalBytes,
  };
}

export interface EngineStats {
  callbacks: number;
  lateBlocks: number;
  pageMisses: number;
  tornReadRetries: number;
  maxCallbackNs: number;
  lastCallbackNs: number;
  framesRendered: number;
  captureOverruns: number;
  driverFallbacks: number;
  /** Page misses counted but not recorded because the engine's miss ring was full (nobody drained it). */
  missRecordsDropped: number;
}

export interface LaneControls {
  gain: number;
  panLeft: number;
  panRight: number;
  mute: boolean;
  solo: boolean;
}

export interface HeadControls {
  playing: boolean;
  gain: number;
  mute: boolean;
  solo: boolean;
  generation: number;
  seekCounter: number;
  seekTargetFrames: number;
  loopStartFrames: number;
  loopEndFrames: number;
  loopEnabled: boolean;
  streamKeys: bigint[];
}

/** Constant-power pan in [-1, 1] to float32 left/right gains (computed here so C++ never calls cos/sin). */
export function panGains(pan: number): { panLeft: number; panRight: number } {
  if (!(pan >= -1 && pan <= 1))
    throw new RangeError(`pan ${pan} is outside -1..1 (-1 left, 0 centre, 1 right)`);
  const angle = ((pan + 1) * Math.PI) / 4;
  return { panLeft: Math.fround(Math.cos(angle)), panRight: Math.fround(Math.sin(angle)) };
}

export class ControlBlock {
  readonly buffer: SharedArrayBuffer;
  readonly layout: ControlLayout;
  readonly bytes: Uint8Array;
  readonly #i32: Int32Array;
  readonly #i64: BigInt64Array;
  readonly #bits = new Int32Array(1);
  readonly #bitsF = new Float32Array(this.#bits.buffer);

  private constructor(buffer: SharedArrayBuffer, maxHeads: number, maxLanes: number) {
    this.buffer = buffer;
    this.layout = controlLayout(maxHeads, maxLanes);
    this.bytes = new Uint8Array(buffer);
    this.#i32 = new Int32Array(buffer);
    this.#i64 = new BigInt64Array(buffer);
  }

  /** Allocates and initializes a control block: unit gains, centred pans, heads stopped at frame 0. */
  static create(options: { maxHeads: number; maxLanes: number; channels: number }): ControlBlock {
    const { maxHeads, maxLanes, channels } = options;
    for (const [name, v, max] of [
      ["maxHeads", maxHeads, 64],
      ["maxLanes", maxLanes, 1024],
    ] as const) {
      if (!Number.isInteger(v) || v < 1 || v > max)
        throw new RangeError(`${name} must be an integer in 1..${max}`);
    }
    const block = new ControlBlock(
      new SharedArrayBuffer(controlLayout(maxHeads, maxLanes).totalBytes),
      maxHeads,
      maxLanes,
    );
    block.#store32(GLOBAL.magicOff, CONTROL_MAGIC);
    block.#store32(GLOBAL.versionOff, CONTROL_VERSION);
    block.#store32(GLOBAL.maxHeadsOff, maxHeads);
    block.#store32(GLOBAL.maxLanesOff, maxLanes);
    block.#store32(GLOBAL.channelsOff, channels);
    block.setMasterGain(1);
    for (let l = 0; l < maxLanes; l++) {
      block.setLaneGain(l, 1);
      block.setLanePan(l, 0);
    }
    for (let h = 0; h < maxHeads; h++) block.setHeadGain(h, 1);
    return block;
  }

  #store32(byteOffset: number, value: number): void {
    Atomics.store(this.#i32, byteOffset >> 2, value | 0);
  }
  #load32(byteOffset: number): number {
    return Atomics.load(this.#i32, byteOffset >> 2) >>> 0;
  }
  #gain(name: string, gain: number): number {
    if (!Number.isFinite(gain))
      throw new RangeError(`${name} must be a finite number (1 = unity), got ${gain}`);
    return gain;
  }
  #storeF32(byteOffset: number, value: number): void {
    this.#bitsF[0] = value;
    Atomics.store(this.#i32, byteOffset >> 2, this.#bits[0]!);
  }
  #loadF32(byteOffset: number): number {
    this.#bits[0] = Atomics.load(this.#i32, byteOffset >> 2);
    return this.#bitsF[0]!;
  }
  #store64(byteOffset: number, value: bigint): void {
    Atomics.store(this.#i64, byteOffset >> 3, value);
  }
  #load64(byteOffset: number): bigint {
    return Atomics.load(this.#i64, byteOffset >> 3);
  }
  #lane(lane: number): number {
    if (!Number.isInteger(lane) || lane < 0 || lane >= this.layout.maxLanes) {
      throw new RangeError(`lane ${lane} is outside 0..${this.layout.maxLanes - 1}`);
    }
    return LANE.lanesOff + LANE.laneStride * lane;
  }
  #head(head: number): number {
    if (!Number.isInteger(head) || head < 0 || head >= this.layout.maxHeads) {
      throw new RangeError(`head ${head} is outside 0..${this.layout.maxHeads - 1}`);
    }
    return this.layout.headsOff + this.layout.headStride * head;
  }
  #frames(name: string, frames: number): bigint {
    if (!Number.isSafeInteger(frames) || frames < 0)
      throw new RangeError(`${name} must be a non-negative integer`);
    return BigInt(frames);
  }

  setMasterGain(gain: number): void {
    this.#storeF32(GLOBAL.masterGainOff, this.#gain("master gain", gain));
  }
  masterGain(): number {
    return this.#loadF32(GLOBAL.masterGainOff);
  }

  setLaneGain(lane: number, gain: number): void {
    this.#storeF32(this.#lane(lane) + LANE.laneGainOff, this.#gain("lane gain", gain));
  }
  setLanePan(lane: number, pan: number): void {
    const { panLeft, panRight } = panGains(pan);
    this.setLanePanGains(lane, panLeft, panRight);
  }
  /** Raw left/right gains (float32), for callers with their own pan law. */
  setLanePanGains(lane: number, panLeft: number, panRight: number): void {
    const at = this.#lane(lane);
    this.#storeF32(at + LANE.lanePanLeftOff, this.#gain("pan left gain", panLeft));
    this.#storeF32(at + LANE.lanePanRightOff, this.#gain("pan right gain", panRight));
  }
  setLaneMute(lane: number, mute: boolean): void {
    this.#store32(this.#lane(lane) + LANE.laneMuteOff, mute ? 1 : 0);
  }
  setLaneSolo(lane: number, solo: boolean): void {
    this.#store32(this.#lane(lane) + LANE.laneSoloOff, solo ? 1 : 0);
  }
  lane(lane: number): LaneControls {
    const at = this.#lane(lane);
    return {
      gain: this.#loadF32(at + LANE.laneGainOff),
      panLeft: this.#loadF32(at + LANE.lanePanLeftOff),
      panRight: this.#loadF32(at + LANE.lanePanRightOff),
      mute: this.#load32(at + LANE.laneMuteOff) !== 0,
      solo: this.#load32(at + LANE.laneSoloOff) !== 0,
    };
  }

  setHeadPlaying(head: number, playing: boolean): void {
    this.#store32(this.#head(head) + HEAD.headPlayingOff, playing ? 1 : 0);
  }
  setHeadGain(head: number, gain: number): void {
    this.#storeF32(this.#head(head) + HEAD.headGainOff, this.#gain("head gain", gain));
  }
  setHeadMute(head: number, mute: boolean): void {
    this.#store32(this.#head(head) + HEAD.headMuteOff, mute ? 1 : 0);
  }
  setHeadSolo(head: number, solo: boolean): void {
    this.#store32(this.#head(head) + HEAD.headSoloOff, solo ? 1 : 0);
  }
  /** Pages with a generation below this are stale for the head (silence plus a counted miss). */
  setHeadGeneration(head: number, generation: number): void {
    if (!Number.isInteger(generation) || generation < 0 || generation > 0xffffffff) {
      throw new RangeError("generation must be an integer in 0..2^32-1");
    }
    this.#store32(this.#head(head) + HEAD.headGenerationOff, generation);
  }
  /** Requests a seek; the callback applies it at its next block. Returns the seek counter to wait for. */
  seekHead(head: number, frames: number): number {
    const at = this.#head(head);
    this.#store64(at + HEAD.headSeekTargetOff, this.#frames("seek target frames", frames));
    return (Atomics.add(this.#i32, (at + HEAD.headSeekCounterOff) >> 2, 1) + 1) >>> 0;
  }
  setHeadLoop(head: number, loop: { startFrames: number; endFrames: number; enabled: boolean }): void {
    const at = this.#head(head);
    if (loop.enabled && !(loop.endFrames > loop.startFrames)) {
      throw new RangeError("loop end must be after loop start (frames)");
    }
    const startFrames = this.#frames("loop start frames", loop.startFrames);
    const endFrames = this.#frames("loop end frames", loop.endFrames);
    // Under the head's seqlock (with the stream map): the callback adopts start, end and enabled together.
    const seqIndex = (at + HEAD.headStreamMapSeqOff) >> 2;
    Atomics.add(this.#i32, seqIndex, 1);
    this.#store64(at + HEAD.headLoopStartOff, startFrames);
    this.#store64(at + HEAD.headLoopEndOff, endFrames);
    this.#store32(at + HEAD.headLoopEnabledOff, loop.enabled ? 1 : 0);
    Atomics.add(this.#i32, seqIndex, 1);
  }
  /** Maps lanes to stream keys for a head (0n = no stream); keys beyond the array are left as they are. */
  setHeadStreams(head: number, keys: ReadonlyArray<bigint>, firstLane = 0): void {
    const at = this.#head(head);
    if (firstLane < 0 || firstLane + keys.length > this.layout.maxLanes) {
      throw new RangeError(`stream map of ${keys.length} lanes from lane ${firstLane} exceeds maxLanes`);
    }
    // Validate before taking the seqlock: a throw while it is odd would leave it odd for good.
    for (const key of keys) {
      if (key < 0n || key > 0xffffffffffffffffn)
        throw new RangeError("stream key must be an unsigned 64-bit value");
    }
    const seqIndex = (at + HEAD.headStreamMapSeqOff) >> 2;
    Atomics.add(this.#i32, seqIndex, 1);
    keys.forEach((key, i) => {
      this.#store64(at + HEAD.headStreamKeysOff + 8 * (firstLane + i), BigInt.asIntN(64, key));
    });
    Atomics.add(this.#i32, seqIndex, 1);
  }

  head(head: number): HeadControls {
    const at = this.#head(head);
    const streamKeys: bigint[] = [];
    for (let l = 0; l < this.layout.maxLanes; l++) {
      streamKeys.push(BigInt.asUintN(64, this.#load64(at + HEAD.headStreamKeysOff + 8 * l)));
    }
    return {
      playing: this.#load32(at + HEAD.headPlayingOff) !== 0,
      gain: this.#loadF32(at + HEAD.headGainOff),
      mute: this.#load32(at + HEAD.headMuteOff) !== 0,
      solo: this.#load32(at + HEAD.headSoloOff) !== 0,
      generation: this.#load32(at + HEAD.headGenerationOff),
      seekCounter: this.#load32(at + HEAD.headSeekCounterOff),
      seekTargetFrames: Number(this.#load64(at + HEAD.headSeekTargetOff)),
      loopStartFrames: Number(this.#load64(at + HEAD.headLoopStartOff)),
      loopEndFrames: Number(this.#load64(at + HEAD.headLoopEndOff)),
      loopEnabled: this.#load32(at + HEAD.headLoopEnabledOff) !== 0,
      streamKeys,
    };
  }

  /** The audible position the callback published: the next timeline frame the head renders. */
  headPositionFrames(head: number): number {
    return Number(this.#load64(this.#head(head) + HEAD.headPositionOff));
  }
  headSeekApplied(head: number): number {
    return this.#load32(this.#head(head) + HEAD.headSeekAppliedOff);
  }

  stats(): EngineStats {
    const n = (off: number) => Number(BigInt.asUintN(64, this.#load64(off)));
    return {
      callbacks: n(STATS.callbacksOff),
      lateBlocks: n(STATS.lateBlocksOff),
      pageMisses: n(STATS.pageMissesOff),
      tornReadRetries: n(STATS.tornReadRetriesOff),
      maxCallbackNs: n(STATS.maxCallbackNsOff),
      lastCallbackNs: n(STATS.lastCallbackNsOff),
      framesRendered: n(STATS.framesRenderedOff),
      captureOverruns: n(STATS.captureOverrunsOff),
      driverFallbacks: n(STATS.driverFallbacksOff),
      missRecordsDropped: n(STATS.missRecordsDroppedOff),
    };
  }
}
