// Turns a MidiSequence into per-channel lists of synthesizer events at exact sample frames (the tempo map applied).
// Owned by app/spaces/synth; pure (no I/O), used by the renderer and the bounce workers so both see the same frames.
import type { MidiSequence } from "../midi/sequence";

export const EVENT_PROGRAM = 0;
export const EVENT_CONTROL = 1;
export const EVENT_NOTE_OFF = 2;
export const EVENT_NOTE_ON = 3;
/** Pitch wheel: `a` is the raw 14-bit position 0..16383 (8192 = centre). Sorted with the controls. */
export const EVENT_PITCH_BEND = 4;
export type SynthEventKind = 0 | 1 | 2 | 3 | 4;
/** Order of kinds at one frame: program, controls and pitch wheel, note-offs, note-ons. */
const KIND_RANK: Readonly<Record<SynthEventKind, number>> = { 0: 0, 1: 1, 4: 1, 2: 2, 3: 3 };

export interface SynthEvent {
  readonly frame: number;
  readonly kind: SynthEventKind;
  /** Program, controller, key or raw pitch wheel position. */
  readonly a: number;
  /** Controller value or velocity; 0 otherwise. */
  readonly b: number;
}

/** Everything one MIDI channel plays, sorted by frame then kind (program, controls and pitch wheel, note-offs, note-ons). */
export interface ChannelStem {
  readonly channel: number;
  readonly events: readonly SynthEvent[];
  /** Seconds of notes sounding (note durations summed): a cost estimate for scheduling work. */
  readonly noteSeconds: number;
  readonly noteCount: number;
}

export class MidiSequenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MidiSequenceError";
  }
}

function fail(problem: string): never {
  throw new MidiSequenceError(`${problem}; fix or re-import the MIDI data`);
}

function checkRange(value: number, low: number, high: number, what: string): void {
  if (!Number.isInteger(value) || value < low || value > high)
    fail(`${what} is ${value}, expected ${low}..${high}`);
}

/** Tick -> seconds through the sequence's tempo changes (120 bpm until the first one). */
export class TempoMap {
  readonly #ticks: number[] = [];
  readonly #seconds: number[] = [];
  readonly #secondsPerTick: number[] = [];

  constructor(sequence: Pick<MidiSequence, "ppq" | "tempos">) {
    const { ppq } = sequence;
    if (!(Number.isFinite(ppq) && ppq > 0)) fail(`ppq is ${ppq}, expected a positive number`);
    const tempos = [...sequence.tempos].sort((x, y) => x.tick - y.tick);
    for (const tempo of tempos) {
      if (!(Number.isFinite(tempo.bpm) && tempo.bpm > 0))
        fail(`tempo at tick ${tempo.tick} is ${tempo.bpm} bpm`);
      if (!(Number.isFinite(tempo.tick) && tempo.tick >= 0)) fail(`a tempo change is at tick ${tempo.tick}`);
    }
    if (tempos.length === 0 || tempos[0]!.tick > 0) this.#push(0, 0, 60 / (120 * ppq));
    for (const tempo of tempos) {
      const last = this.#ticks.length - 1;
      const secondsPerTick = 60 / (tempo.bpm * ppq);
      if (last >= 0 && this.#ticks[last] === tempo.tick) {
        this.#secondsPerTick[last] = secondsPerTick;
        continue;
      }
      const seconds =
        last < 0 ? 0 : this.#seconds[last]! + (tempo.tick - this.#ticks[last]!) * this.#secondsPerTick[last]!;
      this.#push(tempo.tick, seconds, secondsPerTick);
    }
  }

  #push(tick: number, seconds: number, secondsPerTick: number): void {
    this.#ticks.push(tick);
    this.#seconds.push(seconds);
    this.#secondsPerTick.push(secondsPerTick);
  }

  secondsAt(tick: number): number {
    let lo = 0;
    let hi = this.#ticks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#ticks[mid]! <= tick) lo = mid;
      else hi = mid - 1;
    }
    return this.#seconds[lo]! + (tick - this.#ticks[lo]!) * this.#secondsPerTick[lo]!;
  }

  frameAt(tick: number, sampleRate: number): number {
    return Math.round(this.secondsAt(tick) * sampleRate);
  }
}

/** Per-channel event lists in ascending channel order; `channels` limits which are built. */
export function channelStems(
  sequence: MidiSequence,
  sampleRate: number,
  channels?: readonly number[],
): ChannelStem[] {
  if (!(Number.isInteger(sampleRate) && sampleRate >= 8000 && sampleRate <= 384000)) {
    throw new MidiSequenceError(
      `sample rate ${sampleRate} is not supported; use an integer from 8000 to 384000`,
    );
  }
  const tempo = new TempoMap(sequence);
  const wanted = channels ? new Set(channels) : undefined;
  const byChannel = new Map<
    number,
    { events: SynthEvent[]; order: number[]; noteSeconds: number; notes: number }
  >();
  let order = 0;
  sequence.tracks.forEach((track, trackIndex) => {
    const where = `track ${trackIndex} ("${track.name}")`;
    checkRange(track.channel, 0, 15, `${where} channel`);
    checkRange(track.program, 0, 127, `${where} program`);
    if (wanted && !wanted.has(track.channel)) return;
    let stem = byChannel.get(track.channel);
    if (!stem) {
      stem = { events: [], order: [], noteSeconds: 0, notes: 0 };
      byChannel.set(track.channel, stem);
    }
    const add = (event: SynthEvent): void => {
      stem.events.push(event);
      stem.order.push(order++);
    };
    add({ frame: 0, kind: EVENT_PROGRAM, a: track.program, b: 0 });
    for (const [i, cc] of track.controlChanges.entries()) {
      checkRange(cc.controller, 0, 127, `${where} control change ${i} controller`);
      checkRange(cc.value, 0, 127, `${where} control change ${i} value`);
      if (!(cc.tick >= 0)) fail(`${where} control change ${i} is at tick ${cc.tick}`);
      add({ frame: tempo.frameAt(cc.tick, sampleRate), kind: EVENT_CONTROL, a: cc.controller, b: cc.value });
    }
    for (const [i, bend] of (track.pitchBends ?? []).entries()) {
      checkRange(bend.value, -8192, 8191, `${where} pitch bend ${i} value`);
      if (!(bend.tick >= 0)) fail(`${where} pitch bend ${i} is at tick ${bend.tick}`);
      add({
        frame: tempo.frameAt(bend.tick, sampleRate),
        kind: EVENT_PITCH_BEND,
        a: bend.value + 8192,
        b: 0,
      });
    }
    for (const [i, note] of track.notes.entries()) {
      checkRange(note.pitch, 0, 127, `${where} note ${i} pitch`);
      checkRange(note.velocity, 1, 127, `${where} note ${i} velocity`);
      if (!(note.startTick >= 0 && note.durationTicks >= 0)) {
        fail(`${where} note ${i} spans tick ${note.startTick} for ${note.durationTicks} ticks`);
      }
      const onFrame = tempo.frameAt(note.startTick, sampleRate);
      const offFrame = Math.max(onFrame + 1, tempo.frameAt(note.startTick + note.durationTicks, sampleRate));
      add({ frame: onFrame, kind: EVENT_NOTE_ON, a: note.pitch, b: note.velocity });
      add({ frame: offFrame, kind: EVENT_NOTE_OFF, a: note.pitch, b: 0 });
      stem.noteSeconds += (offFrame - onFrame) / sampleRate;
      stem.notes += 1;
    }
  });
  return [...byChannel.entries()]
    .sort(([x], [y]) => x - y)
    .map(([channel, stem]) => {
      const index = stem.events.map((_, i) => i);
      index.sort((i, j) => {
        const x = stem.events[i]!;
        const y = stem.events[j]!;
        return x.frame - y.frame || KIND_RANK[x.kind] - KIND_RANK[y.kind] || stem.order[i]! - stem.order[j]!;
      });
      return {
        channel,
        events: index.map((i) => stem.events[i]!),
        noteSeconds: stem.noteSeconds,
        noteCount: stem.notes,
      };
    });
}

/** Frame of the last event of any stem (the end of the music before release tails). */
export function lastEventFrame(stems: readonly ChannelStem[]): number {
  let last = 0;
  for (const stem of stems) last = Math.max(last, stem.events.at(-1)?.frame ?? 0);
  return last;
}

/** Where the music ends: the last event or the sequence's own duration, whichever is later (tails not included). */
export function endFrame(sequence: MidiSequence, stems: readonly ChannelStem[], sampleRate: number): number {
  const declared =
    Number.isFinite(sequence.durationTicks) && sequence.durationTicks > 0
      ? new TempoMap(sequence).frameAt(sequence.durationTicks, sampleRate)
      : 0;
  return Math.max(lastEventFrame(stems), declared);
}
