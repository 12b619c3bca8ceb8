// Worker-thread entry of the parallel bounce: loads the SoundFont, renders its channels page by page and posts
// each page's stems (transferred, not copied). Started only by bounce.ts.
import { parentPort, workerData } from "node:worker_threads";
import type { BounceJob, WorkerMessage } from "./bounce-protocol";
import { createMidiRenderer } from "./renderer";
import { loadSoundFont } from "./soundbank";

async function run(job: BounceJob): Promise<void> {
  const port = parentPort!;
  const loadStart = performance.now();
  const soundfont = await loadSoundFont(job.soundfontPath);
  const loadMs = performance.now() - loadStart;
  const renderStart = performance.now();
  const renderer = createMidiRenderer({
    sequence: job.sequence,
    soundfont,
    sampleRate: job.sampleRate,
    effects: job.effects,
    channels: job.channels,
  });
  for (let pageIndex = 0; pageIndex * job.pageFrames < job.totalFrames; pageIndex++) {
    const frames = Math.min(job.pageFrames, job.totalFrames - pageIndex * job.pageFrames);
    const stems = renderer.renderStems(frames);
    const message: WorkerMessage = { type: "page", pageIndex, stems };
    port.postMessage(
      message,
      stems.flatMap((stem) => [stem.left.buffer as ArrayBuffer, stem.right.buffer as ArrayBuffer]),
    );
  }
  const done: WorkerMessage = { type: "done", renderMs: performance.now() - renderStart, loadMs };
  port.postMessage(done);
}

run(workerData as BounceJob).catch((error: unknown) => {
  const message: WorkerMessage = {
    type: "error",
    message: error instanceof Error ? error.message : String(error),
  };
  parentPort!.postMessage(message);
});
