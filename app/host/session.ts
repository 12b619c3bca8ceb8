// The engine host: one open project playing through the native engine. Owns the document editor, the library,
// the canvas file, the Engine and its control block, the lookahead renderer, and the control loop that feeds the
// renderer head positions and maps its stream keys into the control block. Callers: the CLI (play, bounce),
// app/host/bounce.ts, tests; later the desktop shell. Design: docs/host.md.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { CanvasWriter } from "../audio/canvas-file";
import type { EngineStats } from "../audio/control-block";
import { type DriverInfo, Engine, type MissReason, type PageMiss } from "../audio/engine";
import { loadAddon } from "../audio/native";
import {
  applyCommands,
  type Command,
  DocumentEditor,
  findHead,
  type Gesture,
  type ProjectDocument,
} from "../core/document";
import type { Region } from "../core/document/types";
import { beatToFrame, frameToBeat } from "../core/time/tempo-map";
import { type Autosaver, startAutosave } from "../project/autosave";
import { openProject, saveProject } from "../project/project";
import { realizeGenerative } from "../render/generative";
import { createLookaheadRenderer, type LookaheadRendererImpl } from "../render/index";
import { TAIL_SECONDS } from "../render/program";
import type { HeadView, LookaheadRenderer, RendererStats } from "../render/types";
import { findSoundFont } from "../spaces/synth/soundfonts";
import { type Library, openLibrary } from "../store";
import { pageCapacityFor, prepareCanvasCache } from "./canvas-cache";
import { applyHeadControls, applyLaneControls, isMixerOnlyChange } from "./mixer";

export type SessionDriver = "null" | "rtaudio" | "offline";

export interface SessionOptions {
  readonly driver: SessionDriver;
  /** rtaudio: "jack", "pulse", "alsa" (default: RtAudio's choice). */
  readonly api?: string;
  readonly device?: string;
  /** Frames per callback (and per offline block). Default 256. */
  readonly bufferFrames?: number;
  /** Default 48000. */
  readonly sampleRate?: number;
  /** Default 2 s. */
  readonly lookaheadSeconds?: number;
  /** Render worker threads; default: the renderer's (one per core). */
  readonly workers?: number;
  /** The SoundFont setting (else LCANVAS_SOUNDFONT, else the system locations). */
  readonly soundfont?: string;
  /** Frames per canvas page. Default 4096. */
  readonly framesPerPage?: number;
  /** Control loop period. Default 5 ms. */
  readonly controlIntervalMs?: number;
  /** Loop ranges of the heads are played (default true; bounces turn them off). */
  readonly loops?: boolean;
  /** Autosave delay after an edit; 0 = no autosave. Default 30 s. */
  readonly autosaveMs?: number;
  /**
   * Period of giving the C heap's free memory back to the system (glibc malloc_trim); 0 = never. Default 30 s.
   * The render workers' allocations leave free memory in glibc's per-thread arenas that it keeps: without it the
   * host's anonymous memory grew about 2.5 MiB a minute in the 10-minute soak, with it stayed flat.
   */
  readonly trimMemoryMs?: number;
  /**
   * Nothing plays in real time: the offline driver's renderOffline() waits for the pages it needs (a bounce), so
   * the renderer sends long runs of pages everywhere (RenderConfig.offline). Default false: a test driving the
   * offline driver like live playback gets the live scheduling.
   */
  readonly offlineRendering?: boolean;
  /** rtaudio: fall back to the null driver when no device or server is available (default true). */
  readonly fallbackToNull?: boolean;
  /** Longest wait of seek(), rewind() and an enabled setLoop() for the target's first pages. Default 500 ms. */
  readonly seekWaitMs?: number;
  /** Notes for the user (a rebuilt cache, a driver fallback). */
  readonly onNote?: (text: string) => void;
}

/** A problem of the host the user can act on; the message says what was wrong and what to do. */
export class HostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HostError";
  }
}

export interface HeadState {
  readonly id: string;
  readonly name: string;
  readonly slot: number;
  readonly playing: boolean;
  readonly positionFrames: number;
  readonly positionBeat: number;
}

/** A page miss as the musician sees it: which head and lane played silence, where, and why. */
export interface SessionMiss {
  /** The engine's output frame where the silence starts (its framesRendered count). */
  readonly engineFrame: number;
  readonly headId: string;
  readonly headName: string;
  readonly lane: number;
  readonly laneId: string;
  readonly laneName: string;
  /** The head's timeline position where the silence starts. */
  readonly timelineFrame: number;
  readonly atBeat: number;
  readonly frames: number;
  readonly pageIndex: number;
  readonly streamKey: bigint;
  readonly reason: MissReason;
  readonly wantedGeneration: number;
  readonly pageGeneration: number;
}

export interface SessionMissSummary {
  /** Misses the session drained from the engine's record (equals engine.pageMisses unless records were dropped). */
  readonly recorded: number;
  readonly byReason: Readonly<Partial<Record<MissReason, number>>>;
  /** The first few, oldest first. */
  readonly first: readonly SessionMiss[];
}

/** How many of the first misses stats() keeps. */
const FIRST_MISSES = 8;

export interface SessionStats {
  /** malloc_trim calls (trimMemoryMs) and the longest one, ms (it runs on the host thread). */
  readonly memoryTrims: { readonly count: number; readonly maxMs: number };
  readonly driver: string;
  readonly engine: EngineStats;
  readonly misses: SessionMissSummary;
  readonly renderer: RendererStats;
  readonly heads: readonly HeadState[];
  readonly endFrame: number;
  readonly controlTicks: number;
  readonly rendererErrors: number;
}

interface PendingSeek {
  readonly counter: number;
  readonly frame: number;
}

const CHANNELS = 2;
/**
 * Default of `seekWaitMs`: how long a seek waits for the target's first pages before moving the engine's head
 * anyway. A cold seek far into a lane costs the synthesizer's exact seek from its last checkpoint (measured on the
 * demo, 2 cores: 80-440 ms), so 100 ms would still miss pages there; see docs/host.md.
 */
export const SEEK_WAIT_MS = 500;
/** Pages from a head's position faulted in for new keys before they are mapped into the control block. */
const PREFETCH_ON_SWITCH_PAGES = 3;
/** Pages at the target of a seek (or a loop start) that are rendered before the head moves there. */
const SEEK_PAGES = 2;

function requireSampleRate(sampleRate: number): number {
  if (!Number.isInteger(sampleRate) || sampleRate < 8000 || sampleRate > 384_000) {
    throw new HostError(
      `sample rate ${sampleRate} is not supported: use a whole number of Hz in 8000..384000`,
    );
  }
  return sampleRate;
}

export class Session {
  readonly projectDir: string;
  readonly sampleRate: number;
  readonly bufferFrames: number;
  readonly lookaheadFrames: number;
  readonly framesPerPage: number;
  readonly editor: DocumentEditor;
  readonly engine: Engine;
  readonly renderer: LookaheadRenderer;
  readonly canvasPath: string;
  readonly #options: SessionOptions;
  readonly #library: Library;
  readonly #writer: CanvasWriter;
  readonly #slots = new Map<string, number>();
  readonly #playing: boolean[];
  readonly #pending: (PendingSeek | undefined)[];
  /** A seek waiting for its target's first pages: the head is reported there (the renderer works there). */
  readonly #preparing: ({ readonly frame: number; readonly token: number } | undefined)[];
  #seekTokens = 0;
  readonly #unsubscribe: (() => void)[] = [];
  #document: ProjectDocument;
  #timer: ReturnType<typeof setInterval> | undefined;
  #trimTimer: ReturnType<typeof setInterval> | undefined;
  #trims = 0;
  #trimMaxMs = 0;
  #autosaver: Autosaver | undefined;
  #driverName = "none";
  #ticks = 0;
  #rendererErrors = 0;
  #closed = false;
  #missesRecorded = 0;
  readonly #missesByReason: Partial<Record<MissReason, number>> = {};
  readonly #firstMisses: SessionMiss[] = [];
  readonly #missListeners = new Set<(misses: readonly SessionMiss[]) => void>();

  /** Use openSession(). */
  constructor(parts: {
    projectDir: string;
    options: SessionOptions;
    document: ProjectDocument;
    library: Library;
    engine: Engine;
    writer: CanvasWriter;
    renderer: LookaheadRendererImpl;
    canvasPath: string;
    sampleRate: number;
    lookaheadFrames: number;
    framesPerPage: number;
  }) {
    this.projectDir = parts.projectDir;
    this.#options = parts.options;
    this.#document = parts.document;
    this.#library = parts.library;
    this.engine = parts.engine;
    this.#writer = parts.writer;
    this.renderer = parts.renderer;
    this.canvasPath = parts.canvasPath;
    this.sampleRate = parts.sampleRate;
    this.bufferFrames = parts.options.bufferFrames ?? 256;
    this.lookaheadFrames = parts.lookaheadFrames;
    this.framesPerPage = parts.framesPerPage;
    this.editor = new DocumentEditor(parts.document);
    const maxHeads = this.engine.options.maxHeads;
    this.#playing = new Array<boolean>(maxHeads).fill(false);
    this.#pending = new Array<PendingSeek | undefined>(maxHeads).fill(undefined);
    this.#preparing = new Array<{ frame: number; token: number } | undefined>(maxHeads).fill(undefined);
    this.#assignSlots(parts.document);
    this.#applyMixer(parts.document);
    this.#unsubscribe.push(
      this.renderer.onStreamKeysChanged((headId, keys) => this.#mapStreams(headId, keys)),
      // Background render errors (an edit that cannot be built, a failed page): counted and told; the previous
      // keys keep playing.
      parts.renderer.onError((error) => {
        this.#rendererErrors++;
        this.#note(`rendering failed: ${error.message}`);
      }),
      this.editor.subscribe((next) => this.#onDocument(next)),
    );
    for (const head of parts.document.heads) {
      this.#mapStreams(head.id, this.renderer.streamKeys(head.id));
      this.#seekSlot(head.id, beatToFrame(parts.document.tempoMap, head.positionBeat, this.sampleRate));
    }
    const autosaveMs = parts.options.autosaveMs ?? 30_000;
    if (autosaveMs > 0) {
      this.#autosaver = startAutosave(this.projectDir, this.editor, {
        delayMs: autosaveMs,
        onError: (error) => this.#note(`autosave failed: ${(error as Error).message}`),
      });
    }
    this.#prerenderLoops(parts.document);
    this.#tick();
    this.#timer = setInterval(() => this.#tick(), parts.options.controlIntervalMs ?? 5);
    const trimMs = parts.options.trimMemoryMs ?? 30_000;
    if (trimMs > 0) {
      const addon = loadAddon();
      this.#trimTimer = setInterval(() => {
        const started = performance.now();
        addon.mallocTrim();
        this.#trims++;
        this.#trimMaxMs = Math.max(this.#trimMaxMs, performance.now() - started);
      }, trimMs);
      this.#trimTimer.unref();
    }
  }

  get document(): ProjectDocument {
    return this.editor.document;
  }

  headIds(): string[] {
    return this.document.heads.map((head) => head.id);
  }

  /** The engine head slot of a head id or name; throws HostError naming the heads there are. */
  slotOf(head: string): number {
    const byId = this.#slots.get(head);
    if (byId !== undefined) return byId;
    const named = this.document.heads.find((h) => h.name === head);
    if (named) return this.#slots.get(named.id)!;
    throw new HostError(
      `there is no attention head "${head}": the project has ${this.document.heads.map((h) => `"${h.name}" (${h.id})`).join(", ")}`,
    );
  }

  /** A head's id from its id or name. */
  headId(head: string): string {
    const slot = this.slotOf(head);
    for (const [id, s] of this.#slots) if (s === slot) return id;
    throw new HostError(`there is no attention head "${head}"`);
  }

  #ids(head: string | undefined): string[] {
    return head === undefined ? this.headIds() : [this.headId(head)];
  }

  // ---- driver ----

  /** Starts the live driver (nothing for "offline"). rtaudio falls back to null when no device is available. */
  start(): DriverInfo {
    const driver = this.#options.driver;
    const base = {
      bufferFrames: this.bufferFrames,
      realtimePriority: true,
      ...(this.#options.api === undefined ? {} : { api: this.#options.api }),
      ...(this.#options.device === undefined ? {} : { deviceId: this.#options.device }),
    };
    if (driver !== "rtaudio") {
      const info = this.engine.start({ ...base, driver });
      this.#driverName = driver;
      return info;
    }
    try {
      const info = this.engine.start({ ...base, driver: "rtaudio" });
      this.#driverName = info.name;
      return info;
    } catch (error) {
      if (this.#options.fallbackToNull === false) {
        throw new HostError(
          `no audio output could be opened (${(error as Error).message}): start a sound server or choose another API with --api, or use --driver null`,
        );
      }
      this.#note(
        `no audio device or server available (${(error as Error).message}); playing through the null driver (silent, same timing)`,
      );
      const info = this.engine.start({ ...base, driver: "null" });
      this.#driverName = "null";
      return info;
    }
  }

  driverName(): string {
    return this.#driverName;
  }

  /**
   * The offline driver: renders `frames` through the same kernel on this thread, in blocks of `blockFrames`
   * (default the session's buffer size; at most 4096). The kernel's output does not depend on the block size
   * while no control changes (test: bit-identity.test.ts, a live capture in 256-frame blocks against a bounce in
   * 4096-frame ones).
   */
  renderOffline(frames: number, blockFrames = this.bufferFrames): Float32Array {
    const out = this.engine.renderOffline(frames, { blockFrames });
    this.#tick();
    return out;
  }

  startCapture(maxFrames: number): void {
    this.engine.startCapture(maxFrames);
  }

  stopCapture(): Float32Array {
    return this.engine.stopCapture();
  }

  // ---- transport ----

  play(head?: string): void {
    for (const id of this.#ids(head)) {
      const slot = this.#slots.get(id)!;
      this.#playing[slot] = true;
      this.engine.play(slot);
    }
    this.#tick();
  }

  /** Pauses in place. */
  stop(head?: string): void {
    for (const id of this.#ids(head)) {
      const slot = this.#slots.get(id)!;
      this.#playing[slot] = false;
      this.engine.pause(slot);
    }
    this.#tick();
  }

  /**
   * Seeks to a beat so that it lands on sound: the renderer moves there first, and the engine's head follows once
   * the target's first pages are written (at most `seekWaitMs` later; then it moves anyway). Resolves when the
   * engine has been told; bad input throws at once. Pages of the old window are never played again (the head's
   * generation is bumped). A later seek of the same head wins over one still waiting.
   */
  seek(head: string | undefined, atBeat: number): Promise<void> {
    if (!Number.isFinite(atBeat) || atBeat < 0) {
      throw new HostError(`cannot seek to beat ${atBeat}: give a beat >= 0`);
    }
    const frame = beatToFrame(this.document.tempoMap, atBeat, this.sampleRate);
    return this.#seekReady(this.#ids(head).map((id) => ({ id, frame })));
  }

  /**
   * Moves heads to a frame WITHOUT bumping their generation: rendered pages stay valid. Only for replaying
   * content that did not change since it was rendered (the bounce's stems); a user's seek is seek().
   */
  relocate(head: string | undefined, frame: number): void {
    for (const id of this.#ids(head)) {
      const slot = this.#slots.get(id)!;
      this.#preparing[slot] = undefined;
      this.#pending[slot] = { counter: this.engine.seek(slot, frame), frame };
    }
    this.#tick();
  }

  /** Seeks each head to its start position (the document's positionBeat), landing on sound like seek(). */
  rewind(head?: string): Promise<void> {
    return this.#seekReady(
      this.#ids(head).map((id) => ({
        id,
        frame: beatToFrame(
          this.document.tempoMap,
          findHead(this.document, id)!.positionBeat,
          this.sampleRate,
        ),
      })),
    );
  }

  /**
   * Sets a head's loop range (saved in the document; a control-block change). An enabled loop waits (at most
   * seekWaitMs) for the first pages at its start, so the jump back lands on sound.
   */
  async setLoop(head: string, startBeat: number, endBeat: number, enabled: boolean): Promise<void> {
    const headId = this.headId(head);
    if (enabled && !(endBeat > startBeat)) {
      throw new HostError(`loop end beat ${endBeat} must be after loop start beat ${startBeat}`);
    }
    if (enabled && startBeat >= 0) {
      await this.#firstPages([headId], beatToFrame(this.document.tempoMap, startBeat, this.sampleRate));
    }
    this.apply(
      {
        kind: "updateHead",
        headId,
        changes: { loopStartBeat: startBeat, loopEndBeat: endBeat, loopEnabled: enabled },
      },
      "set loop",
    );
  }

  /** Only rate 1 plays in this build. */
  setRate(head: string, rate: number): void {
    this.headId(head);
    if (rate !== 1) {
      throw new HostError(`playback rate ${rate} is not supported yet: heads play at rate 1 (as written)`);
    }
  }

  // ---- edits ----

  /** Applies commands as one undo step: mixer fields go to the control block, everything else to the renderer. */
  apply(commands: Command | readonly Command[], label?: string): void {
    const list: readonly Command[] = Array.isArray(commands) ? commands : [commands as Command];
    const next = applyCommands(this.document, list).document;
    this.#checkCapacity(next);
    this.#checkEncodings(next);
    this.editor.apply(list, label);
  }

  /** Refuses (before anything changes) an edit whose regions play an encoding the project's library lacks. */
  #checkEncodings(next: ProjectDocument): void {
    const known = new Set(this.document.regions.map((region) => region.encodingHash));
    for (const region of next.regions) {
      if (known.has(region.encodingHash)) continue;
      if (existsSync(this.#library.store.pathOf(region.encodingHash))) {
        known.add(region.encodingHash);
        continue;
      }
      throw new HostError(missingEncoding(next, region, this.projectDir));
    }
  }

  /** The engine was sized at open: refuse (before anything changes) an edit that needs more lanes or heads. */
  #checkCapacity(next: ProjectDocument): void {
    const { maxLanes, maxHeads } = this.engine.options;
    if (next.lanes.length > maxLanes || next.heads.length > maxHeads) {
      throw new HostError(
        `this edit needs ${next.lanes.length} lanes and ${next.heads.length} heads, but the session was opened for at most ${maxLanes} lanes and ${maxHeads} heads: save, then reopen the project`,
      );
    }
  }

  beginGesture(label: string): Gesture {
    return this.editor.beginGesture(label);
  }

  undo(): boolean {
    return this.editor.undo();
  }

  redo(): boolean {
    return this.editor.redo();
  }

  /** Saves the document atomically (project.lcanvas.json). */
  async save(): Promise<void> {
    await saveProject(this.projectDir, this.document);
  }

  // ---- readiness, stats ----

  /** Frames from each head's audible position that must be rendered before play is heard at once. */
  #wantedAhead(audibleFrame: number): number {
    const end = this.renderer.endFrame();
    return Math.max(0, Math.min(this.lookaheadFrames, end - audibleFrame));
  }

  /** Resolves once every head's window is rendered (play is then heard in the next block). */
  async waitReady(options: { heads?: readonly string[]; timeoutMs?: number } = {}): Promise<void> {
    const ids = options.heads?.map((h) => this.headId(h)) ?? this.headIds();
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    for (;;) {
      this.#tick();
      const ready = this.renderer.stats().readyAheadFrames;
      const waiting = ids.filter((id) => {
        const slot = this.#slots.get(id)!;
        return (ready[id] ?? 0) < this.#wantedAhead(this.#audibleFrame(slot));
      });
      if (waiting.length === 0) return;
      if (Date.now() > deadline) {
        throw new HostError(
          `the renderer did not get ahead of heads ${waiting.join(", ")} within ${options.timeoutMs ?? 60_000} ms`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  heads(): HeadState[] {
    return this.document.heads.map((head) => {
      const slot = this.#slots.get(head.id)!;
      const positionFrames = this.#audibleFrame(slot);
      return {
        id: head.id,
        name: head.name,
        slot,
        playing: this.#playing[slot] ?? false,
        positionFrames,
        positionBeat: frameToBeat(this.document.tempoMap, positionFrames, this.sampleRate),
      };
    });
  }

  /**
   * Calls `listener` with every batch of page misses the engine recorded (drained by the control loop every few
   * milliseconds, and by stats()). Returns the unsubscribe function.
   */
  onMisses(listener: (misses: readonly SessionMiss[]) => void): () => void {
    this.#missListeners.add(listener);
    return () => this.#missListeners.delete(listener);
  }

  stats(): SessionStats {
    this.#drainMisses();
    return {
      memoryTrims: { count: this.#trims, maxMs: Math.round(this.#trimMaxMs * 100) / 100 },
      driver: this.#driverName,
      engine: this.engine.stats(),
      misses: {
        recorded: this.#missesRecorded,
        byReason: { ...this.#missesByReason },
        first: [...this.#firstMisses],
      },
      renderer: this.renderer.stats(),
      heads: this.heads(),
      endFrame: this.renderer.endFrame(),
      controlTicks: this.#ticks,
      rendererErrors: this.#rendererErrors,
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#trimTimer) clearInterval(this.#trimTimer);
    this.#trimTimer = undefined;
    for (const off of this.#unsubscribe) off();
    // Every step runs even when an earlier one fails (a library left open would keep its lock folder).
    const steps: (() => unknown)[] = [
      () => this.engine.stop(),
      () => this.#autosaver?.stop(),
      () => this.renderer.close(),
      () => this.#writer.close(),
      () => this.engine.dispose(),
      () => this.#library.close(),
    ];
    let failure: unknown;
    for (const step of steps) {
      try {
        await step();
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== undefined) throw failure;
  }

  // ---- internals ----

  #note(text: string): void {
    this.#options.onNote?.(text);
  }

  #audibleFrame(slot: number): number {
    const preparing = this.#preparing[slot];
    if (preparing) return preparing.frame;
    const pending = this.#pending[slot];
    if (pending) {
      const applied = this.engine.control.headSeekApplied(slot);
      if (((applied - pending.counter) | 0) < 0) return pending.frame;
      this.#pending[slot] = undefined;
    }
    return this.engine.headPositionFrames(slot);
  }

  #seekSlot(headId: string, frame: number): void {
    const slot = this.#slots.get(headId)!;
    this.#preparing[slot] = undefined;
    const generation = this.renderer.seek(headId, frame);
    this.engine.setHeadGeneration(slot, generation);
    const counter = this.engine.seek(slot, frame);
    this.#pending[slot] = { counter, frame };
  }

  /** Renders the first pages at `frame` for the heads, waiting at most `seekWaitMs`; never throws. */
  async #firstPages(headIds: readonly string[], frame: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const span = SEEK_PAGES * this.framesPerPage;
    const ready = this.renderer.renderRange(headIds, frame, frame + span).catch((error: unknown) => {
      // Not fatal: the head plays what is there (a page miss is counted); the renderer reports the cause.
      if (!this.#closed) this.#note(`rendering at the seek target failed: ${(error as Error).message}`);
    });
    const waitMs = this.#options.seekWaitMs ?? SEEK_WAIT_MS;
    await Promise.race([ready, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
    clearTimeout(timer);
  }

  /** The renderer moves to each target at once; the engine's head follows when the first pages are there. */
  async #seekReady(targets: readonly { readonly id: string; readonly frame: number }[]): Promise<void> {
    const waiting: { id: string; frame: number; slot: number; token: number; generation: number }[] = [];
    for (const { id, frame } of targets) {
      const slot = this.#slots.get(id)!;
      const token = ++this.#seekTokens;
      this.#preparing[slot] = { frame, token };
      waiting.push({ id, frame, slot, token, generation: this.renderer.seek(id, frame) });
    }
    this.#tick();
    await Promise.all(
      [...new Set(targets.map((t) => t.frame))].map((frame) =>
        this.#firstPages(
          targets.filter((t) => t.frame === frame).map((t) => t.id),
          frame,
        ),
      ),
    );
    if (this.#closed) return;
    for (const { id, frame, slot, token, generation } of waiting) {
      // A later seek of this head (or a relocate, or the head's removal) took over.
      if (this.#preparing[slot]?.token !== token || this.#slots.get(id) !== slot) continue;
      this.#preparing[slot] = undefined;
      this.engine.setHeadGeneration(slot, generation);
      this.#pending[slot] = { counter: this.engine.seek(slot, frame), frame };
    }
    this.#tick();
  }

  /** Moves the engine's miss records into the session's summary and to the onMisses listeners. */
  #drainMisses(): void {
    if (this.#closed) return;
    const records = this.engine.takeMisses();
    if (records.length === 0) return;
    const document = this.editor.document;
    const bySlot = new Map<number, string>();
    for (const [id, slot] of this.#slots) bySlot.set(slot, id);
    const misses = records.map((record: PageMiss): SessionMiss => {
      const headId = bySlot.get(record.head) ?? `slot ${record.head}`;
      const lane = document.lanes[record.lane];
      return {
        engineFrame: record.engineFrame,
        headId,
        headName: document.heads.find((h) => h.id === headId)?.name ?? headId,
        lane: record.lane,
        laneId: lane?.id ?? `lane ${record.lane}`,
        laneName: lane?.name ?? `lane ${record.lane}`,
        timelineFrame: record.timelineFrame,
        atBeat: frameToBeat(document.tempoMap, Math.max(0, record.timelineFrame), this.sampleRate),
        frames: record.frames,
        pageIndex: record.pageIndex,
        streamKey: record.streamKey,
        reason: record.reason,
        wantedGeneration: record.wantedGeneration,
        pageGeneration: record.pageGeneration,
      };
    });
    this.#missesRecorded += misses.length;
    for (const miss of misses) {
      this.#missesByReason[miss.reason] = (this.#missesByReason[miss.reason] ?? 0) + 1;
      if (this.#firstMisses.length < FIRST_MISSES) this.#firstMisses.push(miss);
    }
    for (const listener of this.#missListeners) listener(misses);
  }

  #tick(): void {
    if (this.#closed) return;
    this.#ticks++;
    this.#drainMisses();
    const views: HeadView[] = this.editor.document.heads.map((head) => {
      const slot = this.#slots.get(head.id)!;
      return {
        headId: head.id,
        audibleFrame: this.#audibleFrame(slot),
        playing: this.#playing[slot] ?? false,
      };
    });
    this.renderer.updateHeads(views);
  }

  #mapStreams(headId: string, keys: readonly bigint[]): void {
    const slot = this.#slots.get(headId);
    if (slot === undefined || this.#closed) return;
    const maxLanes = this.engine.options.maxLanes;
    const padded = Array.from({ length: maxLanes }, (_, i) => keys[i] ?? 0n);
    // Fault in the new keys' pages where the head is before the callback reads them (the engine's prefetch
    // thread follows only mapped keys: without this, each switch cost the callback thread page faults).
    const page = Math.floor(this.engine.headPositionFrames(slot) / this.framesPerPage);
    this.engine.prefetchStreams(
      keys.filter((key) => key !== 0n),
      page,
      PREFETCH_ON_SWITCH_PAGES,
    );
    this.engine.setHeadStreams(slot, padded);
  }

  #assignSlots(document: ProjectDocument): void {
    const present = new Set(document.heads.map((head) => head.id));
    for (const [id, slot] of [...this.#slots]) {
      if (present.has(id)) continue;
      this.#slots.delete(id);
      this.#playing[slot] = false;
      this.engine.pause(slot);
      this.engine.setHeadStreams(slot, new Array<bigint>(this.engine.options.maxLanes).fill(0n));
    }
    const used = new Set(this.#slots.values());
    for (const head of document.heads) {
      if (this.#slots.has(head.id)) continue;
      let slot = 0;
      while (used.has(slot)) slot++;
      if (slot >= this.engine.options.maxHeads) {
        throw new HostError(
          `too many attention heads (${document.heads.length}) for this session (at most ${this.engine.options.maxHeads}): reopen the project`,
        );
      }
      used.add(slot);
      this.#slots.set(head.id, slot);
    }
  }

  #applyMixer(document: ProjectDocument): void {
    applyLaneControls(this.engine.control, document.lanes);
    applyHeadControls(this.engine.control, document, this.sampleRate, {
      loops: this.#options.loops ?? true,
      slotOf: (headId) => this.#slots.get(headId)!,
    });
  }

  /** Pages at each enabled loop start, so the jump back is heard without a gap. */
  #prerenderLoops(document: ProjectDocument): void {
    if (this.#options.loops === false) return;
    for (const head of document.heads) {
      if (!head.loopEnabled) continue;
      const start = beatToFrame(document.tempoMap, head.loopStartBeat, this.sampleRate);
      const end = beatToFrame(document.tempoMap, head.loopEndBeat, this.sampleRate);
      if (end <= start) continue;
      this.renderer
        .renderRange([head.id], start, Math.min(end, start + this.lookaheadFrames))
        .catch((error: unknown) => {
          this.#rendererErrors++;
          if (!this.#closed) this.#note(`rendering the loop start failed: ${(error as Error).message}`);
        });
    }
  }

  #onDocument(next: ProjectDocument): void {
    const previous = this.#document;
    this.#document = next;
    if (isMixerOnlyChange(previous, next)) {
      this.#applyMixer(next);
      if (
        previous.heads.some(
          (h, i) =>
            h.loopStartBeat !== next.heads[i]!.loopStartBeat || h.loopEnabled !== next.heads[i]!.loopEnabled,
        )
      ) {
        this.#prerenderLoops(next);
      }
      return;
    }
    const added = next.heads.filter((head) => !this.#slots.has(head.id));
    this.#assignSlots(next);
    this.renderer.setDocument(next);
    this.#applyMixer(next);
    for (const head of added) {
      this.#mapStreams(head.id, this.renderer.streamKeys(head.id));
      this.#seekSlot(head.id, beatToFrame(next.tempoMap, head.positionBeat, this.sampleRate));
    }
    this.#prerenderLoops(next);
    this.#tick();
  }
}

/** Every region's encoding must be in the project's library; names the first missing one and what to do. */
async function requireEncodings(
  document: ProjectDocument,
  library: Library,
  projectDir: string,
): Promise<void> {
  for (const region of document.regions) {
    if (await library.store.has(region.encodingHash)) continue;
    throw new HostError(missingEncoding(document, region, projectDir));
  }
}

/** Opens a project for playback or bounce. Errors name what is wrong and what to do; nothing in the project is written. */
export async function openSession(projectDir: string, options: SessionOptions): Promise<Session> {
  const sampleRate = requireSampleRate(options.sampleRate ?? 48_000);
  if (options.seekWaitMs !== undefined && !(Number.isFinite(options.seekWaitMs) && options.seekWaitMs >= 0)) {
    throw new HostError(`seekWaitMs is ${options.seekWaitMs}: give a number of milliseconds >= 0`);
  }
  const document = await openProject(projectDir);
  const soundfont = findSoundFont(options.soundfont === undefined ? {} : { explicitPath: options.soundfont });
  const framesPerPage = options.framesPerPage ?? 4096;
  const lookaheadFrames = Math.max(framesPerPage, Math.round((options.lookaheadSeconds ?? 2) * sampleRate));
  const library = await openLibrary(join(projectDir, "library"));
  let engine: Engine | undefined;
  let writer: CanvasWriter | undefined;
  try {
    await requireEncodings(document, library, projectDir);
    const endBeat = Math.max(0, ...document.regions.map((r) => r.atBeat + r.durationBeats));
    const cache = prepareCanvasCache(projectDir, {
      sampleRate,
      channels: CHANNELS,
      framesPerPage,
      pageCapacity: pageCapacityFor({
        lanes: document.lanes.length,
        heads: document.heads.length,
        endFrame: beatToFrame(document.tempoMap, endBeat, sampleRate),
        tailFrames: Math.round(TAIL_SECONDS * sampleRate),
        framesPerPage,
      }),
    });
    if (cache.rejected) options.onNote?.(`${cache.rejected} Rebuilt it.`);
    engine = Engine.create({
      sampleRate,
      channels: CHANNELS,
      maxHeads: Math.max(8, document.heads.length),
      maxLanes: Math.max(32, document.lanes.length + 16),
      maxBlockFrames: 4096,
    });
    engine.openCanvas(cache.path);
    writer = new CanvasWriter(cache.path);
    const renderer = await createLookaheadRenderer({
      document,
      store: library.store,
      graph: library.graph,
      canvas: writer,
      config: {
        sampleRate,
        channels: CHANNELS,
        framesPerPage,
        lookaheadFrames,
        workers: options.workers ?? Math.max(1, (await import("node:os")).availableParallelism()),
        offline: options.offlineRendering === true,
        soundfontPath: soundfont.path,
      },
      realize: realizeGenerative,
    });
    return new Session({
      projectDir,
      options,
      document,
      library,
      engine,
      writer,
      renderer,
      canvasPath: cache.path,
      sampleRate,
      lookaheadFrames,
      framesPerPage,
    });
  } catch (error) {
    writer?.close();
    engine?.dispose();
    await library.close();
    throw error;
  }
}

function missingEncoding(document: ProjectDocument, region: Region, projectDir: string): string {
  const lane = document.lanes.find((l) => l.id === region.laneId);
  return `the project's library (${join(projectDir, "library")}) lacks the encoding ${region.encodingHash} of region "${region.name}" (${region.id}) on lane "${lane?.name ?? region.laneId}": import that file again into the project's library, or restore the library folder from a backup`;
}
