// Engine benchmarks (not part of npm test): kernel throughput on the offline driver against two peers, callback
// time distribution on the null driver and on a JACK dummy server with the page writer and a CPU load running, and
// page misses while the writer keeps up. Writes bench/results/engine.md and bench/results/engine.json.
// usage: node --import tsx bench/engine/run.ts [--quick] [--skip-jack] [--skip-sox]
import { execFile, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { cpus, loadavg, release } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { STATS } from "../../app/audio/control-block";
import { loadAddon, type NativeEngineInstance } from "../../app/audio/native";
import { startJack } from "../../test/support/jack";
import { compileNative, REPO_ROOT } from "../../test/support/native-build";
import { createTestCanvas, setMixerControls, type TestCanvas } from "../../test/support/test-canvas";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    "skip-jack": { type: "boolean", default: false },
    "skip-sox": { type: "boolean", default: false },
  },
});
const QUICK = values.quick === true;
const SAMPLE_RATE = 48_000;
const FRAMES_PER_PAGE = 4096;
/** Bytes of lane audio each throughput configuration loops over (same for every lane count). */
const WORKING_SET_BYTES = (QUICK ? 24 : 96) * 1024 * 1024;

function exec(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error)
        reject(new Error(`${file} ${args.slice(0, 4).join(" ")}... failed: ${error.message}\n${stderr}`));
      else resolve(String(stdout));
    });
  });
}

function newEngine(canvas: TestCanvas): NativeEngineInstance {
  const addon = loadAddon();
  const engine = new addon.NativeEngine(canvas.control.bytes, {
    sampleRate: SAMPLE_RATE,
    channels: 2,
    maxHeads: canvas.control.layout.maxHeads,
    maxLanes: canvas.control.layout.maxLanes,
    maxBlockFrames: 4096,
  });
  engine.openCanvas(canvas.path);
  return engine;
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

interface ThroughputRow {
  lanes: number;
  loopFrames: number;
  renderedSeconds: number;
  blockFrames: number;
  engineWallX: number;
  engineCpuX: number;
  peerWallX: number;
  peerCpuX: number;
  soxWallX: number | null;
  soxCpuX: number | null;
}

async function soxPeer(
  canvas: TestCanvas,
  lanes: number,
  seconds: number,
): Promise<{ wallX: number; cpuX: number }> {
  // sox mixes the same lanes (float32 stereo files of the same content) to the null output.
  const frames = Math.round(seconds * SAMPLE_RATE);
  const files: string[] = [];
  for (let l = 0; l < lanes; l++) {
    const path = join(canvas.dir, `lane-${l}.f32`);
    writeFileSync(path, canvas.laneFrames(l, 0, frames));
    files.push("-t", "f32", "-r", String(SAMPLE_RATE), "-c", "2", path);
  }
  // bash's `times` prints the CPU time of its children (user, system) on its second line.
  const script = 'sox "$@" && times';
  const t0 = performance.now();
  const out = await exec("bash", ["-c", script, "sox", "-m", ...files, "-n"]);
  const wall = (performance.now() - t0) / 1000;
  const childLine = out.trim().split("\n").pop() ?? "";
  const parts = [...childLine.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  const cpu = parts.length === 2 ? parts[0]! + parts[1]! : Number.NaN;
  return { wallX: seconds / wall, cpuX: seconds / cpu };
}

async function throughput(peerPath: string): Promise<ThroughputRow[]> {
  const rows: ThroughputRow[] = [];
  for (const lanes of [8, 64, 256]) {
    const loopFrames =
      Math.max(1, Math.floor(WORKING_SET_BYTES / (lanes * 8) / FRAMES_PER_PAGE)) * FRAMES_PER_PAGE;
    const canvas = createTestCanvas({
      lanes,
      frames: loopFrames,
      framesPerPage: FRAMES_PER_PAGE,
      maxHeads: 1,
    });
    try {
      setMixerControls(canvas);
      canvas.control.setHeadLoop(0, { startFrames: 0, endFrames: loopFrames, enabled: true });
      canvas.control.setHeadPlaying(0, true);
      const engine = newEngine(canvas);
      const blockFrames = 4096;
      // Warm-up: one pass over the loop faults every page in.
      engine.renderOffline(loopFrames, blockFrames);
      const renderSeconds = QUICK ? 20 : lanes >= 256 ? 60 : 120;
      const chunk = 10 * SAMPLE_RATE;
      const cpu0 = cpuSeconds();
      const t0 = performance.now();
      for (let done = 0; done < renderSeconds * SAMPLE_RATE; done += chunk)
        engine.renderOffline(chunk, blockFrames);
      const wall = (performance.now() - t0) / 1000;
      const cpu = cpuSeconds() - cpu0;
      const misses = canvas.control.stats().pageMisses;
      if (misses !== 0) throw new Error(`offline render of ${lanes} lanes had ${misses} page misses`);
      engine.dispose();

      const peer = JSON.parse(
        await exec(peerPath, [
          String(lanes),
          String(loopFrames),
          String(renderSeconds * SAMPLE_RATE),
          "4096",
        ]),
      ) as { seconds: number; cpuSeconds: number };
      let sox: { wallX: number; cpuX: number } | null = null;
      if (!values["skip-sox"] && lanes <= 64) sox = await soxPeer(canvas, lanes, QUICK ? 5 : 20);
      rows.push({
        lanes,
        loopFrames,
        renderedSeconds: renderSeconds,
        blockFrames,
        engineWallX: renderSeconds / wall,
        engineCpuX: renderSeconds / cpu,
        peerWallX: renderSeconds / peer.seconds,
        peerCpuX: renderSeconds / peer.cpuSeconds,
        soxWallX: sox ? sox.wallX : null,
        soxCpuX: sox ? sox.cpuX : null,
      });
      console.error(`throughput ${lanes} lanes: ${JSON.stringify(rows[rows.length - 1])}`);
    } finally {
      canvas.dispose();
    }
  }
  return rows;
}

// A worker samples the published (callbacks, lastCallbackNs) pair every millisecond: blocks last 5.3 ms, so every
// block's time is seen once. It sleeps between samples, so it does not load a core.
const SAMPLER_SOURCE = `
const { workerData, parentPort } = require("node:worker_threads");
const { buffer, stop, callbacksOff, lastOff } = workerData;
const words = new BigInt64Array(buffer);
const flag = new Int32Array(stop);
const nap = new Int32Array(new SharedArrayBuffer(4));
const times = [];
let prev = Atomics.load(words, callbacksOff / 8);
let skipped = 0;
while (Atomics.load(flag, 0) === 0) {
  Atomics.wait(nap, 0, 0, 1);
  const c = Atomics.load(words, callbacksOff / 8);
  if (c === prev) continue;
  const ns = Atomics.load(words, lastOff / 8);
  if (c === prev + 1n) times.push(Number(ns)); else skipped += Number(c - prev);
  prev = c;
}
parentPort.postMessage({ times, skipped });
`;

interface CallbackRow {
  driver: string;
  load: boolean;
  seconds: number;
  lanes: number;
  callbacks: number;
  sampled: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
  budgetUs: number;
  lateBlocks: number;
  pageMisses: number;
  tornReadRetries: number;
  pagesRewritten: number;
  realtimePriority: boolean;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

async function callbackRun(
  driver: "null" | "jack",
  load: boolean,
  jackEnv?: NodeJS.ProcessEnv,
): Promise<CallbackRow> {
  const lanes = 64;
  const seconds = QUICK ? 4 : 15;
  const loopFrames = 64 * FRAMES_PER_PAGE; // 5.5 s of 64 lanes: 134 MB of pages
  const canvas = createTestCanvas({ lanes, frames: loopFrames, framesPerPage: FRAMES_PER_PAGE, maxHeads: 1 });
  const control = canvas.control;
  setMixerControls(canvas);
  control.setHeadLoop(0, { startFrames: 0, endFrames: loopFrames, enabled: true });
  control.setHeadPlaying(0, true);
  const engine = newEngine(canvas);
  if (jackEnv) {
    process.env.JACK_DEFAULT_SERVER = jackEnv.JACK_DEFAULT_SERVER;
    process.env.JACK_NO_START_SERVER = "1";
  }
  const busy = load ? spawn(process.execPath, ["-e", "for(;;){}"], { stdio: "ignore" }) : undefined;
  const stop = new SharedArrayBuffer(4);
  const sampler = new Worker(SAMPLER_SOURCE, {
    eval: true,
    workerData: {
      buffer: control.buffer,
      stop,
      callbacksOff: STATS.callbacksOff,
      lastOff: STATS.lastCallbackNsOff,
    },
  });
  const samples = new Promise<{ times: number[]; skipped: number }>((resolve) =>
    sampler.once("message", resolve),
  );
  try {
    engine.startDriver(
      driver === "jack"
        ? { driver: "rtaudio", api: "jack", bufferFrames: 256 }
        : { driver: "null", bufferFrames: 256 },
    );
    const before = control.stats();
    // The page writer: keeps rewriting the 2 pages per lane just ahead of the head (new generation, same content).
    let generation = 1;
    let pagesRewritten = 0;
    const pagesInLoop = loopFrames / FRAMES_PER_PAGE;
    const deadline = Date.now() + seconds * 1000;
    while (Date.now() < deadline) {
      const page = Math.floor(control.headPositionFrames(0) / FRAMES_PER_PAGE);
      generation++;
      canvas.writePage((page + 2) % pagesInLoop, generation);
      canvas.writePage((page + 3) % pagesInLoop, generation);
      pagesRewritten += 2 * lanes;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    Atomics.store(new Int32Array(stop), 0, 1);
    const { times } = await samples;
    const after = control.stats();
    const info = engine.driverInfo();
    engine.stopDriver();
    const sorted = [...times].sort((a, b) => a - b);
    return {
      driver: driver === "jack" ? "rtaudio (JACK dummy)" : "null",
      load,
      seconds,
      lanes,
      callbacks: after.callbacks - before.callbacks,
      sampled: times.length,
      p50Us: percentile(sorted, 0.5) / 1000,
      p99Us: percentile(sorted, 0.99) / 1000,
      p999Us: percentile(sorted, 0.999) / 1000,
      maxUs: after.maxCallbackNs / 1000,
      budgetUs: (256 / SAMPLE_RATE) * 1e6,
      lateBlocks: after.lateBlocks - before.lateBlocks,
      pageMisses: after.pageMisses - before.pageMisses,
      tornReadRetries: after.tornReadRetries - before.tornReadRetries,
      pagesRewritten,
      realtimePriority: info.realtimePriority === true,
    };
  } finally {
    busy?.kill("SIGKILL");
    await sampler.terminate();
    engine.dispose();
    canvas.dispose();
  }
}

function fmt(n: number | null, digits = 1): string {
  return n === null || Number.isNaN(n) ? "–" : n.toFixed(digits);
}

async function main(): Promise<void> {
  const startedAt = new Date().toISOString();
  const load0 = loadavg();
  const peerPath = await compileNative({
    name: "peer-mix",
    sources: ["bench/engine/peer-mix.cpp"],
    flags: ["-std=c++17", "-O2", "-ffp-contract=off", "-fno-fast-math"],
  });
  const rows = await throughput(peerPath);

  const callbackRows: CallbackRow[] = [];
  callbackRows.push(await callbackRun("null", false));
  callbackRows.push(await callbackRun("null", true));
  if (!values["skip-jack"]) {
    const server = await startJack({ sampleRate: SAMPLE_RATE, periodFrames: 256 });
    try {
      callbackRows.push(await callbackRun("jack", false, server.env));
      callbackRows.push(await callbackRun("jack", true, server.env));
    } finally {
      await server.stop();
    }
  }
  for (const r of callbackRows) console.error(`callbacks ${JSON.stringify(r)}`);

  const machine = {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    node: process.version,
    kernel: release(),
    loadAverageAtStart: load0.map((x) => x.toFixed(2)).join(" "),
    loadAverageAtEnd: loadavg()
      .map((x) => x.toFixed(2))
      .join(" "),
  };
  const command = `node --import tsx bench/engine/run.ts${QUICK ? " --quick" : ""}`;
  const result = { startedAt, command, machine, throughput: rows, callbacks: callbackRows };
  writeFileSync(join(REPO_ROOT, "bench", "results", "engine.json"), `${JSON.stringify(result, null, 2)}\n`);

  const lines = [
    "# Engine benchmarks",
    "",
    `Recorded ${startedAt} with \`${command}\` (not part of npm test).`,
    "",
    `Machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, Linux ${machine.kernel}. Load average ` +
      `(1/5/15 min) at start ${machine.loadAverageAtStart}, at end ${machine.loadAverageAtEnd}: other work shared ` +
      "the cores, so wall-clock ratios understate the kernel; the CPU-time ratios count only this process's CPU.",
    "",
    "## Kernel throughput (offline driver, one head, one core)",
    "",
    `Each configuration loops over ${WORKING_SET_BYTES / 1048576} MiB of lane audio (canvas pages, faulted in by ` +
      "a warm-up pass) in 4096-frame blocks. Peers in the same run: `peer-mix` (bench/engine/peer-mix.cpp, the " +
      "same arithmetic over the same bytes from plain arrays: the memory-bound ceiling) and `sox -m` mixing the " +
      "same lanes from float files to the null output (20 s of audio; not run for 256 lanes). Times realtime, " +
      "higher is better; goal: 64 lanes at 300x or better.",
    "",
    "| lanes | rendered | engine (wall) | engine (CPU) | peer-mix (wall) | peer-mix (CPU) | sox -m (wall) | sox -m (CPU) |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...rows.map(
      (r) =>
        `| ${r.lanes} | ${r.renderedSeconds} s | ${fmt(r.engineWallX)}x | ${fmt(r.engineCpuX)}x | ` +
        `${fmt(r.peerWallX)}x | ${fmt(r.peerCpuX)}x | ${r.soxWallX === null ? "–" : `${fmt(r.soxWallX)}x`} | ` +
        `${r.soxCpuX === null ? "–" : `${fmt(r.soxCpuX)}x`} |`,
    ),
    "",
    "## Callback time (256 frames at 48 kHz: budget 5,333 us; goal p99 under 5 % = 266 us)",
    "",
    "64 lanes, one head looping over 5.5 s of pages while the TypeScript page writer rewrites the two pages per " +
      'lane just ahead of the head every 20 ms (new generation, same content). "load": a busy Node process ' +
      "(`for(;;){}`) runs beside it. Times are the engine's own per-callback measurement (`lastCallbackNs`), " +
      "sampled every millisecond by a worker; max is the engine's `maxCallbackNs` over the run.",
    "",
    "| driver | load | callbacks | sampled | p50 us | p99 us | p99.9 us | max us | late blocks | page misses | torn-read retries | pages rewritten | RT priority |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ...callbackRows.map(
      (r) =>
        `| ${r.driver} | ${r.load ? "yes" : "no"} | ${r.callbacks} | ${r.sampled} | ${fmt(r.p50Us)} | ` +
        `${fmt(r.p99Us)} | ${fmt(r.p999Us)} | ${fmt(r.maxUs)} | ${r.lateBlocks} | ${r.pageMisses} | ` +
        `${r.tornReadRetries} | ${r.pagesRewritten} | ${r.realtimePriority ? "yes" : "no"} |`,
    ),
    "",
    "Raw numbers: bench/results/engine.json.",
    "",
  ];
  writeFileSync(join(REPO_ROOT, "bench", "results", "engine.md"), lines.join("\n"));
  console.log(lines.join("\n"));
}

await main();
