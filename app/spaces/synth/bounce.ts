// Offline bounce of a whole MidiSequence to interleaved stereo, using every core: channels are split into groups,
// the calling thread and worker threads each render one group page by page, and pages are summed here in
// ascending channel order, so the result is bit-identical to the one-thread render whatever the thread count.
// Owned by app/spaces/synth; called by the CLI, the benchmark and the engine host's export.
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { workerScriptUrl } from "../../node/worker-script";
import type { MidiSequence } from "../midi/sequence";
import { chooseSynth, type SynthName } from "./backend";
import type { BounceJob, RecycleMessage, WorkerMessage } from "./bounce-protocol";
import { type ChannelStem, channelStems, endFrame } from "./events";
import { createMidiRenderer, mixStemsInto, type StemFrames } from "./renderer";
import { loadSoundFont } from "./soundbank";

export interface BounceOptions {
  readonly sequence: MidiSequence;
  readonly soundfontPath: string;
  readonly sampleRate: number;
  readonly effects?: boolean;
  /** Release time rendered after the last event. Default 2 s. */
  readonly tailSeconds?: number;
  /** Threads in all (this one plus workers); default: the available cores. 1 renders in this thread only. */
  readonly workers?: number;
  /** Frames per page handed from a worker to the mix. Default 65536. */
  readonly pageFrames?: number;
  /** The synthesizer; default: the chosen one (backend.ts: LCANVAS_SYNTH, else FluidSynth when it loads). */
  readonly synth?: SynthName;
}

export interface BounceResult {
  /** Interleaved stereo (L, R, ...), `frames` frames. */
  readonly interleaved: Float32Array;
  readonly frames: number;
  readonly sampleRate: number;
  /** The channel groups, one per thread, heaviest first: the last is rendered by the calling thread. */
  readonly groups: readonly (readonly number[])[];
  /** `name@version` of the synthesizer that rendered. */
  readonly synthId: string;
}

function totalFramesOf(stems: readonly ChannelStem[], options: BounceOptions): number {
  const tailSeconds = options.tailSeconds ?? 2;
  if (!(Number.isFinite(tailSeconds) && tailSeconds >= 0)) {
    throw new RangeError(`tailSeconds is ${tailSeconds}; use a number of seconds >= 0`);
  }
  return endFrame(options.sequence, stems, options.sampleRate) + Math.round(tailSeconds * options.sampleRate);
}

/**
 * Splits channels into at most `groups` groups of similar estimated cost (longest first onto the lightest group);
 * returns them heaviest first.
 */
export function planChannelGroups(stems: readonly ChannelStem[], groups: number): number[][] {
  const cost = (stem: ChannelStem): number => stem.noteSeconds + 0.25 * stem.noteCount + 0.01;
  const ordered = [...stems].sort((x, y) => cost(y) - cost(x) || x.channel - y.channel);
  const plan = Array.from({ length: Math.max(1, Math.min(groups, stems.length)) }, () => ({
    load: 0,
    channels: [] as number[],
  }));
  for (const stem of ordered) {
    let lightest = plan[0]!;
    for (const group of plan) if (group.load < lightest.load) lightest = group;
    lightest.load += cost(stem);
    lightest.channels.push(stem.channel);
  }
  return plan
    .filter((group) => group.channels.length > 0)
    .sort((x, y) => y.load - x.load)
    .map((group) => group.channels.sort((x, y) => x - y));
}

/** The reference: everything in this thread. */
export async function bounceMidiSerial(options: BounceOptions): Promise<BounceResult> {
  const soundfont = await loadSoundFont(options.soundfontPath, options.synth ?? chooseSynth().name);
  const renderer = createMidiRenderer({
    sequence: options.sequence,
    soundfont,
    sampleRate: options.sampleRate,
    effects: options.effects ?? false,
  });
  const frames = totalFramesOf(channelStems(options.sequence, options.sampleRate), options);
  const interleaved = renderer.render(frames);
  renderer.dispose();
  return {
    interleaved,
    frames,
    sampleRate: options.sampleRate,
    groups: [[...renderer.channels]],
    synthId: soundfont.synthId,
  };
}

function yieldToMessages(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export async function bounceMidi(options: BounceOptions): Promise<BounceResult> {
  const stems = channelStems(options.sequence, options.sampleRate);
  const frames = totalFramesOf(stems, options);
  const threads = options.workers ?? availableParallelism();
  if (!(Number.isInteger(threads) && threads >= 1))
    throw new RangeError(`workers is ${threads}; use 1 or more`);
  const groups = planChannelGroups(stems, threads);
  const synth = options.synth ?? chooseSynth().name;
  if (groups.length <= 1) return bounceMidiSerial({ ...options, synth });
  const pageFrames = options.pageFrames ?? 65_536;
  const pageCount = Math.ceil(frames / pageFrames);
  const interleaved = new Float32Array(frames * 2);
  const pending = new Map<number, Array<{ stem: StemFrames; owner: Worker | undefined }>>();
  const localPool: StemFrames[][] = [];
  let mixedPages = 0;
  let failure: Error | undefined;
  const url = await workerScriptUrl(import.meta.url, "bounce-worker");
  const workers: Worker[] = [];
  const running = new Set<Worker>();
  let synthId = "";

  /** Mixes a page once every channel has arrived, then hands the buffers back to whoever rendered them. */
  const collect = (pageIndex: number, pageStems: readonly StemFrames[], owner: Worker | undefined): void => {
    const collected = pending.get(pageIndex) ?? [];
    for (const stem of pageStems) collected.push({ stem, owner });
    if (collected.length < stems.length) {
      pending.set(pageIndex, collected);
      return;
    }
    pending.delete(pageIndex);
    const pageLength = Math.min(pageFrames, frames - pageIndex * pageFrames);
    mixStemsInto(
      interleaved,
      pageIndex * pageFrames,
      collected.map((entry) => entry.stem),
      pageLength,
    );
    mixedPages += 1;
    localPool.push(collected.filter((entry) => entry.owner === undefined).map((entry) => entry.stem));
    for (const worker of new Set(collected.map((entry) => entry.owner))) {
      if (worker === undefined || !running.has(worker)) continue;
      const buffers = collected
        .filter((entry) => entry.owner === worker)
        .flatMap((entry) => [entry.stem.left.buffer as ArrayBuffer, entry.stem.right.buffer as ArrayBuffer]);
      const recycle: RecycleMessage = { type: "recycle", buffers };
      worker.postMessage(recycle, buffers);
    }
  };

  const startWorker = (channels: readonly number[]): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const job: BounceJob = {
        sequence: options.sequence,
        soundfontPath: options.soundfontPath,
        sampleRate: options.sampleRate,
        effects: options.effects ?? false,
        synth,
        channels,
        totalFrames: frames,
        pageFrames,
      };
      const worker = new Worker(url, { workerData: job });
      workers.push(worker);
      running.add(worker);
      let finished = false;
      const fail = (error: Error): void => {
        finished = true;
        running.delete(worker);
        failure ??= error;
        reject(error);
      };
      worker.on("message", (message: WorkerMessage) => {
        if (message.type === "page") collect(message.pageIndex, message.stems, worker);
        else if (message.type === "done") {
          finished = true;
          running.delete(worker);
          resolve();
        } else fail(new Error(message.message));
      });
      worker.on("error", fail);
      worker.on("exit", (code) => {
        if (!finished) fail(new Error(`a bounce worker stopped early (exit code ${code})`));
      });
    });

  try {
    // Workers take the heavier groups; this thread, which also mixes and starts first, renders the lightest.
    const remote = Promise.all(groups.slice(0, -1).map(startWorker));
    remote.catch(() => undefined);
    const soundfont = await loadSoundFont(options.soundfontPath, synth);
    synthId = soundfont.synthId;
    const renderer = createMidiRenderer({
      sequence: options.sequence,
      soundfont,
      sampleRate: options.sampleRate,
      effects: options.effects ?? false,
      channels: groups.at(-1)!,
    });
    for (let pageIndex = 0; pageIndex < pageCount && !failure; pageIndex++) {
      const pageLength = Math.min(pageFrames, frames - pageIndex * pageFrames);
      collect(pageIndex, renderer.renderStems(pageLength, localPool.shift()), undefined);
      await yieldToMessages();
    }
    renderer.dispose();
    await remote;
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
  if (mixedPages !== pageCount)
    throw new Error(`bounce incomplete: ${mixedPages} of ${pageCount} pages mixed`);
  return { interleaved, frames, sampleRate: options.sampleRate, groups, synthId };
}
