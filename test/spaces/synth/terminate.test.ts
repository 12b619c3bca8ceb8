// A worker thread terminated while it renders through the FluidSynth addon must not take the process down: the
// addon's Node-API calls fail during termination, and node-addon-api would std::terminate on the exception it
// cannot throw (the render pool and the bounce terminate busy workers on close). Real addon, real worker threads,
// in a child process so that an abort is seen as its exit status.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { synthAddonPath } from "../../../app/spaces/synth/fluid";
import { TIMGM6MB } from "./fixtures";

const run = promisify(execFile);

const CHILD = `
import { Worker } from "node:worker_threads";
const code = \`
  const { workerData, parentPort } = require("node:worker_threads");
  const addon = require(workerData.addon);
  const keeper = new addon.FluidSynth(workerData.font, 48000, false, false);
  const left = new Float32Array(64), right = new Float32Array(64);
  parentPort.postMessage("started");
  for (;;) {
    const synth = new addon.FluidSynth(workerData.font, 48000, false, false, keeper);
    synth.programChange(0, 0);
    for (let i = 0; i < 200; i++) { synth.noteOn(0, 40 + (i % 40), 100); synth.render(left, right, 0, 64); synth.activeVoices(); }
    synth.close();
  }
\`;
const rounds = 8;
for (let round = 0; round < rounds; round++) {
  const workers = [0, 1].map(() => new Worker(code, { eval: true, execArgv: [], workerData: { addon: process.env.ADDON, font: process.env.FONT } }));
  await Promise.all(workers.map((w) => new Promise((resolve) => w.once("message", resolve))));
  await new Promise((resolve) => setTimeout(resolve, 20 + round * 7));
  await Promise.all(workers.map((w) => w.terminate()));
}
console.log("survived");
`;

describe("FluidSynth addon in terminated workers", () => {
  it("a worker terminated in the middle of rendering leaves the process running", {
    timeout: 60_000,
  }, async () => {
    const { stdout } = await run("node", ["--input-type=module", "-e", CHILD], {
      env: { ...process.env, ADDON: synthAddonPath(), FONT: TIMGM6MB },
    });
    expect(stdout.trim()).toBe("survived");
  });
});
