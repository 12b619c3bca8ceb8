// Test support: a child-process workload for the real-time-safety proof and the callback benchmarks. Plays a test
// canvas through a live driver (null, or rtaudio on JACK) while the main thread keeps changing controls (gains,
// pans, mutes, solos, seeks, loops, stream maps) and rewriting pages ahead of the head with new generations.
// Prints one JSON line with the engine stats and the driver info at the end.
// usage: node --import tsx test/support/rt-workload.ts --driver null|jack --seconds N [--lanes N] [--churn on|off]
//          [--kill-pid PID --kill-after S]   (SIGKILL that process, e.g. the JACK server, S seconds in)
//          [--misses on]   (head 1 also plays a stream with no pages on one more lane: a page miss, and so a miss
//                           record, in every block; the main thread drains the records with takeMisses)
// Callers: test/audio/rt-safety*.test.ts (under the rt-guard LD_PRELOAD), bench/engine/run.ts.
import { parseArgs } from "node:util";
import { loadAddon } from "../../app/audio/native";
import { createTestCanvas, setMixerControls } from "./test-canvas";

const { values } = parseArgs({
  options: {
    driver: { type: "string", default: "null" },
    seconds: { type: "string", default: "3" },
    lanes: { type: "string", default: "8" },
    churn: { type: "string", default: "on" },
    period: { type: "string", default: "256" },
    "kill-pid": { type: "string" },
    "kill-after": { type: "string", default: "1" },
    misses: { type: "string", default: "off" },
  },
});

const SAMPLE_RATE = 48_000;
const seconds = Number(values.seconds);
const lanes = Number(values.lanes);
const period = Number(values.period);
const churn = values.churn !== "off";
const withMisses = values.misses === "on";
/** A stream key no page of the test canvas has. */
const MISSING_KEY = 0x0bad_0bad_0bad_0badn;
const framesPerPage = 4096;
const totalFrames = Math.ceil((seconds + 2) * SAMPLE_RATE);

const canvas = createTestCanvas({
  lanes,
  frames: totalFrames,
  framesPerPage,
  maxHeads: 2,
  ...(withMisses ? { maxLanes: lanes + 1 } : {}),
});
const headOneKeys = (keys: readonly bigint[]) => (withMisses ? [...keys, MISSING_KEY] : [...keys]);
const control = canvas.control;
setMixerControls(canvas);
control.setHeadStreams(1, headOneKeys(canvas.keys));
control.setHeadGain(1, 0.5);
control.setHeadPlaying(0, true);
control.setHeadPlaying(1, true);

const addon = loadAddon();
const engine = new addon.NativeEngine(control.bytes, {
  sampleRate: SAMPLE_RATE,
  channels: 2,
  maxHeads: control.layout.maxHeads,
  maxLanes: control.layout.maxLanes,
  maxBlockFrames: 4096,
});
engine.openCanvas(canvas.path);
const driverInfo = engine.startDriver(
  values.driver === "jack"
    ? { driver: "rtaudio", api: "jack", bufferFrames: period }
    : { driver: "null", bufferFrames: period },
);

let rewrites = 0;
let missRecords = 0;
let controlChanges = 0;
let generation = 1;
const started = Date.now();
const deadline = started + seconds * 1000;
let step = 0;

function churnOnce(): void {
  step++;
  const lane = step % lanes;
  control.setLaneGain(lane, 0.25 + (step % 7) / 10);
  control.setLanePan(lane, ((step % 9) - 4) / 4);
  control.setLaneMute(lane, step % 11 === 0);
  control.setLaneSolo(lane, step % 13 === 0);
  control.setHeadGain(1, 0.25 + (step % 3) / 4);
  control.setHeadMute(1, step % 5 === 0);
  control.setMasterGain(0.5 + (step % 4) / 8);
  controlChanges += 7;
  if (step % 25 === 0) {
    // Head 1 loops over a region, then not; its stream map is rewritten under the seqlock.
    const at = control.headPositionFrames(1);
    control.setHeadLoop(1, { startFrames: at, endFrames: at + 3 * framesPerPage, enabled: step % 50 === 0 });
    control.setHeadStreams(1, headOneKeys([...canvas.keys].reverse()));
    controlChanges += 2;
  }
  if (step % 40 === 0) {
    control.seekHead(1, Math.max(0, control.headPositionFrames(0) - framesPerPage));
    controlChanges++;
  }
  // Rewrite the pages just ahead of head 0 with a new generation, then raise the head's generation.
  const ahead = Math.floor(control.headPositionFrames(0) / framesPerPage) + 2;
  if (ahead * framesPerPage < totalFrames) {
    generation++;
    canvas.writePage(ahead, generation);
    canvas.writePage(ahead + 1, generation);
    rewrites += 2 * lanes;
  }
}

const killPid = values["kill-pid"] === undefined ? undefined : Number(values["kill-pid"]);
if (killPid !== undefined) {
  setTimeout(() => process.kill(killPid, "SIGKILL"), Number(values["kill-after"]) * 1000);
}

const timer = setInterval(() => {
  if (Date.now() >= deadline) {
    clearInterval(timer);
    finish();
    return;
  }
  if (churn) churnOnce();
  if (withMisses) missRecords += engine.takeMisses().length;
}, 5);

function finish(): void {
  const info = engine.driverInfo();
  const stats = control.stats();
  if (withMisses) missRecords += engine.takeMisses().length;
  const positions = [control.headPositionFrames(0), control.headPositionFrames(1)];
  engine.stopDriver();
  engine.dispose();
  canvas.dispose();
  process.stdout.write(
    `${JSON.stringify({
      driver: values.driver,
      seconds,
      lanes,
      period,
      startInfo: driverInfo,
      info,
      stats,
      positions,
      rewrites,
      missRecords,
      controlChanges,
      rtGuardBuild: addon.rtGuardBuild,
    })}\n`,
  );
}
