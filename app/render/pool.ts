// Where pages are rendered and written: a pool of worker threads (each owning the streams assigned to it and its
// own CanvasWriter on the canvas file) or, with 0 workers, this thread. Owned by app/render; called only by the
// lookahead renderer (index.ts).
import { Worker } from "node:worker_threads";
import type { CanvasWriter } from "../audio/canvas-file";
import { addonPath } from "../audio/native";
import { workerScriptUrl } from "../node/worker-script";
import { chooseSynth, type SynthName } from "../spaces/synth/backend";
import { loadSoundFont } from "../spaces/synth/soundbank";
import type { LaneProgram } from "./program";
import type { FromWorker, RenderWorkerData, ToWorker } from "./protocol";
import { type PageGeometry, StreamRenderer } from "./stream";

export interface RenderPool {
  /** Number of renderers that run at once. */
  readonly size: number;
  load(slot: number, program: LaneProgram): void;
  drop(slot: number, key: bigint): void;
  /**
   * Renders pages [firstPage, firstPage + pageCount) of `key` in order and writes each into the canvas file;
   * resolves once all are written, with the milliseconds the renderer spent on them. A failure rejects with a
   * PagesRenderError saying how many were written first.
   */
  render(slot: number, key: bigint, firstPage: number, pageCount: number): Promise<number>;
  close(): Promise<void>;
}

interface PoolSettings {
  readonly soundfontPath: string;
  readonly geometry: PageGeometry;
  readonly canvas: CanvasWriter;
  readonly generation: number;
}

type Pending = { resolve: (renderMs: number) => void; reject: (error: Error) => void };

/** A run of pages failed at page firstPage + writtenPages; the pages before it are written, the rest not tried. */
export class PagesRenderError extends Error {
  readonly writtenPages: number;
  constructor(message: string, writtenPages: number) {
    super(message);
    this.name = "PagesRenderError";
    this.writtenPages = writtenPages;
  }
}

class WorkerPool implements RenderPool {
  readonly size: number;
  readonly #workers: Worker[] = [];
  readonly #pending: Map<string, Pending>[] = [];
  #failure: Error | undefined;

  constructor(url: URL, count: number, settings: PoolSettings, synth: SynthName) {
    this.size = count;
    for (let slot = 0; slot < count; slot++) {
      // The bundled worker lives elsewhere than the sources, so its own module path cannot locate the addon: it is
      // given the path this thread resolved (render-worker.ts applies it before anything loads the addon).
      const workerData: RenderWorkerData = { addonPath: addonPath() };
      const worker = new Worker(url, { workerData });
      const pending = new Map<string, Pending>();
      worker.on("message", (message: FromWorker) => {
        const id = `${message.key}:${message.firstPage}`;
        const waiter = pending.get(id);
        if (!waiter) return;
        pending.delete(id);
        // An idle worker must not keep the process alive; a busy one must (someone awaits its pages).
        if (pending.size === 0) worker.unref();
        if (message.type === "written") waiter.resolve(message.renderMs);
        else waiter.reject(new PagesRenderError(message.message, message.writtenPages));
      });
      const fail = (error: Error): void => {
        this.#failure ??= error;
        for (const waiter of pending.values()) waiter.reject(error);
        pending.clear();
        worker.unref();
      };
      worker.on("error", fail);
      worker.on("exit", (code) => fail(new Error(`a render worker stopped (exit code ${code})`)));
      worker.unref();
      const init: ToWorker = {
        type: "init",
        soundfontPath: settings.soundfontPath,
        synth,
        geometry: settings.geometry,
        canvasPath: settings.canvas.path,
        generation: settings.generation,
      };
      worker.postMessage(init);
      this.#workers.push(worker);
      this.#pending.push(pending);
    }
  }

  load(slot: number, program: LaneProgram): void {
    const message: ToWorker = { type: "program", program };
    this.#workers[slot]!.postMessage(message);
  }

  drop(slot: number, key: bigint): void {
    const message: ToWorker = { type: "drop", key };
    this.#workers[slot]!.postMessage(message);
  }

  render(slot: number, key: bigint, firstPage: number, pageCount: number): Promise<number> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      const pending = this.#pending[slot]!;
      const worker = this.#workers[slot]!;
      if (pending.size === 0) worker.ref();
      pending.set(`${key}:${firstPage}`, { resolve, reject });
      const message: ToWorker = { type: "render", key, firstPage, pageCount };
      worker.postMessage(message);
    });
  }

  async close(): Promise<void> {
    const workers = this.#workers.splice(0);
    const closed = new RenderClosedError();
    for (const [slot, worker] of workers.entries()) {
      // A reply already queued when close() is called must not reach the handler: it would unref() the worker
      // after terminate() ref'd it, and a plain process could then end (exit code 13, an unsettled top-level
      // await) before the worker's exit is reported. An error listener stays, so a late error is not thrown.
      worker.removeAllListeners("message");
      worker.removeAllListeners("exit");
      worker.removeAllListeners("error");
      worker.on("error", () => undefined);
      const pending = this.#pending[slot]!;
      for (const waiter of pending.values()) waiter.reject(closed);
      pending.clear();
    }
    this.#pending.splice(0);
    this.#failure ??= closed;
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

class RenderClosedError extends Error {
  constructor() {
    super("the render pool was closed");
    this.name = "RenderClosedError";
  }
}

class ThreadPool implements RenderPool {
  readonly size = 1;
  readonly #streams = new Map<bigint, Promise<StreamRenderer>>();
  readonly #settings: PoolSettings;
  readonly #synth: SynthName;
  #font: ReturnType<typeof loadSoundFont> | undefined;

  constructor(settings: PoolSettings, synth: SynthName) {
    this.#settings = settings;
    this.#synth = synth;
  }

  load(_slot: number, program: LaneProgram): void {
    if (program.sequence) this.#font ??= loadSoundFont(this.#settings.soundfontPath, this.#synth);
    const font = program.sequence ? this.#font! : Promise.resolve(null);
    this.#streams.set(
      program.key,
      font.then((f) => new StreamRenderer(program, f, this.#settings.geometry)),
    );
  }

  drop(_slot: number, key: bigint): void {
    const dropped = this.#streams.get(key);
    this.#streams.delete(key);
    // Renders run to completion synchronously once awaited, so none is inside this stream's renderer now.
    dropped?.then((stream) => stream.dispose()).catch(() => undefined);
  }

  async render(_slot: number, key: bigint, firstPage: number, pageCount: number): Promise<number> {
    let renderMs = 0;
    const pending = this.#streams.get(key);
    const stream = await pending;
    if (!stream) throw new PagesRenderError(`no program for stream ${key}`, 0);
    for (let written = 0; written < pageCount; written++) {
      // A turn of the event loop per page, so the host's timers keep ticking between pages.
      await new Promise((resolve) => setImmediate(resolve));
      // Dropped meanwhile: its synthesizers are freed (nobody waits for this page).
      if (this.#streams.get(key) !== pending)
        throw new PagesRenderError(`stream ${key} was dropped`, written);
      const pageIndex = firstPage + written;
      const started = performance.now();
      try {
        this.#settings.canvas.writePage(
          key,
          pageIndex,
          this.#settings.generation,
          stream.renderPage(pageIndex),
        );
      } catch (error) {
        throw new PagesRenderError(`rendering page ${pageIndex}: ${(error as Error).message}`, written);
      }
      renderMs += performance.now() - started;
    }
    return renderMs;
  }

  async close(): Promise<void> {
    this.#streams.clear();
  }
}

export async function createRenderPool(workers: number, settings: PoolSettings): Promise<RenderPool> {
  if (!(Number.isInteger(workers) && workers >= 0)) {
    throw new RangeError(`workers is ${workers}; use 0 (render in this thread) or more`);
  }
  // The same choice as the stream keys' (program.ts): this process's setting, made on this thread.
  const synth = chooseSynth().name;
  if (workers === 0) return new ThreadPool(settings, synth);
  return new WorkerPool(await workerScriptUrl(import.meta.url, "render-worker"), workers, settings, synth);
}
