// Benchmark: a soak of the host. The demo project (assets/demo/make-demo.ts) in a temp folder with 4 attention
// heads (Alpha, Beta and two more with other seeds), each looping the demo from another place, on the null driver,
// and an edit every second (a marker region moved to a head's audible beat; every third edit also changes the Keys
// region's gain, which re-renders that lane for every head). Records page misses, late blocks, renderer errors and,
// every few seconds, the host's memory (RSS split anonymous/file, JS heap, external, array buffers), the canvas
// file's disk use and its live page slots. Writes bench/results/render-soak.json.
// Every page miss is logged with its context (head, lane, beat, reason, time since the last edit and the head's
// last key switch, whether the key is still live and the page written a few ms later). Memory samples include the
// C heap of the whole process (glibc mallinfo2 over every arena: in use vs free-but-kept); --trim calls
// malloc_trim(0) before each sample (shows how much of the anonymous RSS is free memory the allocator keeps).
// Run: node --expose-gc --import tsx bench/render/soak.ts [--seconds 600] [--sample-seconds 5] [--trim]
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { CanvasReader } from "../../app/audio/canvas-file";
import { loadAddon } from "../../app/audio/native";
import { regionSpec } from "../../app/core/canvas/region-spec";
import { applyCommands, type Command, newHead, newLane, newRegion } from "../../app/core/document";
import { beatToFrame } from "../../app/core/time/tempo-map";
import { openSession, type SessionMiss } from "../../app/host/session";
import type { LookaheadRendererImpl } from "../../app/render/index";
import { DEMO_BARS, DEMO_BPM, makeDemo } from "../../assets/demo/make-demo";
import {
  editProject,
  importMarker,
  load,
  machine,
  markerSequence,
  prefixedIds,
  record,
  sleep,
  uncommitted,
} from "./common";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "600" },
    "sample-seconds": { type: "string", default: "5" },
    trim: { type: "boolean", default: false },
  },
});
const seconds = Number(values.seconds);
const sampleSeconds = Number(values["sample-seconds"]);
const trim = values.trim === true;
const LOOP_BEATS = DEMO_BARS * 4;
const MiB = 2 ** 20;

interface Sample {
  readonly t: number;
  readonly rssMiB: number;
  readonly rssAnonMiB: number;
  readonly rssFileMiB: number;
  readonly heapUsedMiB: number;
  readonly externalMiB: number;
  readonly arrayBuffersMiB: number;
  /** glibc heap of the whole process (all threads' arenas): allocated, and free but kept by the allocator. */
  readonly mallocInUseMiB: number;
  readonly mallocFreeMiB: number;
  /** How long malloc_trim(0) took before this sample (--trim), ms. */
  readonly trimMs: number;
  readonly threads: number;
  /** Page faults taken by the callback thread so far (minor: a mapped file page not in its page table yet). */
  readonly callbackMinorFaults: number;
  readonly callbackMajorFaults: number;
  /** Machine-wide: ms some task waited for a CPU / for I/O since the previous sample (/proc/pressure). */
  readonly cpuPressureMs: number;
  readonly ioPressureMs: number;
  /** The longest callback so far (engine stat, microseconds). */
  readonly maxCallbackUs: number;
  readonly canvasDiskMiB: number;
  readonly liveSlots: number;
  readonly pageMisses: number;
  readonly lateBlocks: number;
  readonly rendererErrors: number;
  readonly pagesRendered: number;
  readonly pagesCopied: number;
  readonly minReadyAheadMs: number;
  readonly edits: number;
  /** The longest the main thread overslept a timer since the previous sample (a stalled event loop). */
  readonly maxLoopLagMs: number;
}

function procStatus(): { anon: number; file: number } {
  const text = readFileSync("/proc/self/status", "utf8");
  const kib = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? Number.NaN);
  return { anon: kib("RssAnon") / 1024, file: kib("RssFile") / 1024 };
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/**
 * Minor and major page faults of the engine's callback thread (the one thread running SCHED_FIFO: the null
 * driver's, where the priority was granted), from /proc; undefined when no thread has that policy.
 */
function callbackThreadFaults(): { minor: number; major: number } | undefined {
  for (const tid of readdirSync("/proc/self/task")) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
    } catch {
      continue;
    }
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields after the name, from field 3 (state): minflt is field 10, majflt 12, policy 41.
    if (Number(fields[38]) === 1) return { minor: Number(fields[7]), major: Number(fields[9]) };
  }
  return undefined;
}

/** Total stall time (ms) in /proc/pressure/<resource> ("some" line): how long some task waited for it. */
function pressureMs(resource: "cpu" | "io"): number {
  try {
    const text = readFileSync(`/proc/pressure/${resource}`, "utf8");
    return Number(/^some .*total=(\d+)/m.exec(text)?.[1] ?? Number.NaN) / 1000;
  } catch {
    return Number.NaN;
  }
}

function procThreads(): number {
  return Number(/^Threads:\s+(\d+)/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? Number.NaN);
}

/** A page miss with what was going on around it (see docs/render.md, "Page misses"). */
interface MissContext {
  readonly t: number;
  readonly head: string;
  readonly lane: string;
  readonly atBeat: number;
  readonly pageIndex: number;
  readonly frameOffset: number;
  readonly frames: number;
  readonly reason: string;
  readonly streamKey: string;
  /** Frames from the loop start to the missed segment (small: just after a loop wrap). */
  readonly sinceLoopStartFrames: number;
  /** Engine frames since the last edit was applied / since this head last switched keys. */
  readonly msSinceEdit: number;
  readonly msSinceHeadSwitch: number;
  /** The missed key: the head's current key on that lane, the one before the last switch, or another. */
  readonly keyIs: "current" | "previous" | "other";
  /** At the drain (a few ms later): the renderer still has a program for the key / has the page written. */
  readonly keyLive: boolean;
  readonly pageWritten: boolean;
  /** Late null-driver blocks since the previous sample. */
  readonly lateBlocksSinceSample: number;
}

function mean(samples: readonly Sample[], field: keyof Sample): number {
  return round1(samples.reduce((sum, s) => sum + s[field], 0) / Math.max(1, samples.length));
}

async function main(): Promise<void> {
  const loadBefore = load();
  // The tree this run loads: read now, not at the end (others commit to the shared tree during a 10-minute run).
  const machineAtStart = machine();
  const uncommittedAtStart = uncommitted();
  const root = mkdtempSync(join(tmpdir(), "lc-render-soak-"));
  const project = join(root, "demo");
  await makeDemo(project);
  const marker = await importMarker(project, markerSequence(DEMO_BPM, 1), "marker.mid");
  const ids = prefixedIds("soak");
  const markerLane = newLane(ids, { name: "Marker", gainDb: -12 });
  let keysRegionId = "";
  await editProject(project, (document) => {
    const commands: Command[] = [{ kind: "addLane", lane: markerLane }];
    for (const [name, seed] of [
      ["Gamma", 3],
      ["Delta", 4],
    ] as const) {
      commands.push({
        kind: "addHead",
        head: newHead(ids, { name, gainDb: -6, context: { temperature: 1, topP: 0.95, seed, style: "" } }),
      });
    }
    const keysLane = document.lanes.find((lane) => lane.name === "Keys")!;
    keysRegionId = document.regions.find((region) => region.laneId === keysLane.id)!.id;
    const withHeads = applyCommands(document, commands).document;
    const loops: Command[] = withHeads.heads.map((head, index) => ({
      kind: "updateHead",
      headId: head.id,
      changes: {
        positionBeat: index * 8,
        loopStartBeat: 0,
        loopEndBeat: LOOP_BEATS,
        loopEnabled: true,
      },
    }));
    return applyCommands(withHeads, loops).document;
  });

  const notes: string[] = [];
  const session = await openSession(project, {
    driver: "null",
    autosaveMs: 0,
    onNote: (text) => notes.push(text),
  });
  const samples: Sample[] = [];
  const missLog: MissContext[] = [];
  let editCount = 0;
  const renderer = session.renderer as LookaheadRendererImpl;
  const frameMs = (frames: number) => Math.round((frames / session.sampleRate) * 10000) / 10;
  const engineFrame = () => session.engine.stats().framesRendered;
  const loopStartFrame = beatToFrame(session.document.tempoMap, 0, session.sampleRate);
  let lastEditFrame = Number.NaN;
  let lateAtSample = 0;
  const switches = new Map<
    string,
    { frame: number; previous: readonly bigint[]; current: readonly bigint[] }
  >();
  for (const id of session.headIds()) {
    switches.set(id, { frame: Number.NaN, previous: [], current: renderer.streamKeys(id) });
  }
  renderer.onStreamKeysChanged((headId, keys) => {
    const before = switches.get(headId);
    switches.set(headId, { frame: engineFrame(), previous: before?.current ?? [], current: keys });
  });
  session.onMisses((misses: readonly SessionMiss[]) => {
    const late = session.engine.stats().lateBlocks;
    for (const miss of misses) {
      const sw = switches.get(miss.headId);
      const keyIs =
        sw?.current[miss.lane] === miss.streamKey
          ? "current"
          : sw?.previous[miss.lane] === miss.streamKey
            ? "previous"
            : "other";
      const context: MissContext = {
        t: round1(frameMs(miss.engineFrame) / 1000),
        head: miss.headName,
        lane: miss.laneName,
        atBeat: Math.round(miss.atBeat * 1000) / 1000,
        pageIndex: miss.pageIndex,
        frameOffset: miss.timelineFrame - miss.pageIndex * session.framesPerPage,
        frames: miss.frames,
        reason: miss.reason,
        streamKey: `0x${miss.streamKey.toString(16)}`,
        sinceLoopStartFrames: miss.timelineFrame - loopStartFrame,
        msSinceEdit: frameMs(miss.engineFrame - lastEditFrame),
        msSinceHeadSwitch: frameMs(miss.engineFrame - (sw?.frame ?? Number.NaN)),
        keyIs,
        keyLive: renderer.liveKeys().includes(miss.streamKey),
        pageWritten: renderer.isWritten(miss.streamKey, miss.pageIndex),
        lateBlocksSinceSample: late - lateAtSample,
      };
      missLog.push(context);
      if (missLog.length <= 200) console.log(`miss ${JSON.stringify(context)}`);
    }
  });
  const gc = (globalThis as { gc?: () => void }).gc;
  const addon = loadAddon();
  try {
    await session.rewind();
    await session.waitReady();
    session.play();
    session.start();
    const started = performance.now();
    let previous: string | undefined;
    let seed = 99;
    const random = () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed / 2 ** 32;
    };
    let nextSample = 0;
    let maxLag = 0;
    let nextEdit = 1000;
    let cpuPressureBefore = pressureMs("cpu");
    let ioPressureBefore = pressureMs("io");
    const take = () => {
      gc?.();
      const trimStarted = performance.now();
      if (trim) addon.mallocTrim();
      const trimMs = performance.now() - trimStarted;
      const heap = addon.mallocStats();
      const faults = callbackThreadFaults();
      const cpuPressure = pressureMs("cpu");
      const ioPressure = pressureMs("io");
      const memory = process.memoryUsage();
      const status = procStatus();
      const stats = session.stats();
      const ready = Object.values(stats.renderer.readyAheadFrames);
      const sample: Sample = {
        t: round1((performance.now() - started) / 1000),
        rssMiB: round1(memory.rss / MiB),
        rssAnonMiB: round1(status.anon),
        rssFileMiB: round1(status.file),
        heapUsedMiB: round1(memory.heapUsed / MiB),
        externalMiB: round1(memory.external / MiB),
        arrayBuffersMiB: round1(memory.arrayBuffers / MiB),
        mallocInUseMiB: round1((heap.inUseBytes ?? Number.NaN) / MiB),
        mallocFreeMiB: round1((heap.freeBytes ?? Number.NaN) / MiB),
        trimMs: round1(trimMs),
        threads: procThreads(),
        callbackMinorFaults: faults?.minor ?? Number.NaN,
        callbackMajorFaults: faults?.major ?? Number.NaN,
        maxCallbackUs: Math.round(stats.engine.maxCallbackNs / 1000),
        cpuPressureMs: Math.round(cpuPressure - cpuPressureBefore),
        ioPressureMs: Math.round(ioPressure - ioPressureBefore),
        canvasDiskMiB: round1((statSync(session.canvasPath).blocks * 512) / MiB),
        liveSlots: new CanvasReader(session.canvasPath).pages().length,
        pageMisses: stats.engine.pageMisses,
        lateBlocks: stats.engine.lateBlocks,
        rendererErrors: stats.rendererErrors,
        pagesRendered: stats.renderer.pagesRendered,
        pagesCopied: stats.renderer.pagesCopied,
        minReadyAheadMs: Math.round((Math.min(...ready) / session.sampleRate) * 1000),
        edits: editCount,
        maxLoopLagMs: Math.round(maxLag),
      };
      maxLag = 0;
      lateAtSample = stats.engine.lateBlocks;
      cpuPressureBefore = cpuPressure;
      ioPressureBefore = ioPressure;
      samples.push(sample);
      if (samples.length % Math.max(1, Math.round(30 / sampleSeconds)) === 1)
        console.log(JSON.stringify(sample));
    };
    while (performance.now() - started < seconds * 1000) {
      const elapsed = performance.now() - started;
      if (elapsed >= nextSample) {
        take();
        nextSample += sampleSeconds * 1000;
      }
      if (elapsed >= nextEdit) {
        nextEdit += 1000;
        const heads = session.heads();
        const head = heads[Math.floor(random() * heads.length)]!;
        const atBeat = Math.min(head.positionBeat + 0.5, LOOP_BEATS - 1);
        const region = newRegion(ids, {
          laneId: markerLane.id,
          name: "Marker",
          encodingHash: marker,
          atBeat,
          durationBeats: 1,
          spec: regionSpec([0, 4, 0, 1, 0, 1], { is_output: false }),
        });
        const commands: Command[] = [{ kind: "addRegion", region }];
        if (previous) commands.unshift({ kind: "removeRegion", regionId: previous });
        if (editCount % 3 === 2) {
          commands.push({
            kind: "updateRegion",
            regionId: keysRegionId,
            changes: { gainDb: (editCount / 3) % 2 < 1 ? -4 : 0 },
          });
        }
        lastEditFrame = engineFrame();
        session.apply(commands, "soak edit");
        previous = region.id;
        editCount++;
      }
      const wait = Math.max(1, Math.min(nextSample, nextEdit) - (performance.now() - started));
      const before = performance.now();
      await sleep(wait);
      maxLag = Math.max(maxLag, performance.now() - before - wait);
    }
    take();
    const stats = session.stats();
    const firstMinute = samples.filter((s) => s.t <= 60);
    const lastMinute = samples.filter((s) => s.t >= samples.at(-1)!.t - 60);
    const compare = (field: keyof Sample) => ({
      firstMinute: mean(firstMinute, field),
      lastMinute: mean(lastMinute, field),
    });
    const result = {
      command: `${process.env["MALLOC_ARENA_MAX"] ? `MALLOC_ARENA_MAX=${process.env["MALLOC_ARENA_MAX"]} ` : ""}node --expose-gc --import tsx bench/render/soak.ts --seconds ${seconds} --sample-seconds ${sampleSeconds}${trim ? " --trim" : ""}`,
      machine: machineAtStart,
      uncommittedFilesOfOthers: uncommittedAtStart,
      loadBefore,
      loadAfter: load(),
      setup: `demo project + Marker lane, 4 heads looping beats 0-${LOOP_BEATS} from beats 0/8/16/24 (seeds 1-4), null driver, 256-frame blocks, lookahead 2 s, an edit every second (marker moved; every third edit also the Keys region's gain)`,
      goal: "zero page misses; host memory flat",
      seconds: round1((performance.now() - started) / 1000),
      edits: editCount,
      gcBeforeSamples: gc !== undefined,
      pageMisses: stats.engine.pageMisses,
      missesByReason: stats.misses.byReason,
      missRecordsDropped: stats.engine.missRecordsDropped,
      memoryTrims: stats.memoryTrims,
      lateBlocks: stats.engine.lateBlocks,
      maxCallbackUs: Math.round(stats.engine.maxCallbackNs / 1000),
      callbackMinorFaults: samples.at(-1)!.callbackMinorFaults,
      callbacks: stats.engine.callbacks,
      rendererErrors: stats.rendererErrors,
      renderer: {
        pagesRendered: stats.renderer.pagesRendered,
        pagesCopied: stats.renderer.pagesCopied,
        pagesStopgap: renderer.pagesStopgap(),
        jobsDropped: stats.renderer.jobsDropped,
      },
      memory: {
        rssMiB: compare("rssMiB"),
        rssAnonMiB: compare("rssAnonMiB"),
        rssFileMiB: compare("rssFileMiB"),
        heapUsedMiB: compare("heapUsedMiB"),
        externalMiB: compare("externalMiB"),
        arrayBuffersMiB: compare("arrayBuffersMiB"),
        mallocInUseMiB: compare("mallocInUseMiB"),
        mallocFreeMiB: compare("mallocFreeMiB"),
        canvasDiskMiB: compare("canvasDiskMiB"),
        liveSlots: compare("liveSlots"),
      },
      notes,
      misses: missLog,
      samples,
    };
    console.log(
      JSON.stringify({
        seconds: result.seconds,
        edits: result.edits,
        pageMisses: result.pageMisses,
        rendererErrors: result.rendererErrors,
        memory: result.memory,
      }),
    );
    console.log(`recorded ${record("soak", result)}`);
  } finally {
    await session.close();
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
