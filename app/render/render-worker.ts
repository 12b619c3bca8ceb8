// Worker-thread entry of the lookahead renderer: owns the StreamRenderers of the streams assigned to it (stream
// affinity keeps each synthesizer's state from page to page), writes each page into the canvas file through its
// own CanvasWriter and reports it written. Started only by app/render/pool.ts.
import { parentPort, workerData } from "node:worker_threads";
import { CanvasWriter } from "../audio/canvas-file";
import { type LoadedSoundFont, loadSoundFont } from "../spaces/synth/soundbank";
import type { FromWorker, RenderWorkerData, ToWorker } from "./protocol";
import { type PageGeometry, StreamRenderer } from "./stream";

// This thread runs from a bundle elsewhere than the sources: load the addon the main thread resolved. A worker's
// process.env is its own copy, so this changes nothing outside the thread; the addon is loaded lazily (first
// CanvasWriter), after this line.
process.env["LC_AUDIO_ADDON"] = (workerData as RenderWorkerData).addonPath;
const port = parentPort!;
let soundfont: Promise<LoadedSoundFont> | undefined;
let geometry: PageGeometry | undefined;
let writer: CanvasWriter | undefined;
let generation = 0;
const streams = new Map<bigint, Promise<StreamRenderer>>();
let chain: Promise<void> = Promise.resolve();

function post(message: FromWorker): void {
  port.postMessage(message);
}

port.on("message", (message: ToWorker) => {
  switch (message.type) {
    case "init":
      geometry = message.geometry;
      generation = message.generation;
      writer = new CanvasWriter(message.canvasPath);
      soundfont = loadSoundFont(message.soundfontPath, message.synth);
      soundfont.catch(() => undefined);
      break;
    case "program": {
      const { program } = message;
      const font = program.sequence !== null ? soundfont! : Promise.resolve(null);
      streams.set(
        program.key,
        font.then((f) => new StreamRenderer(program, f, geometry!)),
      );
      break;
    }
    case "drop": {
      const dropped = streams.get(message.key);
      streams.delete(message.key);
      // After any render of it already queued (renders run one at a time on `chain`).
      if (dropped) chain = chain.then(async () => (await dropped.catch(() => null))?.dispose());
      break;
    }
    case "render": {
      const { key, firstPage, pageCount } = message;
      // One job at a time, in arrival order: a stream's renderer is stateful.
      chain = chain.then(async () => {
        let written = 0;
        const started = performance.now();
        try {
          const stream = await streams.get(key);
          if (!stream) throw new Error(`no program for stream ${key}`);
          for (; written < pageCount; written++) {
            const pageIndex = firstPage + written;
            writer!.writePage(key, pageIndex, generation, stream.renderPage(pageIndex));
          }
          post({ type: "written", key, firstPage, pageCount, renderMs: performance.now() - started });
        } catch (error) {
          post({
            type: "error",
            key,
            firstPage,
            writtenPages: written,
            message: `rendering page ${firstPage + written}: ${(error as Error).message}`,
          });
        }
      });
      break;
    }
  }
});
