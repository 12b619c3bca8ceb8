// The first real sampler: a variable-order Markov model over note events (pitch interval or drum key, duration,
// time to the next onset, velocity level) on a metrical grid, trained on conditioning MidiSequences and sampled
// under an inference context. Owned by app/spaces/samplers; pure (no I/O). Design in docs/samplers.md.
import type { MidiNote, MidiSequence, MidiTrack } from "../midi/sequence";
import { Xoshiro128 } from "./random";
import { checkContext, drawIndex, type SampleRequest, type Sampler, SamplerInputError } from "./sampler";

export interface MarkovOptions {
  /** Longest history (in note events) the model conditions on. Default 3. */
  readonly maxOrder?: number;
  /** Grid steps per quarter note. Default 4 (sixteenths). */
  readonly stepsPerBeat?: number;
}

/** Ticks per quarter note of generated sequences (the project's beat resolution). */
export const OUTPUT_PPQ = 960;
const DRUM_CHANNEL = 9;
const VELOCITY_LEVELS = [40, 64, 88, 112] as const;
const MAX_INTERVAL = 24;
const MAX_STEPS = 64;

interface NoteEvent {
  /** Interval from the previous note, or the key itself on the drum channel. */
  readonly pitch: number;
  readonly durationSteps: number;
  /** Steps from this onset to the next one (0 = chord or simultaneous hit). */
  readonly nextOnsetSteps: number;
  readonly velocityLevel: number;
}

function tokenOf(event: NoteEvent): string {
  return `${event.pitch}/${event.durationSteps}/${event.nextOnsetSteps}/${event.velocityLevel}`;
}

function eventOf(token: string): NoteEvent {
  const [pitch, durationSteps, nextOnsetSteps, velocityLevel] = token.split("/").map(Number);
  return {
    pitch: pitch!,
    durationSteps: durationSteps!,
    nextOnsetSteps: nextOnsetSteps!,
    velocityLevel: velocityLevel!,
  };
}

function velocityLevel(velocity: number): number {
  let best = 0;
  for (let i = 1; i < VELOCITY_LEVELS.length; i++) {
    if (Math.abs(VELOCITY_LEVELS[i]! - velocity) < Math.abs(VELOCITY_LEVELS[best]! - velocity)) best = i;
  }
  return best;
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

/** Counts of next tokens per context key. */
class Counts {
  readonly #table = new Map<string, Map<string, number>>();

  add(key: string, token: string): void {
    let row = this.#table.get(key);
    if (!row) {
      row = new Map();
      this.#table.set(key, row);
    }
    row.set(token, (row.get(token) ?? 0) + 1);
  }

  get(key: string): ReadonlyMap<string, number> | undefined {
    return this.#table.get(key);
  }
}

interface Voice {
  readonly channel: number;
  readonly name: string;
  readonly program: number;
  readonly isDrums: boolean;
  readonly lowPitch: number;
  readonly highPitch: number;
  readonly counts: Counts;
  /** The last tokens of the last conditioning sequence (the history the continuation starts from). */
  readonly history: readonly string[];
  readonly lastPitch: number;
}

/** Context key: metrical position in the bar plus the last `order` tokens; "*" = no position (unigram). */
function contextKey(position: number | "*", history: readonly string[], order: number): string {
  return `${position}|${history.slice(history.length - order).join(" ")}`;
}

function ticksPerStep(sequence: MidiSequence, stepsPerBeat: number): number {
  return sequence.ppq / stepsPerBeat;
}

function stepsPerBar(sequence: MidiSequence, stepsPerBeat: number): number {
  const meter = sequence.meters[0];
  if (!meter) return 4 * stepsPerBeat;
  return Math.max(1, Math.round((meter.numerator * 4 * stepsPerBeat) / meter.denominator));
}

export class MarkovSampler implements Sampler {
  readonly name = "markov.v1";
  readonly params: Readonly<{ maxOrder: number; stepsPerBeat: number }>;

  constructor(options: MarkovOptions = {}) {
    const maxOrder = options.maxOrder ?? 3;
    const stepsPerBeat = options.stepsPerBeat ?? 4;
    if (!(Number.isInteger(maxOrder) && maxOrder >= 0 && maxOrder <= 8)) {
      throw new SamplerInputError(`maxOrder is ${maxOrder}; use a whole number from 0 to 8`);
    }
    if (!(Number.isInteger(stepsPerBeat) && stepsPerBeat >= 1 && stepsPerBeat <= 24)) {
      throw new SamplerInputError(`stepsPerBeat is ${stepsPerBeat}; use a whole number from 1 to 24`);
    }
    this.params = { maxOrder, stepsPerBeat };
  }

  sample(request: SampleRequest): MidiSequence {
    checkContext(request.context);
    const { spanBeats, conditioning } = request;
    if (!(Number.isFinite(spanBeats) && spanBeats > 0 && spanBeats <= 100_000)) {
      throw new SamplerInputError(`spanBeats is ${spanBeats}; ask for a positive number of beats`);
    }
    if (conditioning.length === 0) {
      throw new SamplerInputError(
        "no conditioning material: give at least one MIDI sequence with notes to learn from",
      );
    }
    const { stepsPerBeat } = this.params;
    const last = conditioning.at(-1)!;
    const barSteps = stepsPerBar(last, stepsPerBeat);
    const voices = this.#train(conditioning, barSteps);
    if (voices.length === 0) {
      throw new SamplerInputError("the conditioning material has no notes: give MIDI with at least one note");
    }
    const random = Xoshiro128.fromSeed(request.context.seed);
    const spanSteps = Math.round(spanBeats * stepsPerBeat);
    const tracks = voices.map((voice) => this.#generate(voice, spanSteps, barSteps, request, random));
    const stepTicks = OUTPUT_PPQ / stepsPerBeat;
    return {
      ppq: OUTPUT_PPQ,
      tempos: [{ tick: 0, bpm: [...last.tempos].sort((x, y) => x.tick - y.tick)[0]?.bpm ?? 120 }],
      meters: last.meters[0] ? [{ ...last.meters[0], tick: 0 }] : [],
      tracks,
      durationTicks: spanSteps * stepTicks,
    };
  }

  #train(conditioning: readonly MidiSequence[], barSteps: number): Voice[] {
    const { maxOrder, stepsPerBeat } = this.params;
    const byChannel = new Map<number, { first: MidiTrack; counts: Counts; low: number; high: number }>();
    const histories = new Map<number, { history: string[]; lastPitch: number }>();
    for (const [sequenceIndex, sequence] of conditioning.entries()) {
      if (!(Number.isFinite(sequence.ppq) && sequence.ppq > 0)) {
        throw new SamplerInputError(
          `conditioning sequence ${sequenceIndex} has ppq ${sequence.ppq}; re-import it`,
        );
      }
      const stepTicks = ticksPerStep(sequence, stepsPerBeat);
      const channels = [...new Set(sequence.tracks.map((track) => track.channel))].sort((x, y) => x - y);
      for (const channel of channels) {
        const tracks = sequence.tracks.filter((track) => track.channel === channel);
        const notes: MidiNote[] = tracks
          .flatMap((track) => track.notes)
          .slice()
          .sort((x, y) => x.startTick - y.startTick || x.pitch - y.pitch);
        if (notes.length === 0) continue;
        let voice = byChannel.get(channel);
        if (!voice) {
          voice = { first: tracks[0]!, counts: new Counts(), low: 127, high: 0 };
          byChannel.set(channel, voice);
        }
        const isDrums = channel === DRUM_CHANNEL;
        const history: string[] = [];
        let previousPitch = notes[0]!.pitch;
        for (const [i, note] of notes.entries()) {
          voice.low = Math.min(voice.low, note.pitch);
          voice.high = Math.max(voice.high, note.pitch);
          const onsetStep = Math.round(note.startTick / stepTicks);
          const next = notes[i + 1];
          const durationSteps = clamp(Math.round(note.durationTicks / stepTicks), 1, MAX_STEPS);
          const nextOnsetSteps = next
            ? clamp(Math.round(next.startTick / stepTicks) - onsetStep, 0, MAX_STEPS)
            : clamp(durationSteps, 1, MAX_STEPS);
          const pitch = isDrums ? note.pitch : clamp(note.pitch - previousPitch, -MAX_INTERVAL, MAX_INTERVAL);
          previousPitch = note.pitch;
          const token = tokenOf({
            pitch,
            durationSteps,
            nextOnsetSteps,
            velocityLevel: velocityLevel(note.velocity),
          });
          const position = onsetStep % barSteps;
          voice.counts.add(contextKey("*", [], 0), token);
          for (let order = 0; order <= Math.min(maxOrder, history.length); order++) {
            voice.counts.add(contextKey(position, history, order), token);
          }
          history.push(token);
        }
        histories.set(channel, {
          history: maxOrder === 0 ? [] : history.slice(-maxOrder),
          lastPitch: previousPitch,
        });
      }
    }
    return [...byChannel.entries()]
      .sort(([x], [y]) => x - y)
      .map(([channel, voice]) => ({
        channel,
        name: voice.first.name,
        program: voice.first.program,
        isDrums: channel === DRUM_CHANNEL,
        lowPitch: voice.low,
        highPitch: voice.high,
        counts: voice.counts,
        history: histories.get(channel)!.history,
        lastPitch: histories.get(channel)!.lastPitch,
      }));
  }

  /** The next-token distribution: orders 0..maxOrder that were seen, mixed with weights 2^order, plus the unigram. */
  #distribution(voice: Voice, position: number, history: readonly string[]): Array<[string, number]> {
    const mixed = new Map<string, number>();
    const addRow = (row: ReadonlyMap<string, number> | undefined, weight: number): void => {
      if (!row) return;
      let total = 0;
      for (const count of row.values()) total += count;
      for (const [token, count] of row) mixed.set(token, (mixed.get(token) ?? 0) + (weight * count) / total);
    };
    addRow(voice.counts.get(contextKey("*", [], 0)), 0.5);
    for (let order = 0; order <= Math.min(this.params.maxOrder, history.length); order++) {
      addRow(voice.counts.get(contextKey(position, history, order)), 2 ** order);
    }
    return [...mixed.entries()].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0));
  }

  #generate(
    voice: Voice,
    spanSteps: number,
    barSteps: number,
    request: SampleRequest,
    random: Xoshiro128,
  ): MidiTrack {
    const { temperature, top_p } = request.context;
    const stepTicks = OUTPUT_PPQ / this.params.stepsPerBeat;
    const history = [...voice.history];
    const notes: MidiNote[] = [];
    let step = 0;
    let pitch = voice.lastPitch;
    while (step < spanSteps) {
      const choices = this.#distribution(voice, step % barSteps, history);
      const index = drawIndex(
        choices.map(([, weight]) => weight),
        temperature,
        top_p,
        random.nextFloat(),
      );
      const token = choices[index]![0];
      const event = eventOf(token);
      pitch = voice.isDrums ? event.pitch : this.#fold(pitch + event.pitch, voice);
      const durationSteps = Math.min(event.durationSteps, spanSteps - step);
      notes.push({
        pitch,
        velocity: VELOCITY_LEVELS[event.velocityLevel] ?? 88,
        startTick: step * stepTicks,
        durationTicks: durationSteps * stepTicks,
      });
      history.push(token);
      if (history.length > this.params.maxOrder) history.shift();
      step += event.nextOnsetSteps;
      if (event.nextOnsetSteps === 0 && notes.length > 16 && notes.at(-16)!.startTick === step * stepTicks)
        step += 1;
    }
    return { name: voice.name, channel: voice.channel, program: voice.program, notes, controlChanges: [] };
  }

  /** Keeps a melodic voice inside the range it was trained on, moving by octaves. */
  #fold(pitch: number, voice: Voice): number {
    let folded = pitch;
    if (voice.highPitch - voice.lowPitch >= 12) {
      while (folded > voice.highPitch) folded -= 12;
      while (folded < voice.lowPitch) folded += 12;
    }
    return clamp(folded, Math.max(0, voice.lowPitch - 12), Math.min(127, voice.highPitch + 12));
  }
}
