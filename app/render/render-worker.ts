// Worker-thread entry of the lookahead renderer: owns the StreamRenderers of the streams assigned to it (stream
// affinity keeps each synthesizer's state from page to page) and posts rendered pages back, transferred.
// Started only by app/render/pool.ts.
import { parentPort } from "node:worker_threads";
import { type LoadedSoundFont, loadSoundFont } from "../spaces/synth/soundbank";
import type { FromWorker, ToWorker } from "./protocol";
import { type PageGeometry, StreamRenderer } from "./stream";

const port = parentPort!;
let soundfont: Promise<LoadedSoundFont> | undefined;
let geometry: PageGeometry | undefined;
const streams = new Map<bigint, StreamRenderer | Promise<StreamRenderer>>();
let chain: Promise<void> = Promise.resolve();

function post(message: FromWorker): void {
  if (message.type === "page") port.postMessage(message, [message.samples.buffer as ArrayBuffer]);
  else port.postMessage(message);
}

port.on("message", (message: ToWorker) => {
  switch (message.type) {
    case "init":
      geometry = message.geometry;
      soundfont = loadSoundFont(message.soundfontPath);
      soundfont.catch(() => undefined);
      break;
    case "program": {
      const { program } = message;
      const needsFont = program.sequence !== null;
      streams.set(
        program.key,
        (needsFont ? soundfont! : Promise.resolve(null)).then(
          (font) => new StreamRenderer(program, font, geometry!),
        ),
      );
      break;
    }
    case "drop":
      streams.delete(message.key);
      break;
    case "render": {
      const { key, pageIndex } = message;
      // One job at a time, in arrival order: a stream's renderer is stateful.
      chain = chain.then(async () => {
        try {
          const stream = await streams.get(key);
          if (!stream) throw new Error(`no program for stream ${key}`);
          post({ type: "page", key, pageIndex, samples: stream.renderPage(pageIndex) });
        } catch (error) {
          post({ type: "error", key, pageIndex, message: (error as Error).message });
        }
      });
      break;
    }
  }
});
