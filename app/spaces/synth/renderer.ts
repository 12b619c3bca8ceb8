// The `midi -> audio` projection through a SoundFont: a stateful, deterministic renderer of interleaved stereo
// Float32 frames. Owned by app/spaces/synth; called by the lookahead renderer (page by page), the bounce and its
// workers. Output depends only on absolute frame positions, never on how the caller splits its requests
// (see docs/synth.md: per-channel synthesizers on a fixed 128-frame grid split at event frames).
// spessasynth_core is loaded only when spessasynth renders (soundbank.ts imports it then): with FluidSynth, no
// process or worker pays for loading it. Its classes come with the loaded font.
import type { MIDIController, SpessaSynthProcessor } from "spessasynth_core";
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
import { createFluidMidiRenderer } from "./fluid";
import { assembleRenderer, type MidiRenderer, type MidiRendererOptions } from "./render-common";
import type { SpessaSoundFont } from "./soundbank";

export {
  checkFrames,
  type MidiRenderer,
  type MidiRendererOptions,
  mixStems,
  mixStemsInto,
  type StemFrames,
} from "./render-common";

/** Largest block the synthesizer renders at once; block boundaries sit on multiples of it (and on event frames). */
export const BLOCK_FRAMES = 128;

const SYNTH_DEFAULTS = { maxBufferSize: BLOCK_FRAMES, eventsEnabled: false, initialTime: 0 } as const;
/** Least time between two checkpoints of a channel (fresh synthesizer after a silence; see docs/synth.md). */
export const CHECKPOINT_SPACING_SECONDS = 2;
/** Voices a synthesizer starts with; it adds more when needed and never steals (see docs/synth.md). */
const INITIAL_VOICES = 16;

/**
 * spessasynth allocates (and scans every block) `voiceCap` voices from its global defaults at construction, 350
 * by default; one synthesizer per channel starts small instead and grows on demand, so no voice is ever stolen.
 */
function createSynth(
  spessa: SpessaSoundFont["spessa"],
  sampleRate: number,
  effects: boolean,
): SpessaSynthProcessor {
  const defaults = spessa.DEFAULT_GLOBAL_SYSTEM_PARAMETERS;
  const savedCap = defaults.voiceCap;
  defaults.voiceCap = INITIAL_VOICES;
  let synth: SpessaSynthProcessor;
  try {
    synth = new spessa.SpessaSynthProcessor(sampleRate, { ...SYNTH_DEFAULTS, effectsEnabled: effects });
  } finally {
    defaults.voiceCap = savedCap;
  }
  synth.setSystemParameter("autoAllocateVoices", true);
  return synth;
}

class ChannelRenderer {
  readonly channel: number;
  readonly #stem: ChannelStem;
  readonly #soundfont: SpessaSoundFont;
  readonly #sampleRate: number;
  readonly #effects: boolean;
  readonly #blockLeft = new Float32Array(BLOCK_FRAMES);
  readonly #blockRight = new Float32Array(BLOCK_FRAMES);
  #synth: SpessaSynthProcessor;
  #nextEvent = 0;
  /** Absolute frame where the next synthesizer block starts. */
  #blockFrame = 0;
  /** Frames of the last block not yet handed out: [#pendingStart, #pendingEnd) of #blockLeft/#blockRight. */
  #pendingStart = 0;
  #pendingEnd = 0;
  /** The last processed block had no voice and no event has come since: blocks are silence, skip the synth. */
  #quiet = false;
  /** Frames where the synthesizer was replaced by a fresh one (ascending; 0 first) and the event index there. */
  readonly #checkpoints: Array<{ readonly frame: number; readonly eventIndex: number }> = [
    { frame: 0, eventIndex: 0 },
  ];
  readonly #checkpointSpacingFrames: number;
  #lastCheckpointFrame = 0;

  constructor(stem: ChannelStem, soundfont: SpessaSoundFont, sampleRate: number, effects: boolean) {
    this.channel = stem.channel;
    this.#stem = stem;
    this.#soundfont = soundfont;
    this.#sampleRate = sampleRate;
    this.#effects = effects;
    this.#checkpointSpacingFrames = Math.round(CHECKPOINT_SPACING_SECONDS * sampleRate);
    this.#synth = this.#createSynth();
  }

  #createSynth(): SpessaSynthProcessor {
    const synth = createSynth(this.#soundfont.spessa, this.#sampleRate, this.#effects);
    synth.soundBankManager.addSoundBank(this.#soundfont.bank, "main");
    return synth;
  }

  get positionFrame(): number {
    return this.#blockFrame - (this.#pendingEnd - this.#pendingStart);
  }

  get checkpointFrames(): number[] {
    return this.#checkpoints.map((checkpoint) => checkpoint.frame);
  }

  /** A fresh synthesizer at `frame` holding the program and controllers of the events before `eventIndex`. */
  #resetAt(frame: number, eventIndex: number): void {
    const synth = this.#createSynth();
    const events = this.#stem.events;
    for (let i = 0; i < eventIndex; i++) {
      const event = events[i]!;
      if (event.kind === EVENT_CONTROL)
        synth.controllerChange(this.channel, event.a as MIDIController, event.b);
      else if (event.kind === EVENT_PROGRAM) synth.programChange(this.channel, event.a);
      else if (event.kind === EVENT_PITCH_BEND) synth.pitchWheel(this.channel, event.a);
    }
    this.#synth = synth;
    this.#nextEvent = eventIndex;
    this.#blockFrame = frame;
    this.#pendingStart = 0;
    this.#pendingEnd = 0;
    this.#quiet = false;
    this.#lastCheckpointFrame = frame;
  }

  /** Moves to `frame` through the latest checkpoint at or before it, unless rendering forward is shorter. */
  seek(frame: number): void {
    let checkpoint = this.#checkpoints[0]!;
    for (const candidate of this.#checkpoints) if (candidate.frame <= frame) checkpoint = candidate;
    const position = this.positionFrame;
    if (!(position <= frame && position >= checkpoint.frame))
      this.#resetAt(checkpoint.frame, checkpoint.eventIndex);
    this.skip(frame - this.positionFrame);
  }

  /** Applies the events due at the block start; returns where the block ends (grid line or next event). */
  #startBlock(): number {
    const events = this.#stem.events;
    const channel = this.channel;
    let next = events[this.#nextEvent];
    if (
      this.#quiet &&
      next !== undefined &&
      next.frame <= this.#blockFrame &&
      this.#blockFrame - this.#lastCheckpointFrame >= this.#checkpointSpacingFrames
    ) {
      // Silence, then new events: start from a canonical state, which a seek can restore bit for bit.
      if (this.#blockFrame > this.#checkpoints.at(-1)!.frame) {
        this.#checkpoints.push({ frame: this.#blockFrame, eventIndex: this.#nextEvent });
      }
      this.#resetAt(this.#blockFrame, this.#nextEvent);
    }
    const synth = this.#synth;
    while (next !== undefined && next.frame <= this.#blockFrame) {
      if (next.kind === EVENT_NOTE_ON) synth.noteOn(channel, next.a, next.b);
      else if (next.kind === EVENT_NOTE_OFF) synth.noteOff(channel, next.a);
      else if (next.kind === EVENT_CONTROL) synth.controllerChange(channel, next.a as MIDIController, next.b);
      else if (next.kind === EVENT_PROGRAM) synth.programChange(channel, next.a);
      else if (next.kind === EVENT_PITCH_BEND) synth.pitchWheel(channel, next.a);
      this.#nextEvent += 1;
      this.#quiet = false;
      next = events[this.#nextEvent];
    }
    const end = (Math.floor(this.#blockFrame / BLOCK_FRAMES) + 1) * BLOCK_FRAMES;
    return next !== undefined && next.frame < end ? next.frame : end;
  }

  /** Renders the block [#blockFrame, end) into left/right at `at` (zeroing first: the synthesizer adds). */
  #processBlock(end: number, left: Float32Array, right: Float32Array, at: number): void {
    const frames = end - this.#blockFrame;
    left.fill(0, at, at + frames);
    right.fill(0, at, at + frames);
    this.#blockFrame = end;
    if (this.#quiet) return;
    this.#synth.process(left, right, at, frames);
    this.#quiet = !this.#effects && this.#synth.voiceCount === 0;
  }

  /** Writes the next `frames` frames to left/right from `offset` (overwriting). */
  render(left: Float32Array, right: Float32Array, offset: number, frames: number): void {
    let written = 0;
    while (written < frames) {
      if (this.#pendingStart === this.#pendingEnd) {
        const end = this.#startBlock();
        if (end - this.#blockFrame <= frames - written) {
          const at = offset + written;
          written += end - this.#blockFrame;
          this.#processBlock(end, left, right, at);
          continue;
        }
        this.#pendingStart = 0;
        this.#pendingEnd = end - this.#blockFrame;
        this.#processBlock(end, this.#blockLeft, this.#blockRight, 0);
      }
      const n = Math.min(frames - written, this.#pendingEnd - this.#pendingStart);
      const from = this.#pendingStart;
      const to = offset + written;
      for (let i = 0; i < n; i++) {
        left[to + i] = this.#blockLeft[from + i]!;
        right[to + i] = this.#blockRight[from + i]!;
      }
      this.#pendingStart += n;
      written += n;
    }
  }

  skip(frames: number): void {
    let left = frames;
    while (left > 0) {
      if (this.#pendingStart === this.#pendingEnd) {
        const end = this.#startBlock();
        this.#pendingStart = 0;
        this.#pendingEnd = end - this.#blockFrame;
        this.#processBlock(end, this.#blockLeft, this.#blockRight, 0);
      }
      const n = Math.min(left, this.#pendingEnd - this.#pendingStart);
      this.#pendingStart += n;
      left -= n;
    }
  }
}

export function createMidiRenderer(options: MidiRendererOptions): MidiRenderer {
  const { soundfont, sampleRate } = options;
  if (soundfont.synth === "fluidsynth") return createFluidMidiRenderer({ ...options, soundfont });
  const stems = channelStems(options.sequence, sampleRate, options.channels);
  const renderers = stems.map(
    (stem) => new ChannelRenderer(stem, soundfont, sampleRate, options.effects ?? false),
  );
  return assembleRenderer(renderers, {
    sampleRate,
    channels: stems.map((stem) => stem.channel),
    lastEventFrame: lastEventFrame(stems),
    endFrame: endFrame(options.sequence, stems, sampleRate),
  });
}

/** A whole sequence plus `tailFrames` of release, in one thread: the reference the parallel bounce must equal. */
export function renderSequence(options: MidiRendererOptions & { readonly tailFrames: number }): Float32Array {
  const renderer = createMidiRenderer(options);
  try {
    return renderer.render(renderer.endFrame + options.tailFrames);
  } finally {
    renderer.dispose();
  }
}
