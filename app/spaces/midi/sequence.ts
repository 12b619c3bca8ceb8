// The in-memory form of the `midi` space: what MIDI import produces, MIDI export, ABC projection and the
// synthesizer consume, and samplers generate. Times are in MIDI ticks of the sequence's own `ppq`.
// Owned by app/spaces/midi; pure data, no I/O.

export interface MidiNote {
  /** MIDI key number 0..127 (60 = middle C). */
  readonly pitch: number;
  /** MIDI note-on velocity 1..127. */
  readonly velocity: number;
  readonly startTick: number;
  readonly durationTicks: number;
}

export interface MidiControlChange {
  readonly tick: number;
  /** Controller number 0..127. */
  readonly controller: number;
  /** Controller value 0..127. */
  readonly value: number;
}

export interface MidiPitchBend {
  readonly tick: number;
  /** 14-bit pitch wheel position, centred: -8192..8191 (0 = no bend; the range in semitones is the synth's RPN 0). */
  readonly value: number;
}

export interface MidiTrack {
  readonly name: string;
  /** MIDI channel 0..15 (9 = General MIDI drums). */
  readonly channel: number;
  /** General MIDI program 0..127. */
  readonly program: number;
  readonly notes: readonly MidiNote[];
  readonly controlChanges: readonly MidiControlChange[];
  /** Pitch wheel changes in tick order; absent or empty: the wheel stays centred. */
  readonly pitchBends?: readonly MidiPitchBend[];
}

export interface MidiTempoChange {
  readonly tick: number;
  /** Quarter notes per minute. */
  readonly bpm: number;
}

export interface MidiMeterChange {
  readonly tick: number;
  readonly numerator: number;
  /** Note value of one meter beat: 4 = quarter, 8 = eighth. */
  readonly denominator: number;
}

export interface MidiSequence {
  /** Ticks per quarter note. */
  readonly ppq: number;
  readonly tempos: readonly MidiTempoChange[];
  readonly meters: readonly MidiMeterChange[];
  readonly tracks: readonly MidiTrack[];
  /** Tick at which the last note (or the end-of-track event) ends. */
  readonly durationTicks: number;
}
