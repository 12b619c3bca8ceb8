// Worker-thread entry of the parallel bounce: loads the SoundFont, renders its channels page by page and posts
// each page's stems (transferred, not copied), reusing buffers the bounce sends back. Started only by bounce.ts.
import { parentPort, workerData } from "node:worker_threads";
import type { BounceJob, RecycleMessage, WorkerMessage } from "./bounce-protocol";
import { createMidiRenderer, type StemFrames } from "./renderer";
import { loadSoundFont } from "./soundbank";

async function run(job: BounceJob): Promise<void> {
  const port = parentPort!;
  const loadStart = performance.now();
  const soundfont = await loadSoundFont(job.soundfontPath, job.synth);
  const loadMs = performance.now() - loadStart;
  const renderStart = performance.now();
  const renderer = createMidiRenderer({
    sequence: job.sequence,
    soundfont,
    sampleRate: job.sampleRate,
    effects: job.effects,
    channels: job.channels,
  });
  // Buffers come back after the bounce has mixed them: rendering into them again avoids fresh memory per page.
  const pool: ArrayBuffer[] = [];
  port.on("message", (message: RecycleMessage) => {
    if (message.type === "recycle") pool.push(...message.buffers);
  });
  const bytes = job.pageFrames * Float32Array.BYTES_PER_ELEMENT;
  const take = (): Float32Array | undefined => {
    const buffer = pool.pop();
    return buffer && buffer.byteLength === bytes ? new Float32Array(buffer) : undefined;
  };
  for (let pageIndex = 0; pageIndex * job.pageFrames < job.totalFrames; pageIndex++) {
    const frames = Math.min(job.pageFrames, job.totalFrames - pageIndex * job.pageFrames);
    let into: StemFrames[] | undefined;
    if (frames === job.pageFrames && pool.length >= 2 * renderer.channels.length) {
      into = renderer.channels.map((channel) => ({ channel, left: take()!, right: take()! }));
      if (into.some((stem) => stem.left === undefined || stem.right === undefined)) into = undefined;
    }
    const stems = renderer.renderStems(frames, into);
    const message: WorkerMessage = { type: "page", pageIndex, stems };
    port.postMessage(
      message,
      stems.flatMap((stem) => [stem.left.buffer as ArrayBuffer, stem.right.buffer as ArrayBuffer]),
    );
    await new Promise((resolve) => setImmediate(resolve));
  }
  renderer.dispose();
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
