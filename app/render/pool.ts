// Where pages are rendered: a pool of worker threads (each owning the streams assigned to it) or, with 0
// workers, this thread. Owned by app/render; called only by the lookahead renderer (index.ts).
import { Worker } from "node:worker_threads";
import { loadSoundFont } from "../spaces/synth/soundbank";
import type { LaneProgram } from "./program";
import type { FromWorker, ToWorker } from "./protocol";
import { type PageGeometry, StreamRenderer } from "./stream";
import { renderWorkerUrl } from "./worker-entry";

export interface RenderPool {
  /** Number of renderers that run at once. */
  readonly size: number;
  load(slot: number, program: LaneProgram): void;
  drop(slot: number, key: bigint): void;
  render(slot: number, key: bigint, pageIndex: number): Promise<Float32Array>;
  close(): Promise<void>;
}

type Pending = { resolve: (samples: Float32Array) => void; reject: (error: Error) => void };

class WorkerPool implements RenderPool {
  readonly size: number;
  readonly #workers: Worker[];
  readonly #pending: Map<string, Pending>[];
  #failure: Error | undefined;

  constructor(url: URL, count: number, soundfontPath: string, geometry: PageGeometry) {
    this.size = count;
    this.#workers = [];
    this.#pending = [];
    for (let slot = 0; slot < count; slot++) {
      const worker = new Worker(url);
      const pending = new Map<string, Pending>();
      worker.on("message", (message: FromWorker) => {
        const id = `${message.key}:${message.pageIndex}`;
        const waiter = pending.get(id);
        if (!waiter) return;
        pending.delete(id);
        if (message.type === "page") waiter.resolve(message.samples);
        else waiter.reject(new Error(`rendering page ${message.pageIndex}: ${message.message}`));
      });
      const fail = (error: Error): void => {
        this.#failure ??= error;
        for (const waiter of pending.values()) waiter.reject(error);
        pending.clear();
      };
      worker.on("error", fail);
      worker.on("exit", (code) => fail(new Error(`a render worker stopped (exit code ${code})`)));
      worker.unref();
      const init: ToWorker = { type: "init", soundfontPath, geometry };
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

  render(slot: number, key: bigint, pageIndex: number): Promise<Float32Array> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#pending[slot]!.set(`${key}:${pageIndex}`, { resolve, reject });
      const message: ToWorker = { type: "render", key, pageIndex };
      this.#workers[slot]!.postMessage(message);
    });
  }

  async close(): Promise<void> {
    const workers = this.#workers.splice(0);
    for (const worker of workers) worker.removeAllListeners("exit");
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

class ThreadPool implements RenderPool {
  readonly size = 1;
  readonly #streams = new Map<bigint, Promise<StreamRenderer>>();
  readonly #soundfontPath: string;
  readonly #geometry: PageGeometry;
  #font: ReturnType<typeof loadSoundFont> | undefined;

  constructor(soundfontPath: string, geometry: PageGeometry) {
    this.#soundfontPath = soundfontPath;
    this.#geometry = geometry;
  }

  load(_slot: number, program: LaneProgram): void {
    if (program.sequence) this.#font ??= loadSoundFont(this.#soundfontPath);
    const font = program.sequence ? this.#font! : Promise.resolve(null);
    this.#streams.set(
      program.key,
      font.then((f) => new StreamRenderer(program, f, this.#geometry)),
    );
  }

  drop(_slot: number, key: bigint): void {
    this.#streams.delete(key);
  }

  async render(_slot: number, key: bigint, pageIndex: number): Promise<Float32Array> {
    const stream = await this.#streams.get(key);
    if (!stream) throw new Error(`no program for stream ${key}`);
    await new Promise((resolve) => setImmediate(resolve));
    return stream.renderPage(pageIndex);
  }

  async close(): Promise<void> {
    this.#streams.clear();
  }
}

export async function createRenderPool(
  workers: number,
  soundfontPath: string,
  geometry: PageGeometry,
): Promise<RenderPool> {
  if (!(Number.isInteger(workers) && workers >= 0)) {
    throw new RangeError(`workers is ${workers}; use 0 (render in this thread) or more`);
  }
  if (workers === 0) return new ThreadPool(soundfontPath, geometry);
  return new WorkerPool(await renderWorkerUrl(), workers, soundfontPath, geometry);
}
