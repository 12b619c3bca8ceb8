// The `MidiRenderer` over native FluidSynth (native/synth, lcanvas_synth.node): one FluidSynth synthesizer per MIDI
// channel, summed in ascending channel order like every backend (render-common.ts). FluidSynth renders 64-frame
// blocks and applies an event at the start of a block, so events land on the 64-frame grid counted from frame 0:
// an event at frame f sounds from round(f / 64) * 64 (at most 32 frames, 0.67 ms at 48 kHz, from its exact frame).
// Checkpoints sit on that grid. Output depends only on absolute frames and the events, never on how the caller
// cuts its requests (see docs/synth.md). Owned by app/spaces/synth; called through createMidiRenderer.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { isMainThread } from "node:worker_threads";
import {
  type ChannelStem,
  channelStems,
  EVENT_CONTROL,
  EVENT_NOTE_OFF,
  EVENT_NOTE_ON,
  EVENT_PITCH_BEND,
  EVENT_PROGRAM,
  endFrame,
  lastEventFrame,
} from "./events";
import { assembleRenderer, type MidiRenderer, type MidiRendererOptions } from "./render-common";
import type { FluidSoundFont } from "./soundbank";

/** FluidSynth's block (FLUID_BUFSIZE): events apply at block starts, on this grid from frame 0. */
export const FLUID_BLOCK_FRAMES = 64;
/** Least time between two checkpoints of a channel (reset after a silence; see docs/synth.md). */
export const FLUID_CHECKPOINT_SPACING_SECONDS = 2;
const SCRATCH_FRAMES = 8192;

export interface FluidSynthInstance {
  noteOn(channel: number, key: number, velocity: number): void;
  noteOff(channel: number, key: number): void;
  controlChange(channel: number, controller: number, value: number): void;
  /** Raw 14-bit wheel position 0..16383 (8192 = centre). */
  pitchBend(channel: number, value: number): void;
  programChange(channel: number, program: number): void;
  render(left: Float32Array, right: Float32Array, offset: number, frames: number): void;
  activeVoices(): number;
  polyphony(): number;
  close(): void;
}

export interface FluidAddon {
  readonly FluidSynth: new (
    soundfontPath: string,
    sampleRate: number,
    effects: boolean,
    dynamicSampleLoading: boolean,
    /** Use the font this synthesizer loaded (same path): no parsing, no memory of its own for the font. */
    shareFontOf?: FluidSynthInstance,
    /** Voices to start with (16..4096, default 64); also sizes the event queue: 64 events per voice. */
    initialPolyphony?: number,
  ) => FluidSynthInstance;
  /** Events FluidSynth's queue dropped in this thread so far (the queue was too small for one block). */
  queueOverflows(): number;
  /** FluidSynth's library version (fluid_version_str). */
  readonly version: string;
  readonly blockFrames: number;
}

export const SYNTH_ADDON_ENV = "LC_SYNTH_ADDON";
const DEFAULT_ADDON_PATH = resolve(
  dirname(fileURLToPath(import.meta.url)),
  "../../../native/synth/build/Release/lcanvas_synth.node",
);
// Worker threads run bundles that live elsewhere than the sources and cannot locate the addon by their own path:
// they inherit this thread's environment, so the main thread names the file for them.
if (isMainThread && process.env[SYNTH_ADDON_ENV] === undefined && existsSync(DEFAULT_ADDON_PATH)) {
  process.env[SYNTH_ADDON_ENV] = DEFAULT_ADDON_PATH;
}

export function synthAddonPath(): string {
  return process.env[SYNTH_ADDON_ENV] ?? DEFAULT_ADDON_PATH;
}

export type FluidAvailability =
  | { readonly ok: true; readonly addon: FluidAddon }
  | { readonly ok: false; readonly reason: string };

let availability: FluidAvailability | undefined;

/** Whether the FluidSynth addon loads in this thread (cached), and why not. */
export function fluidAvailability(): FluidAvailability {
  if (availability) return availability;
  const path = synthAddonPath();
  if (!existsSync(path)) {
    availability = {
      ok: false,
      reason: `the FluidSynth addon is not built (${path}): apt-get install libfluidsynth-dev, then npm run build:native`,
    };
    return availability;
  }
  try {
    const addon = createRequire(import.meta.url)(path) as FluidAddon;
    if (addon.blockFrames !== FLUID_BLOCK_FRAMES) {
      throw new Error(`it renders blocks of ${addon.blockFrames} frames, expected ${FLUID_BLOCK_FRAMES}`);
    }
    availability = { ok: true, addon };
  } catch (error) {
    availability = {
      ok: false,
      reason: `the FluidSynth addon ${path} does not load (${(error as Error).message}); rebuild it with npm run build:native`,
    };
  }
  return availability;
}

function fluidAddon(): FluidAddon {
  const fluid = fluidAvailability();
  if (!fluid.ok) throw new Error(fluid.reason);
  return fluid.addon;
}

/**
 * Voices a channel's synthesizer starts with. FluidSynth sizes its event queue from it (64 events per voice), and
 * every event of one 64-frame block must fit: a voice start queues about 50 events and a note may start up to
 * about 8 voices (layered presets), so the largest burst of note-ons at one grid frame needs 8 x 50 / 64 = 6.25
 * voices of queue per note. Voices themselves grow on demand (never stolen).
 */
function initialPolyphony(gridFrames: ArrayLike<number>, events: ChannelStem["events"]): number {
  let burst = 0;
  let run = 0;
  for (let i = 0; i < events.length; i++) {
    if (events[i]!.kind !== EVENT_NOTE_ON) continue;
    run = i > 0 && gridFrames[i] === gridFrames[i - 1] && events[i - 1]!.kind === EVENT_NOTE_ON ? run + 1 : 1;
    burst = Math.max(burst, run);
  }
  return Math.min(4096, Math.max(64, Math.ceil((burst * 8) / 32) * 32));
}

/** The grid frame where FluidSynth applies an event at `frame`. */
export function fluidEventFrame(frame: number): number {
  return Math.round(frame / FLUID_BLOCK_FRAMES) * FLUID_BLOCK_FRAMES;
}

class FluidChannel {
  readonly channel: number;
  readonly #events: ChannelStem["events"];
  /** Grid frame of each event (non-decreasing, like the events' frames). */
  readonly #gridFrames: Int32Array | Float64Array;
  #synth: FluidSynthInstance;
  readonly #soundfont: FluidSoundFont;
  readonly #sampleRate: number;
  readonly #effects: boolean;
  readonly #checkpointSpacingFrames: number;
  readonly #initialPolyphony: number;
  /** Absolute frame of the next output frame. Block phase = #positionFrame % 64 (origin 0, skips whole blocks). */
  #positionFrame = 0;
  #nextEvent = 0;
  /** The synthesizer has no voice and effects are off: its blocks are silence until the next event. */
  #quiet: boolean;
  /** Frames where the synthesizer was reset to a canonical state (ascending; 0 first) and the event index there. */
  readonly #checkpoints: Array<{ readonly frame: number; readonly eventIndex: number }> = [
    { frame: 0, eventIndex: 0 },
  ];
  #lastCheckpointFrame = 0;
  #scratchLeft: Float32Array | undefined;
  #scratchRight: Float32Array | undefined;

  constructor(stem: ChannelStem, soundfont: FluidSoundFont, sampleRate: number, effects: boolean) {
    this.channel = stem.channel;
    this.#events = stem.events;
    this.#gridFrames = Float64Array.from(stem.events, (event) => fluidEventFrame(event.frame));
    this.#soundfont = soundfont;
    this.#sampleRate = sampleRate;
    this.#effects = effects;
    this.#checkpointSpacingFrames = Math.round(FLUID_CHECKPOINT_SPACING_SECONDS * sampleRate);
    this.#initialPolyphony = initialPolyphony(this.#gridFrames, stem.events);
    this.#synth = this.#createSynth();
    this.#quiet = !effects;
  }

  /** A new synthesizer on the thread's shared font (under a millisecond for an .sf2). */
  #createSynth(): FluidSynthInstance {
    const font = this.#soundfont;
    return new (fluidAddon().FluidSynth)(
      font.path,
      this.#sampleRate,
      this.#effects,
      font.dynamicSampleLoading,
      font.keeper,
      this.#initialPolyphony,
    );
  }

  get checkpointFrames(): number[] {
    return this.#checkpoints.map((checkpoint) => checkpoint.frame);
  }

  /** Frees the native synthesizer (closing twice is harmless); the channel must not render afterwards. */
  dispose(): void {
    this.#synth.close();
  }

  #scratch(): [Float32Array, Float32Array] {
    this.#scratchLeft ??= new Float32Array(SCRATCH_FRAMES);
    this.#scratchRight ??= new Float32Array(SCRATCH_FRAMES);
    return [this.#scratchLeft, this.#scratchRight];
  }

  /**
   * The canonical state at grid frame `frame`: a new synthesizer holding the program and controllers of the
   * events before `eventIndex`. (A reset synthesizer is not canonical: FluidSynth's voice slots keep state of their
   * last note that shapes the first block of the next note in that slot.)
   */
  #resetAt(frame: number, eventIndex: number): void {
    this.#synth.close();
    const synth = this.#createSynth();
    this.#synth = synth;
    const events = this.#events;
    for (let i = 0; i < eventIndex; i++) {
      const event = events[i]!;
      if (event.kind === EVENT_CONTROL) synth.controlChange(this.channel, event.a, event.b);
      else if (event.kind === EVENT_PROGRAM) synth.programChange(this.channel, event.a);
      else if (event.kind === EVENT_PITCH_BEND) synth.pitchBend(this.channel, event.a);
    }
    this.#nextEvent = eventIndex;
    this.#positionFrame = frame;
    this.#lastCheckpointFrame = frame;
    this.#quiet = !this.#effects;
  }

  /** At grid frame `frame`: checkpoint if silent long enough, then apply every event due there. */
  #applyDue(frame: number): void {
    const events = this.#events;
    const grid = this.#gridFrames;
    if (this.#nextEvent >= events.length || grid[this.#nextEvent]! > frame) return;
    if (
      !this.#effects &&
      frame - this.#lastCheckpointFrame >= this.#checkpointSpacingFrames &&
      this.#synth.activeVoices() === 0
    ) {
      // Silence, then new events: start from a canonical state, which a seek can restore bit for bit.
      if (frame > this.#checkpoints.at(-1)!.frame) {
        this.#checkpoints.push({ frame, eventIndex: this.#nextEvent });
      }
      this.#resetAt(frame, this.#nextEvent);
    }
    const synth = this.#synth;
    const channel = this.channel;
    const addon = fluidAddon();
    const overflowsBefore = addon.queueOverflows();
    while (this.#nextEvent < events.length && grid[this.#nextEvent]! <= frame) {
      const event = events[this.#nextEvent]!;
      if (event.kind === EVENT_NOTE_ON) synth.noteOn(channel, event.a, event.b);
      else if (event.kind === EVENT_NOTE_OFF) synth.noteOff(channel, event.a);
      else if (event.kind === EVENT_CONTROL) synth.controlChange(channel, event.a, event.b);
      else if (event.kind === EVENT_PROGRAM) synth.programChange(channel, event.a);
      else if (event.kind === EVENT_PITCH_BEND) synth.pitchBend(channel, event.a);
      this.#nextEvent += 1;
    }
    if (addon.queueOverflows() !== overflowsBefore) {
      throw new Error(
        `FluidSynth dropped events of MIDI channel ${channel} at frame ${frame}: more voices start in one 64-frame block than its event queue holds (started with ${this.#initialPolyphony} voices); render this sequence with LCANVAS_SYNTH=spessasynth`,
      );
    }
    this.#quiet = !this.#effects && synth.activeVoices() === 0;
  }

  /** Writes the next `frames` frames to left/right from `offset` (overwriting). */
  render(left: Float32Array, right: Float32Array, offset: number, frames: number): void {
    let written = 0;
    const grid = this.#gridFrames;
    while (written < frames) {
      const position = this.#positionFrame;
      const onGrid = position % FLUID_BLOCK_FRAMES === 0;
      if (onGrid) this.#applyDue(position);
      const nextEventFrame =
        this.#nextEvent < grid.length ? grid[this.#nextEvent]! : Number.POSITIVE_INFINITY;
      const end = Math.min(position + (frames - written), nextEventFrame);
      if (this.#quiet && onGrid) {
        // Whole silent blocks: zeros without calling the synthesizer.
        const silentEnd = end - (end % FLUID_BLOCK_FRAMES);
        if (silentEnd > position) {
          const at = offset + written;
          left.fill(0, at, at + silentEnd - position);
          right.fill(0, at, at + silentEnd - position);
          written += silentEnd - position;
          this.#positionFrame = silentEnd;
          continue;
        }
      }
      this.#synth.render(left, right, offset + written, end - position);
      written += end - position;
      this.#positionFrame = end;
      if (!this.#effects) this.#quiet = this.#synth.activeVoices() === 0;
    }
  }

  /** Renders forward `frames` frames into scratch. */
  #skip(frames: number): void {
    const [left, right] = this.#scratch();
    for (let done = 0; done < frames; ) {
      const n = Math.min(SCRATCH_FRAMES, frames - done);
      this.render(left, right, 0, n);
      done += n;
    }
  }

  /** Moves to `frame` through the latest checkpoint at or before it, unless rendering forward is shorter. */
  seek(frame: number): void {
    let checkpoint = this.#checkpoints[0]!;
    for (const candidate of this.#checkpoints) if (candidate.frame <= frame) checkpoint = candidate;
    const position = this.#positionFrame;
    if (!(position <= frame && position >= checkpoint.frame)) {
      this.#resetAt(checkpoint.frame, checkpoint.eventIndex);
    }
    this.#skip(frame - this.#positionFrame);
  }
}

export function createFluidMidiRenderer(
  options: MidiRendererOptions & { readonly soundfont: FluidSoundFont },
): MidiRenderer {
  const { soundfont, sampleRate } = options;
  const stems = channelStems(options.sequence, sampleRate, options.channels);
  if (!(sampleRate >= 8000 && sampleRate <= 96_000)) {
    throw new RangeError(
      `FluidSynth renders at 8000..96000 Hz; the sample rate is ${sampleRate}: choose a rate in that range or render with LCANVAS_SYNTH=spessasynth`,
    );
  }
  const renderers = stems.map(
    (stem) => new FluidChannel(stem, soundfont, sampleRate, options.effects ?? false),
  );
  return assembleRenderer(renderers, {
    sampleRate,
    channels: stems.map((stem) => stem.channel),
    lastEventFrame: lastEventFrame(stems),
    endFrame: endFrame(options.sequence, stems, sampleRate),
  });
}
