// The lookahead renderer: keeps every attention head's window rendered into the canvas file ahead of where it is
// heard, on worker threads. Owns stream keys (content addresses of what a lane plays), page sharing between
// heads, copying unchanged pages after an edit, and the switch of a head to new keys once their pages are ready.
// Called by the engine host (app/host) and tests; contract in ./types.ts, design in docs/render.md.
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { CanvasReader, type CanvasWriter } from "../audio/canvas-file";
import type { ProjectDocument } from "../core/document";
import { beatToFrame } from "../core/time/tempo-map";
import { hashBytes } from "../store/hash";
import type { ArtifactGraph, ContentStore } from "../store/types";
import { createRenderPool, PagesRenderError, type RenderPool } from "./pool";
import {
  buildLaneProgram,
  EncodingCache,
  firstChangedFrame,
  isGenerative,
  type LaneProgram,
  type ProgramSettings,
  RenderError,
} from "./program";
import type { HeadView, LookaheadRenderer, RealizeGenerative, RenderConfig, RendererStats } from "./types";

export { firstChangedFrame, keyOf, type LaneProgram, RenderError } from "./program";
export { StreamRenderer } from "./stream";

/**
 * Generation written with every page. A key names immutable content, so a written page is never stale for any
 * head; the engine's generation check (page >= head) therefore always passes for our pages.
 */
export const PAGE_GENERATION = 0xffff_ffff;
/**
 * Generation of a stopgap page (another key's content, played until the page's own render replaces it). The engine
 * plays it like any page (it is above every head's generation), but a renderer opening the canvas file takes only
 * PAGE_GENERATION pages as rendered: a stopgap left by a session that ended first is never reused as the real page.
 */
export const STOPGAP_GENERATION = PAGE_GENERATION - 1;
export const DEFAULT_LOOKAHEAD_SECONDS = 2;
/** Runs of pages in flight per worker (a second one hides the message round trip). */
const IN_FLIGHT_PER_WORKER = 2;
/**
 * Longest run of consecutive pages of one stream sent to a worker in one message. Short inside a playing head's
 * window, where the head waits for the first page (reported with its run); long for work ahead of every playing
 * head (a bounce, a stopped head's window), where a message per page (a page renders in about 0.4 ms) kept the
 * workers waiting on this thread: the bounce spent a third of its time there.
 */
const RUN_PAGES_NEAR = 4;
const RUN_PAGES_AHEAD = 32;
/**
 * Page ids are streamId * PAGE_ID_STRIDE + pageIndex, exact in a double for 2^32 pages per stream (beyond any
 * position a frame counter reaches) and 2^21 streams per renderer (an edit a second for 24 days).
 */
const PAGE_ID_STRIDE = 2 ** 32;
/** Pages of every stream of a range measured before its streams are balanced over the workers (#rebalance). */
const MEASURED_PAGES = 48;
/** Copied and silent pages written by one pass of the scheduler on the calling thread. */
const LOCAL_PAGES_PER_PUMP = 16;

export interface LookaheadRendererOptions {
  readonly document: ProjectDocument;
  readonly store: ContentStore;
  readonly graph: ArtifactGraph;
  readonly canvas: CanvasWriter;
  readonly config: RenderConfig;
  readonly realize?: RealizeGenerative;
  /** How long old keys' pages stay valid after a head switched away from them (the engine may be mid-block). */
  readonly retireGraceMs?: number;
  /** After an edit, a head switches once new pages cover [audible, audible + this]; default 100 ms of frames. */
  readonly switchMarginFrames?: number;
}

/** A RenderConfig with defaults: 2 s lookahead, one worker per core. */
export function renderConfig(
  fields: Pick<RenderConfig, "sampleRate" | "soundfontPath"> & Partial<RenderConfig>,
): RenderConfig {
  return {
    channels: 2,
    framesPerPage: 4096,
    lookaheadFrames: Math.round(DEFAULT_LOOKAHEAD_SECONDS * fields.sampleRate),
    workers: availableParallelism(),
    ...fields,
  };
}

interface HeadState {
  laneIds: string[];
  active: bigint[];
  pending: bigint[] | null;
  view: HeadView;
  generation: number;
}

interface RangeRequest {
  readonly keys: readonly bigint[];
  readonly firstPage: number;
  readonly endPage: number;
  readonly cursor: Map<bigint, number>;
  readonly total: number;
  done: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  readonly onProgress: ((done: number, total: number) => void) | undefined;
  /** Its streams were balanced over the workers by measured cost (#rebalance). */
  balanced: boolean;
}

interface Job {
  readonly key: bigint;
  readonly pageIndex: number;
  readonly priority: number;
}

type BuildResult = Map<string, { laneIds: string[]; programs: (LaneProgram | null)[] }>;

class Renderer implements LookaheadRenderer {
  readonly #options: LookaheadRendererOptions;
  readonly #config: RenderConfig;
  readonly #settings: ProgramSettings;
  readonly #encodings: EncodingCache;
  readonly #pool: RenderPool;
  readonly #canvas: CanvasWriter;
  readonly #margin: number;
  readonly #grace: number;
  #reader: CanvasReader | undefined;
  #document: ProjectDocument;
  #version = 0;
  #built: Promise<void> = Promise.resolve();
  #buildError: Error | undefined;
  #closed = false;
  readonly #programs = new Map<bigint, LaneProgram>();
  readonly #heads = new Map<string, HeadState>();
  readonly #written = new Map<bigint, Set<number>>();
  /** Pages holding a stopgap (an old key's content) until their own render is written; freed with their key. */
  readonly #stopgaps = new Map<bigint, Set<number>>();
  /** Pages being rendered and pages whose render failed (not retried), by page id (#pageId). */
  readonly #inFlight = new Set<number>();
  readonly #failed = new Set<number>();
  /** A small number per stream key, for page ids: numbers hash far faster than "key:page" strings (the scheduler
   * looks pages up thousands of times a second during a bounce). Kept for the renderer's lifetime. */
  readonly #streamIds = new Map<bigint, number>();
  /** Per stream, per worker: the last page sent there (-1: none). */
  readonly #lastPage = new Map<bigint, number[]>();
  readonly #slotBusy: number[];
  /** Estimated render cost of each stream (streamCost), to spread streams over the workers. */
  readonly #costs = new Map<bigint, number>();
  /** The worker chosen for a stream's first run (until it has a cursor on some worker). */
  readonly #placed = new Map<bigint, number>();
  /** Worker time spent per stream, and on how many pages (reported with each run). */
  readonly #timing = new Map<bigint, { ms: number; pages: number }>();
  /** Streams to move to another worker at their next run (#rebalance). */
  readonly #moveTo = new Map<bigint, number>();
  readonly #copyFrom = new Map<bigint, { readonly from: bigint; readonly beforePage: number }>();
  readonly #ranges = new Set<RangeRequest>();
  readonly #retired = new Map<bigint, number>();
  #laneCache = new Map<string, Promise<LaneProgram | null>>();
  readonly #early = new Map<string, { frame: number; generation: number }>();
  /** Valid pages found in the canvas file when it was opened (a previous session's), by key. */
  readonly #found: Map<bigint, Set<number>>;
  readonly #listeners = new Set<(headId: string, keys: readonly bigint[]) => void>();
  readonly #errorListeners = new Set<(error: Error) => void>();
  #retireTimer: NodeJS.Timeout | undefined;
  #pagesRendered = 0;
  #runsSent = 0;
  readonly #workerBusyMs: number[];
  #pagesCopied = 0;
  #pagesSilent = 0;
  #pagesStopgap = 0;
  #jobsDropped = 0;
  #queueLength = 0;
  #failures = 0;
  #repump: NodeJS.Immediate | undefined;
  #applied: NodeJS.Immediate | undefined;

  constructor(options: LookaheadRendererOptions, settings: ProgramSettings, pool: RenderPool) {
    this.#options = options;
    this.#config = options.config;
    this.#settings = settings;
    this.#pool = pool;
    this.#canvas = options.canvas;
    this.#document = options.document;
    this.#encodings = new EncodingCache(options.store, options.graph, options.config.sampleRate);
    this.#margin = Math.min(
      options.config.lookaheadFrames,
      options.switchMarginFrames ?? Math.round(0.1 * options.config.sampleRate),
    );
    this.#grace = options.retireGraceMs ?? 250;
    this.#slotBusy = Array.from({ length: pool.size }, () => 0);
    this.#workerBusyMs = Array.from({ length: pool.size }, () => 0);
    this.#found = new Map();
    for (const page of new CanvasReader(this.#canvas.path).pages()) {
      if (!page.valid || page.seq === 0 || page.seq % 2 === 1 || page.generation !== PAGE_GENERATION)
        continue;
      let pages = this.#found.get(page.streamKey);
      if (!pages) {
        pages = new Set();
        this.#found.set(page.streamKey, pages);
      }
      pages.add(page.pageIndex);
    }
  }

  async start(): Promise<void> {
    this.#apply(await this.#build(this.#document));
  }

  streamKeys(headId: string): readonly bigint[] {
    // A head added by an edit has no keys until the edit is built; its listeners are called then.
    return this.#heads.get(headId)?.active ?? [];
  }

  onStreamKeysChanged(listener: (headId: string, keys: readonly bigint[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Errors of background work (a document that cannot be built, a failed page); the previous keys keep playing. */
  onError(listener: (error: Error) => void): () => void {
    this.#errorListeners.add(listener);
    return () => this.#errorListeners.delete(listener);
  }

  setDocument(document: ProjectDocument): void {
    this.#document = document;
    const version = ++this.#version;
    this.#built = this.#build(document).then(
      (result) => {
        if (version === this.#version && !this.#closed) {
          this.#buildError = undefined;
          this.#apply(result);
        }
      },
      (error: Error) => {
        if (version !== this.#version) return;
        this.#buildError = error;
        this.#emitError(error);
      },
    );
  }

  /** Resolves once the latest document's keys are known (pending or active). */
  async settled(): Promise<void> {
    for (;;) {
      const version = this.#version;
      await this.#built;
      if (version === this.#version) break;
    }
    if (this.#buildError) throw this.#buildError;
  }

  updateHeads(heads: readonly HeadView[]): void {
    for (const view of heads) {
      const head = this.#heads.get(view.headId);
      if (head) head.view = view;
    }
    this.#checkSwitches();
    this.#pump();
  }

  seek(headId: string, frame: number): number {
    if (!(Number.isInteger(frame) && frame >= 0)) {
      throw new RangeError(`seek frame must be an integer >= 0, got ${frame}`);
    }
    const head = this.#heads.get(headId);
    if (!head) {
      // A head of an edit still being built: it starts here once built.
      const early = this.#early.get(headId);
      const generation = (early?.generation ?? 0) + 1;
      this.#early.set(headId, { frame, generation });
      return generation;
    }
    const before = this.#wanted();
    head.generation += 1;
    head.view = { ...head.view, audibleFrame: frame };
    const after = new Set(this.#wanted().map((job) => this.#pageId(job.key, job.pageIndex)));
    for (const job of before) if (!after.has(this.#pageId(job.key, job.pageIndex))) this.#jobsDropped += 1;
    this.#checkSwitches();
    this.#pump();
    return head.generation;
  }

  async renderRange(
    headIds: readonly string[],
    startFrame: number,
    endFrame: number,
    onProgress?: (donePages: number, totalPages: number) => void,
  ): Promise<void> {
    await this.settled();
    const keys = new Set<bigint>();
    for (const headId of headIds) {
      const head = this.#heads.get(headId);
      if (!head) throw new RenderError(`cannot render: no attention head "${headId}" in the document`);
      for (const key of head.pending ?? head.active) if (key !== 0n) keys.add(key);
    }
    const fpp = this.#config.framesPerPage;
    const firstPage = Math.floor(Math.max(0, startFrame) / fpp);
    const endPage = Math.max(firstPage, Math.ceil(endFrame / fpp));
    await new Promise<void>((resolve, reject) => {
      const request: RangeRequest = {
        keys: [...keys],
        firstPage,
        endPage,
        cursor: new Map([...keys].map((key) => [key, firstPage])),
        total: keys.size * (endPage - firstPage),
        done: 0,
        resolve,
        reject,
        onProgress,
        balanced: false,
      };
      this.#ranges.add(request);
      this.#progressRanges();
      this.#pump();
    });
  }

  endFrame(): number {
    let end = 0;
    for (const head of this.#heads.values()) {
      for (const key of head.pending ?? head.active) {
        const program = this.#programs.get(key);
        if (program) end = Math.max(end, program.endFrame);
      }
    }
    return end;
  }

  stats(): RendererStats {
    const fpp = this.#config.framesPerPage;
    const readyAheadFrames: Record<string, number> = {};
    for (const [headId, head] of this.#heads) {
      const audible = head.view.audibleFrame;
      const keys = head.active.filter((key) => key !== 0n);
      let page = Math.floor(audible / fpp);
      const limit = page + Math.ceil(this.#config.lookaheadFrames / fpp) + 1;
      while (page < limit && keys.every((key) => this.#written.get(key)?.has(page))) page++;
      readyAheadFrames[headId] = Math.max(0, page * fpp - audible);
    }
    return {
      pagesRendered: this.#pagesRendered,
      runsSent: this.#runsSent,
      workerBusyMs: this.#workerBusyMs.map((ms) => Math.round(ms)),
      pagesCopied: this.#pagesCopied,
      jobsDropped: this.#jobsDropped,
      queueLength: this.#queueLength,
      readyAheadFrames,
    };
  }

  /** Pages written as silence past a stream's end (no synthesis). */
  pagesSilent(): number {
    return this.#pagesSilent;
  }

  /**
   * Pages of a new key that were given the old key's content at a switch, to be played until their own render
   * replaces them (see #stopgap).
   */
  pagesStopgap(): number {
    return this.#pagesStopgap;
  }

  /** Keys that currently have a program (live or retiring); for tests and diagnostics. */
  liveKeys(): bigint[] {
    return [...this.#programs.keys()];
  }

  /** Whether page `pageIndex` of stream `key` has been written. */
  isWritten(key: bigint, pageIndex: number): boolean {
    return this.#written.get(key)?.has(pageIndex) ?? false;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retireTimer);
    if (this.#repump) clearImmediate(this.#repump);
    if (this.#applied) clearImmediate(this.#applied);
    for (const range of this.#ranges) range.reject(new RenderError("the renderer was closed"));
    this.#ranges.clear();
    await this.#pool.close();
  }

  // --- building programs -------------------------------------------------------------------------------------

  async #build(document: ProjectDocument): Promise<BuildResult> {
    const { store, graph, realize } = this.#options;
    // Deterministic lanes are built once for all heads, and again only when their regions or the tempo map change.
    const previous = this.#laneCache;
    const next = new Map<string, Promise<LaneProgram | null>>();
    const tempo = JSON.stringify(document.tempoMap);
    const heads = document.heads.map((head) => {
      const programs = document.lanes.map((lane) => {
        const regions = document.regions.filter((r) => r.laneId === lane.id);
        const generative = realize !== undefined && regions.some(isGenerative);
        const build = () =>
          buildLaneProgram(
            document,
            lane.id,
            generative ? head : null,
            this.#settings,
            this.#encodings,
            realize,
            { store, graph },
          );
        if (generative) return build();
        const input = JSON.stringify({ tempo, regions: regions.map(({ name, color, ...rest }) => rest) });
        let program = next.get(input) ?? previous.get(input);
        if (!program) {
          program = build();
          // A failed build (say, a missing encoding) is tried again next time: the library may have changed.
          program.catch(() => this.#laneCache.delete(input));
        }
        next.set(input, program);
        return program;
      });
      return { headId: head.id, programs };
    });
    this.#laneCache = next;
    // One Promise.all over every head's builds: each build's rejection is handled (awaiting heads in turn left a
    // later head's rejection unhandled, which ends the process), and the first one is this build's error.
    const built = await Promise.all(heads.map(({ programs }) => Promise.all(programs)));
    const result: BuildResult = new Map();
    for (const [i, { headId }] of heads.entries()) {
      result.set(headId, { laneIds: document.lanes.map((lane) => lane.id), programs: built[i]! });
    }
    return result;
  }

  #apply(result: BuildResult): void {
    for (const { programs } of result.values()) {
      for (const program of programs) if (program) this.#adopt(program);
    }
    const fpp = this.#config.framesPerPage;
    for (const [headId, { laneIds, programs }] of result) {
      const keys = programs.map((program) => program?.key ?? 0n);
      const head = this.#heads.get(headId);
      if (!head) {
        const doc = this.#document.heads.find((h) => h.id === headId);
        const early = this.#early.get(headId);
        this.#early.delete(headId);
        const audibleFrame =
          early?.frame ??
          (doc ? beatToFrame(this.#document.tempoMap, doc.positionBeat, this.#config.sampleRate) : 0);
        this.#heads.set(headId, {
          laneIds,
          active: keys,
          pending: null,
          view: { headId, audibleFrame, playing: false },
          generation: early?.generation ?? 0,
        });
        if (this.#version > 0) this.#notify(headId, keys);
        continue;
      }
      if (sameKeys(keys, head.active) && sameKeys(laneIds, head.laneIds)) {
        head.pending = null;
        continue;
      }
      if (sameKeys(laneIds, head.laneIds)) {
        for (const [lane, key] of keys.entries()) {
          const old = head.active[lane] ?? 0n;
          if (
            key === 0n ||
            old === 0n ||
            key === old ||
            this.#copyFrom.has(key) ||
            this.#written.get(key)?.size
          ) {
            continue;
          }
          const before = this.#programs.get(old);
          const after = this.#programs.get(key);
          if (!before || !after) continue;
          const changed = firstChangedFrame(before, after, this.#config.sampleRate);
          this.#copyFrom.set(key, { from: old, beforePage: Math.floor(Math.min(changed, 2 ** 52) / fpp) });
        }
        head.pending = keys;
      } else {
        // Lanes were added, removed or reordered: the host re-maps every lane, so switch at once.
        head.laneIds = laneIds;
        head.active = keys;
        head.pending = null;
        this.#notify(headId, keys);
      }
    }
    for (const headId of [...this.#heads.keys()]) if (!result.has(headId)) this.#heads.delete(headId);
    this.#collectGarbage();
    // Switching waits one turn of the event loop: ranges asked for with this document (the host's loop starts,
    // registered once settled() resolves, in this same turn) must exist when a head switches, so that the switch's
    // stopgaps cover them. Without it a head whose new pages were all copies switched here, near its loop end,
    // and wrapped into loop-start pages of the new key that nothing had written.
    if (this.#applied) return;
    this.#applied = setImmediate(() => {
      this.#applied = undefined;
      this.#checkSwitches();
      this.#pump();
    });
  }

  #adopt(program: LaneProgram): void {
    this.#retired.delete(program.key);
    if (this.#programs.has(program.key)) return;
    this.#programs.set(program.key, program);
    const found = this.#found.get(program.key);
    if (found) {
      // Same key, same bits: pages a previous session wrote are used as they are.
      this.#found.delete(program.key);
      this.#written.set(program.key, found);
    }
    this.#costs.set(program.key, streamCost(program, this.#config.sampleRate));
    // Every worker can render every stream; a page goes where a cursor of its stream already is (see #slotFor).
    this.#lastPage.set(
      program.key,
      Array.from({ length: this.#pool.size }, () => -1),
    );
    for (let slot = 0; slot < this.#pool.size; slot++) this.#pool.load(slot, program);
  }

  /**
   * The worker for a page: the one whose last page of this stream is the page before (its synthesizer continues),
   * else the one whose last page is closest behind within 2 s, else the least busy.
   */
  #slotFor(key: bigint, pageIndex: number): number {
    const moved = this.#moveTo.get(key);
    if (moved !== undefined) return moved;
    const last = this.#lastPage.get(key)!;
    const near = Math.ceil((2 * this.#config.sampleRate) / this.#config.framesPerPage);
    let best = -1;
    for (let slot = 0; slot < last.length; slot++) {
      const page = last[slot]!;
      // -1: no page of this stream on that worker yet (no cursor to continue; page 0 must not pick it for that).
      if (page < 0) continue;
      if (page === pageIndex - 1) return slot;
      if (page < pageIndex && page >= pageIndex - near && (best < 0 || page > last[best]!)) best = slot;
    }
    if (best >= 0) return best;
    const placed = this.#placed.get(key);
    if (placed !== undefined && last.every((page) => page < 0)) return placed;
    let slot = 0;
    for (let i = 1; i < this.#slotBusy.length; i++) if (this.#slotBusy[i]! < this.#slotBusy[slot]!) slot = i;
    return slot;
  }

  /**
   * Chooses a worker for each wanted stream that has no cursor on any worker yet, costliest first, each to the
   * worker with the least estimated work (the streams it holds cursors of). A stream then stays with its worker
   * (its synthesizer's state runs on from page to page), so this choice is what balances a bounce: taking them in
   * arrival order put 3 of 5 lanes, and most of the work, on one of two workers.
   */
  #placeNewStreams(queue: readonly Job[]): void {
    const size = this.#pool.size;
    const fresh: bigint[] = [];
    for (const job of queue) {
      if (this.#placed.has(job.key) || fresh.includes(job.key)) continue;
      if (this.#lastPage.get(job.key)?.every((page) => page < 0)) fresh.push(job.key);
    }
    if (fresh.length === 0) return;
    const load = Array.from({ length: size }, () => 0);
    for (const [key, pages] of this.#lastPage) {
      const cost = this.#costs.get(key) ?? 0;
      for (let slot = 0; slot < size; slot++) if (pages[slot]! >= 0) load[slot]! += cost;
    }
    for (const [key, slot] of this.#placed)
      if (this.#lastPage.get(key)?.every((page) => page < 0)) load[slot]! += this.#costs.get(key) ?? 0;
    const slots = placeByCost(
      fresh.map((key) => ({ key, cost: this.#costs.get(key) ?? 0 })),
      load,
    );
    for (const [key, slot] of slots) this.#placed.set(key, slot);
  }

  /**
   * Once every stream of a range has rendered MEASURED_PAGES pages, moves streams between workers so that the
   * measured work left is spread evenly (balanceMoves). A stream stays with its worker from page to page, and the
   * cost estimate that placed it (streamCost) cannot know the SoundFont's instruments: in the benchmark song the
   * piano lane costs 3x the drums with fewer notes, and one worker finished 150 ms (of 900) before the other. A
   * moved stream's new cursor first seeks (renders from the start, or its last silence): balanceMoves counts that.
   */
  #rebalance(): void {
    const size = this.#pool.size;
    if (size < 2) return;
    const fpp = this.#config.framesPerPage;
    const rate = this.#config.sampleRate;
    for (const range of this.#ranges) {
      if (range.balanced) continue;
      const measured: { key: bigint; slot: number; frontier: number; ms: number; factor: number | null }[] =
        [];
      let ready = true;
      for (const key of range.keys) {
        const last = this.#lastPage.get(key);
        const timing = this.#timing.get(key);
        const program = this.#programs.get(key);
        if (!last || !program || (range.cursor.get(key) ?? range.endPage) >= range.endPage) continue;
        if (!timing || timing.pages < MEASURED_PAGES) {
          ready = false;
          break;
        }
        let slot = -1;
        for (let s = 0; s < size; s++) if (last[s]! >= 0 && (slot < 0 || last[s]! > last[slot]!)) slot = s;
        if (slot < 0) continue;
        const frontier = last[slot]! + 1;
        // Measured time per estimated voice-second so far: the instrument's own cost (the SoundFont's voices per
        // note), which the estimate cannot know. Where the pages so far held hardly any notes there is nothing to
        // learn from; such a stream takes the median of the others.
        const estimated = streamCost(program, rate, 0, frontier * fpp);
        const quiet = estimated < 0.2 * ((frontier * fpp) / rate);
        measured.push({ key, slot, frontier, ms: timing.ms, factor: quiet ? null : timing.ms / estimated });
      }
      if (!ready) continue;
      range.balanced = true;
      const factors = measured.flatMap((m) => (m.factor === null ? [] : [m.factor])).sort((a, b) => a - b);
      const fallback = factors[Math.floor(factors.length / 2)] ?? 1;
      const streams: BalancedStream<bigint>[] = measured.map((m) => ({
        key: m.key,
        slot: m.slot,
        workMs:
          (m.factor ?? fallback) *
          streamCost(this.#programs.get(m.key)!, rate, m.frontier * fpp, range.endPage * fpp),
        // A new cursor on another worker renders from the start (or its last silence) up to the frontier.
        seekMs: m.ms,
      }));
      for (const [key, slot] of balanceMoves(streams, size)) this.#moveTo.set(key, slot);
    }
  }

  // --- scheduling --------------------------------------------------------------------------------------------

  /** Every page some head window or range needs and that is neither written nor being rendered, nearest first. */
  #wanted(): Job[] {
    const fpp = this.#config.framesPerPage;
    const lookahead = this.#config.lookaheadFrames;
    const best = new Map<number, Job>();
    const add = (key: bigint, pageIndex: number, priority: number): void => {
      if (key === 0n || this.#written.get(key)?.has(pageIndex)) return;
      const id = this.#pageId(key, pageIndex);
      if (this.#inFlight.has(id) || this.#failed.has(id)) return;
      const known = best.get(id);
      if (!known || known.priority > priority) best.set(id, { key, pageIndex, priority });
    };
    for (const head of this.#heads.values()) {
      const audible = head.view.audibleFrame;
      const first = Math.floor(audible / fpp);
      const last = Math.floor((audible + Math.max(1, lookahead) - 1) / fpp);
      // Stopped heads come after playing ones, but are kept ready so play starts at once.
      const offset = head.view.playing ? 0 : lookahead;
      for (let page = first; page <= last; page++) {
        const priority = Math.max(0, page * fpp - audible) + offset;
        for (const key of head.active) add(key, page, priority);
        if (head.pending) for (const key of head.pending) add(key, page, priority);
      }
    }
    for (const range of this.#ranges) {
      for (const key of range.keys) {
        let page = range.cursor.get(key)!;
        for (let n = 0; n < IN_FLIGHT_PER_WORKER * RUN_PAGES_AHEAD && page < range.endPage; page++) {
          if (this.#written.get(key)?.has(page)) continue;
          add(key, page, 4 * lookahead + (page - range.firstPage) * fpp);
          n++;
        }
      }
    }
    return [...best.values()].sort(
      (a, b) =>
        a.priority - b.priority || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) || a.pageIndex - b.pageIndex,
    );
  }

  #pump(): void {
    if (this.#closed) return;
    let wroteHere = false;
    const queue = this.#wanted();
    const wanted = new Set(queue.map((job) => this.#pageId(job.key, job.pageIndex)));
    this.#placeNewStreams(queue);
    let queued = 0;
    let local = 0;
    const fpp = this.#config.framesPerPage;
    /** Streams with a page ahead of every playing head left queued in this pass (its worker was busy). */
    const waiting = new Set<bigint>();
    for (const job of queue) {
      const program = this.#programs.get(job.key);
      if (!program) continue;
      // Taken by a run sent earlier in this pass.
      if (this.#inFlight.has(this.#pageId(job.key, job.pageIndex))) continue;
      const copy = this.#copyFrom.get(job.key);
      const silent = job.pageIndex * fpp >= program.endFrame;
      const copyable =
        copy !== undefined &&
        job.pageIndex < copy.beforePage &&
        this.#written.get(copy.from)?.has(job.pageIndex);
      if ((silent || copyable) && local >= LOCAL_PAGES_PER_PUMP) {
        // Copies and silent pages are written on this thread: a few at a time, so the host's timer keeps ticking.
        queued++;
        this.#repumpSoon();
        continue;
      }
      if (silent) {
        local++;
        if (!this.#write(job.key, job.pageIndex, new Float32Array(fpp * this.#config.channels))) break;
        this.#pagesSilent += 1;
        wroteHere = true;
        continue;
      }
      if (copyable) {
        local++;
        const samples = this.#readPage(copy.from, job.pageIndex);
        if (samples) {
          if (!this.#write(job.key, job.pageIndex, samples)) break;
          this.#pagesCopied += 1;
          wroteHere = true;
          continue;
        }
      }
      // A stopgap a playing head is in stays until the head has left it: its render would overwrite the page
      // while the callback reads it (a worker preempted while it writes the page keeps it "being written" for
      // milliseconds, and the callback's reads fail as torn: a soak miss), and the head hears a change mid-page.
      if (this.#stopgaps.get(job.key)?.has(job.pageIndex) && this.#underPlayingHead(job.key, job.pageIndex)) {
        continue;
      }
      const near = job.priority < this.#config.lookaheadFrames && this.#config.offline !== true;
      // Work ahead of the heads goes in page order: the stream's later pages wait for its worker too, instead of
      // starting a second synthesizer cursor further on (on another worker) that must first seek, which renders
      // from a checkpoint, perhaps the start.
      if (!near && waiting.has(job.key)) {
        queued++;
        continue;
      }
      const slot = this.#slotFor(job.key, job.pageIndex);
      if (this.#slotBusy[slot]! >= IN_FLIGHT_PER_WORKER) {
        if (!near) waiting.add(job.key);
        queued++;
        continue;
      }
      // The run: the next pages of the stream that are wanted, rendered by a worker (not silent, not copies, not
      // a stopgap under a playing head) and not already on their way.
      const limit = near ? RUN_PAGES_NEAR : RUN_PAGES_AHEAD;
      let count = 1;
      for (; count < limit; count++) {
        const page = job.pageIndex + count;
        const id = this.#pageId(job.key, page);
        if (!wanted.has(id) || this.#inFlight.has(id) || page * fpp >= program.endFrame) break;
        if (copy !== undefined && page < copy.beforePage && this.#written.get(copy.from)?.has(page)) break;
        if (this.#stopgaps.get(job.key)?.has(page) && this.#underPlayingHead(job.key, page)) break;
      }
      this.#lastPage.get(job.key)![slot] = job.pageIndex + count - 1;
      if (this.#moveTo.get(job.key) === slot) this.#moveTo.delete(job.key);
      this.#dispatch(slot, job.key, job.pageIndex, count);
    }
    this.#queueLength = queued;
    if (wroteHere) {
      this.#progressRanges();
      this.#checkSwitches();
    }
  }

  /** Whether a playing head with this key is inside page `pageIndex` now. */
  #underPlayingHead(key: bigint, pageIndex: number): boolean {
    const fpp = this.#config.framesPerPage;
    for (const head of this.#heads.values()) {
      if (!head.view.playing || Math.floor(head.view.audibleFrame / fpp) !== pageIndex) continue;
      if (head.active.includes(key)) return true;
    }
    return false;
  }

  #repumpSoon(): void {
    if (this.#repump) return;
    this.#repump = setImmediate(() => {
      this.#repump = undefined;
      this.#pump();
    });
  }

  /** Sends pages [firstPage, firstPage + pageCount) of `key` to worker `slot` as one run. */
  #dispatch(slot: number, key: bigint, firstPage: number, pageCount: number): void {
    for (let page = firstPage; page < firstPage + pageCount; page++)
      this.#inFlight.add(this.#pageId(key, page));
    this.#slotBusy[slot]! += 1;
    this.#runsSent += 1;
    const landed = (writtenPages: number): void => {
      for (let page = firstPage; page < firstPage + pageCount; page++)
        this.#inFlight.delete(this.#pageId(key, page));
      this.#slotBusy[slot]! -= 1;
      if (this.#closed) return;
      for (let page = firstPage; page < firstPage + writtenPages; page++) {
        // Retired while in flight: nothing would free the page later.
        if (this.#programs.has(key)) this.#markWritten(key, page);
        else this.#free(key, page);
      }
      this.#pagesRendered += writtenPages;
    };
    this.#pool.render(slot, key, firstPage, pageCount).then(
      (renderMs) => {
        landed(pageCount);
        this.#workerBusyMs[slot]! += renderMs;
        if (this.#closed) return;
        if (this.#programs.has(key)) {
          const timing = this.#timing.get(key) ?? { ms: 0, pages: 0 };
          this.#timing.set(key, { ms: timing.ms + renderMs, pages: timing.pages + pageCount });
          this.#progressRanges();
          this.#rebalance();
          this.#checkSwitches();
        }
        this.#pump();
      },
      (error: Error) => {
        const writtenPages = error instanceof PagesRenderError ? error.writtenPages : 0;
        landed(writtenPages);
        // A key freed while its pages were being rendered: nothing waits for them.
        if (this.#closed || !this.#programs.has(key)) return;
        for (const range of this.#ranges) {
          if (range.keys.includes(key)) {
            this.#ranges.delete(range);
            range.reject(error);
          }
        }
        // The failing page is not retried: the head plays silence there (a counted miss) instead of the renderer
        // spinning on it. Pages of the run after it were not tried; they are wanted again.
        this.#failed.add(this.#pageId(key, firstPage + writtenPages));
        this.#reportFailure(error);
        this.#progressRanges();
        this.#pump();
      },
    );
  }

  #write(key: bigint, pageIndex: number, samples: Float32Array): boolean {
    try {
      this.#canvas.writePage(key, pageIndex, PAGE_GENERATION, samples);
    } catch (error) {
      const failure = new RenderError(
        `cannot write page ${pageIndex} of stream ${key} to ${this.#canvas.path}: ${(error as Error).message}`,
      );
      for (const range of this.#ranges) range.reject(failure);
      this.#ranges.clear();
      this.#failed.add(this.#pageId(key, pageIndex));
      this.#reportFailure(failure);
      return false;
    }
    this.#markWritten(key, pageIndex);
    return true;
  }

  /** A number naming page `pageIndex` of stream `key` (unique while this renderer lives). */
  #pageId(key: bigint, pageIndex: number): number {
    let streamId = this.#streamIds.get(key);
    if (streamId === undefined) {
      streamId = this.#streamIds.size + 1;
      this.#streamIds.set(key, streamId);
    }
    return streamId * PAGE_ID_STRIDE + pageIndex;
  }

  #markWritten(key: bigint, pageIndex: number): void {
    this.#stopgaps.get(key)?.delete(pageIndex);
    let pages = this.#written.get(key);
    if (!pages) {
      pages = new Set();
      this.#written.set(key, pages);
    }
    pages.add(pageIndex);
  }

  #readPage(key: bigint, pageIndex: number): Float32Array | undefined {
    this.#reader ??= new CanvasReader(this.#canvas.path);
    let samples = this.#reader.pageFrames(key, pageIndex);
    if (!samples) {
      this.#reader.refresh();
      samples = this.#reader.pageFrames(key, pageIndex);
    }
    return samples ? new Float32Array(samples) : undefined;
  }

  #progressRanges(): void {
    for (const range of this.#ranges) {
      let done = 0;
      for (const key of range.keys) {
        let page = range.cursor.get(key)!;
        const written = this.#written.get(key);
        while (page < range.endPage && written?.has(page)) page++;
        range.cursor.set(key, page);
        done += page - range.firstPage;
      }
      if (done !== range.done) {
        range.done = done;
        range.onProgress?.(done, range.total);
      }
      if (done >= range.total) {
        this.#ranges.delete(range);
        range.resolve();
        this.#collectGarbage();
      }
    }
  }

  // --- switching and freeing ---------------------------------------------------------------------------------

  #checkSwitches(): void {
    const fpp = this.#config.framesPerPage;
    let switched = false;
    for (const [headId, head] of this.#heads) {
      if (!head.pending) continue;
      const first = Math.floor(head.view.audibleFrame / fpp);
      const last = Math.floor((head.view.audibleFrame + this.#margin) / fpp);
      const windowLast = Math.floor((head.view.audibleFrame + this.#config.lookaheadFrames - 1) / fpp);
      let ready = true;
      for (const key of head.pending) {
        if (key === 0n) continue;
        const written = this.#written.get(key);
        for (let page = first; page <= last && ready; page++) if (!written?.has(page)) ready = false;
        // Pages still to be copied from the old key: the old key is freed after the switch, so copy them first.
        const copy = this.#copyFrom.get(key);
        const source = copy && this.#written.get(copy.from);
        if (copy && source) {
          const windowEnd = Math.min(copy.beforePage, windowLast + 1);
          for (let page = first; page < windowEnd && ready; page++) {
            if (source.has(page) && !written?.has(page)) ready = false;
          }
        }
        if (!ready) break;
      }
      if (!ready) continue;
      this.#stopgap(head, head.pending);
      head.active = head.pending;
      head.pending = null;
      switched = true;
      this.#notify(headId, head.active);
    }
    if (switched) this.#collectGarbage();
  }

  /**
   * At a switch, the new keys have their first pages (the switch margin) but not yet the rest of the head's
   * window, and the old keys are freed after the retire grace. A page the renderer then writes too late would be
   * a dropout of the whole lane (the soak's misses: after an edit that re-renders a lane for 4 heads at 4 places,
   * each new synthesizer cursor starts with an exact seek of up to a few hundred ms, so the pages after a head's
   * margin come after the head reached them). So every page of the window that the new key lacks (and that is not
   * being rendered) gets the old key's page now: pages before the first changed frame are the same bits (a real
   * copy, marked written), later ones are a stopgap, played until the page's own render overwrites it (it is
   * still wanted). What is heard there for a moment is the lane as it was before the edit, never silence.
   */
  #stopgap(head: HeadState, next: readonly bigint[]): void {
    const fpp = this.#config.framesPerPage;
    const first = Math.floor(head.view.audibleFrame / fpp);
    const windowLast = Math.floor((head.view.audibleFrame + this.#config.lookaheadFrames - 1) / fpp);
    for (const [lane, key] of next.entries()) {
      const old = head.active[lane] ?? 0n;
      if (key === 0n || old === 0n || key === old) continue;
      const program = this.#programs.get(key);
      const written = this.#written.get(old);
      const held = this.#stopgaps.get(old);
      if (!program || (!written && !held)) continue;
      // The head's window, and the pages a range still renders for the new key (the host's loop start: the
      // head may wrap there before the range is done, and the view of the head lags the engine by a tick).
      const pages = new Set<number>();
      for (let page = first; page <= windowLast; page++) pages.add(page);
      for (const range of this.#ranges) {
        if (!range.keys.includes(key)) continue;
        for (let page = range.cursor.get(key) ?? range.endPage; page < range.endPage; page++) pages.add(page);
      }
      const copy = this.#copyFrom.get(key);
      for (const page of pages) {
        // A page being rendered gets a stopgap too (its render may be queued behind a slow seek); the stopgap
        // is written only if the render has not completed the page yet, decided under the page's write side.
        if (this.#written.get(key)?.has(page) || this.#stopgaps.get(key)?.has(page)) continue;
        const real = written?.has(page) === true;
        if ((!real && !held?.has(page)) || page * fpp >= program.endFrame) continue;
        const samples = this.#readPage(old, page);
        if (!samples) continue;
        if (real && copy !== undefined && copy.from === old && page < copy.beforePage) {
          // Before the first changed frame: the same bits, a real copy.
          if (!this.#write(key, page, samples)) return;
          this.#pagesCopied += 1;
          continue;
        }
        try {
          if (!this.#canvas.writePageIfAbsent(key, page, STOPGAP_GENERATION, samples)) continue;
        } catch (error) {
          this.#reportFailure(
            new RenderError(
              `cannot write a stopgap page ${page} of stream ${key} to ${this.#canvas.path}: ${(error as Error).message}`,
            ),
          );
          return;
        }
        this.#pagesStopgap += 1;
        let pagesHeld = this.#stopgaps.get(key);
        if (!pagesHeld) {
          pagesHeld = new Set();
          this.#stopgaps.set(key, pagesHeld);
        }
        pagesHeld.add(page);
      }
    }
  }

  #notify(headId: string, keys: readonly bigint[]): void {
    for (const listener of this.#listeners) listener(headId, keys);
  }

  /** Gives a retired page's slot and disk space back (docs/canvas-file.md, "Freeing pages"). */
  #free(key: bigint, pageIndex: number): void {
    try {
      this.#canvas.freePage(key, pageIndex);
    } catch (error) {
      this.#reportFailure(
        new RenderError(
          `cannot free page ${pageIndex} of stream ${key} in ${this.#canvas.path}: ${(error as Error).message}`,
        ),
      );
    }
  }

  /** Page failures are reported first and then every 1000th, so a broken canvas or worker cannot flood the host. */
  #reportFailure(error: Error): void {
    this.#failures += 1;
    if (this.#failures === 1 || this.#failures % 1000 === 0) this.#emitError(error);
  }

  #emitError(error: Error): void {
    for (const listener of this.#errorListeners) listener(error);
  }

  #referenced(): Set<bigint> {
    const keys = new Set<bigint>();
    for (const head of this.#heads.values()) {
      for (const key of head.active) keys.add(key);
      if (head.pending) for (const key of head.pending) keys.add(key);
    }
    for (const range of this.#ranges) for (const key of range.keys) keys.add(key);
    return keys;
  }

  #collectGarbage(): void {
    const referenced = this.#referenced();
    const now = Date.now();
    for (const key of this.#programs.keys()) {
      if (referenced.has(key)) this.#retired.delete(key);
      else if (!this.#retired.has(key)) this.#retired.set(key, now);
    }
    this.#retire();
  }

  /** Frees keys no head has used for the grace period: their pages are freed and their renderers dropped. */
  #retire(): void {
    if (this.#closed) return;
    const now = Date.now();
    let next = Number.POSITIVE_INFINITY;
    const referenced = this.#referenced();
    for (const [key, since] of this.#retired) {
      if (referenced.has(key)) {
        this.#retired.delete(key);
        continue;
      }
      if (now - since < this.#grace) {
        next = Math.min(next, since + this.#grace - now);
        continue;
      }
      this.#retired.delete(key);
      for (const page of this.#written.get(key) ?? []) this.#free(key, page);
      this.#written.delete(key);
      for (const page of this.#stopgaps.get(key) ?? []) this.#free(key, page);
      this.#stopgaps.delete(key);
      const streamId = this.#streamIds.get(key);
      for (const id of this.#failed)
        if (Math.floor(id / PAGE_ID_STRIDE) === streamId) this.#failed.delete(id);
      this.#programs.delete(key);
      this.#costs.delete(key);
      this.#placed.delete(key);
      this.#timing.delete(key);
      this.#moveTo.delete(key);
      this.#copyFrom.delete(key);
      for (const [target, copy] of this.#copyFrom) if (copy.from === key) this.#copyFrom.delete(target);
      if (this.#lastPage.delete(key))
        for (let slot = 0; slot < this.#pool.size; slot++) this.#pool.drop(slot, key);
    }
    clearTimeout(this.#retireTimer);
    this.#retireTimer = undefined;
    if (Number.isFinite(next)) {
      this.#retireTimer = setTimeout(() => this.#retire(), next + 1);
      this.#retireTimer.unref();
    }
  }
}

export interface BalancedStream<K> {
  readonly key: K;
  /** The worker it is on. */
  readonly slot: number;
  /** Worker time its remaining pages take. */
  readonly workMs: number;
  /** Worker time a move costs (the new worker's cursor seeks there first). */
  readonly seekMs: number;
}

/**
 * Moves that shorten the longest worker's remaining work: repeatedly, from the most loaded worker to the least
 * loaded, the stream whose move (its work plus the seek it costs) lowers the larger of the two loads most, while
 * that gains over 3%. Returns stream key -> new worker; streams not in it stay.
 */
export function balanceMoves<K>(streams: readonly BalancedStream<K>[], workers: number): Map<K, number> {
  const load = Array.from({ length: workers }, () => 0);
  for (const stream of streams) load[stream.slot]! += stream.workMs;
  const where = new Map(streams.map((stream) => [stream.key, stream.slot]));
  const moves = new Map<K, number>();
  for (let step = 0; step < streams.length; step++) {
    let most = 0;
    let least = 0;
    for (let i = 1; i < workers; i++) {
      if (load[i]! > load[most]!) most = i;
      if (load[i]! < load[least]!) least = i;
    }
    if (most === least) break;
    let best: BalancedStream<K> | undefined;
    let bestMax = load[most]! * 0.97;
    for (const stream of streams) {
      if (where.get(stream.key) !== most || moves.has(stream.key)) continue;
      const after = Math.max(load[most]! - stream.workMs, load[least]! + stream.workMs + stream.seekMs);
      if (after < bestMax) {
        bestMax = after;
        best = stream;
      }
    }
    if (!best) break;
    load[most]! -= best.workMs;
    load[least]! += best.workMs + best.seekMs;
    where.set(best.key, least);
    moves.set(best.key, least);
  }
  return moves;
}

/**
 * Longest-processing-time-first placement: items costliest first (ties by key), each to the worker with the least
 * load so far (`load`: what each worker already holds; ties to the lower index). Returns item key -> worker index.
 */
export function placeByCost<K extends bigint | string>(
  items: readonly { readonly key: K; readonly cost: number }[],
  load: readonly number[],
): Map<K, number> {
  const loads = [...load];
  const placed = new Map<K, number>();
  const order = [...items].sort((a, b) => b.cost - a.cost || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const { key, cost } of order) {
    let slot = 0;
    for (let i = 1; i < loads.length; i++) if (loads[i]! < loads[slot]!) slot = i;
    placed.set(key, slot);
    loads[slot]! += cost;
  }
  return placed;
}

/**
 * A rough render cost of a stream, in voice-seconds, within project frames [fromFrame, toFrame) (default: all of
 * it): each note sounds for its length plus a release (about half a beat), and every second costs a little to
 * render and write even when quiet. Only ratios matter: between streams (#placeNewStreams), and between parts of
 * one stream (#rebalance scales it by what its pages measured).
 */
export function streamCost(
  program: LaneProgram,
  sampleRate: number,
  fromFrame = 0,
  toFrame = program.endFrame,
): number {
  const from = fromFrame / sampleRate;
  const to = Math.min(toFrame, program.endFrame) / sampleRate;
  if (to <= from) return 0;
  let cost = 0.05 * (to - from);
  const overlap = (start: number, end: number) => Math.max(0, Math.min(end, to) - Math.max(start, from));
  const sequence = program.sequence;
  if (sequence) {
    const tempos = sequence.tempos.length > 0 ? sequence.tempos : [{ tick: 0, bpm: 120 }];
    const secondsAt = (tick: number): number => {
      let seconds = 0;
      for (let i = 0; i < tempos.length; i++) {
        const start = tempos[i]!.tick;
        if (tick <= start && i > 0) break;
        const end = Math.min(tick, tempos[i + 1]?.tick ?? Number.POSITIVE_INFINITY);
        seconds += ((end - start) / sequence.ppq) * (60 / tempos[i]!.bpm);
      }
      return seconds;
    };
    const releaseTicks = sequence.ppq / 2;
    for (const track of sequence.tracks) {
      for (const note of track.notes) {
        cost += overlap(
          secondsAt(note.startTick),
          secondsAt(note.startTick + note.durationTicks + releaseTicks),
        );
      }
    }
  }
  for (const clip of program.clips)
    cost += 0.02 * overlap(clip.startFrame / sampleRate, clip.endFrame / sampleRate);
  return cost;
}

function sameKeys<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

export type LookaheadRendererImpl = LookaheadRenderer & {
  onError(listener: (error: Error) => void): () => void;
  settled(): Promise<void>;
  pagesSilent(): number;
  pagesStopgap(): number;
  liveKeys(): bigint[];
  isWritten(key: bigint, pageIndex: number): boolean;
};

/** Builds the programs of every head's lanes and starts the render workers; resolves once keys are known. */
export async function createLookaheadRenderer(
  options: LookaheadRendererOptions,
): Promise<LookaheadRendererImpl> {
  const { config, canvas } = options;
  const layout = canvas.layout;
  for (const field of ["sampleRate", "channels", "framesPerPage"] as const) {
    if (layout[field] !== config[field]) {
      throw new RenderError(
        `the canvas file ${canvas.path} has ${field} ${layout[field]} but the renderer is configured for ${config[field]}; delete the canvas file (a cache) so it is rebuilt with the project's settings`,
      );
    }
  }
  if (!(Number.isInteger(config.lookaheadFrames) && config.lookaheadFrames > 0)) {
    throw new RangeError(`lookaheadFrames is ${config.lookaheadFrames}; use a positive number of frames`);
  }
  let soundfontId: string;
  try {
    soundfontId = hashBytes(readFileSync(config.soundfontPath));
  } catch (error) {
    throw new RenderError(
      `cannot read the SoundFont ${config.soundfontPath} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); choose another with the soundfont setting or install timgm6mb-soundfont`,
    );
  }
  const settings: ProgramSettings = {
    sampleRate: config.sampleRate,
    channels: config.channels,
    framesPerPage: config.framesPerPage,
    soundfontId,
  };
  const pool = await createRenderPool(config.workers, {
    soundfontPath: config.soundfontPath,
    geometry: settings,
    canvas,
    generation: PAGE_GENERATION,
  });
  const renderer = new Renderer(options, settings, pool);
  try {
    await renderer.start();
  } catch (error) {
    await renderer.close();
    throw error;
  }
  return renderer;
}
