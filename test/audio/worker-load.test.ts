// The addon is context-aware: it loads in a worker thread while the main thread uses it, and an engine in the
// worker renders the same bits as one on the main thread.
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ControlBlock } from "../../app/audio/control-block";
import { Engine } from "../../app/audio/engine";
import { addonPath } from "../../app/audio/native";
import { countMismatches } from "../../app/audio/reference-mix";
import { requireAddon, tempDir, writeTestCanvas } from "./helpers";

const tmp = tempDir();
const canvasPath = join(tmp.dir, "worker.lcc");
beforeAll(() => {
  requireAddon();
  writeTestCanvas({
    path: canvasPath,
    sampleRate: 48000,
    channels: 2,
    framesPerPage: 512,
    pageCapacity: 64,
    streams: [
      { key: 21n, pages: 16 },
      { key: 22n, pages: 16 },
    ],
  });
});
afterAll(() => tmp.cleanup());

const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const addon = require(workerData.addon);
const engine = new addon.NativeEngine(new Uint8Array(workerData.control), workerData.config);
engine.openCanvas(workerData.canvas);
const out = engine.renderOffline(workerData.frames, 300);
engine.dispose();
parentPort.postMessage(out);
`;

function configure(control: ControlBlock): void {
  control.setHeadStreams(0, [21n, 22n]);
  control.setLanePan(1, 0.4);
  control.setHeadPlaying(0, true);
}

describe("addon in a worker thread", () => {
  it("renders the same bits as the main thread, both running at once", async () => {
    const config = { sampleRate: 48000, channels: 2, maxHeads: 1, maxLanes: 2, maxBlockFrames: 1024 };
    const workerControl = ControlBlock.create(config);
    configure(workerControl);
    const frames = 16 * 512;
    const worker = new Worker(WORKER, {
      eval: true,
      workerData: { addon: addonPath(), control: workerControl.buffer, config, canvas: canvasPath, frames },
    });
    const fromWorker = new Promise<Float32Array>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
    const engine = Engine.create(config);
    try {
      engine.openCanvas(canvasPath);
      configure(engine.control);
      const mainOut = engine.renderOffline(frames, { blockFrames: 256 });
      const workerOut = await fromWorker;
      expect(workerOut.length).toBe(frames * 2);
      expect(countMismatches(mainOut, workerOut).mismatched).toBe(0);
      expect(mainOut.some((v) => v !== 0)).toBe(true);
      expect(workerControl.stats().callbacks).toBe(Math.ceil(frames / 300));
    } finally {
      engine.dispose();
      await worker.terminate();
    }
  });
});
