// Tempo-map arithmetic on a MidiSequence: ticks -> seconds and beats. Pure; used by import summaries and export.
import type { MidiSequence } from "./sequence";

/** Seconds from tick 0 to `tick`, following every tempo change (120 bpm before the first). */
export function ticksToSeconds(sequence: MidiSequence, tick: number): number {
  let seconds = 0;
  let at = 0;
  let bpm = 120;
  for (const change of [...sequence.tempos].sort((a, b) => a.tick - b.tick)) {
    if (change.tick >= tick) break;
    seconds += ((change.tick - at) / sequence.ppq) * (60 / bpm);
    at = change.tick;
    bpm = change.bpm;
  }
  return seconds + ((tick - at) / sequence.ppq) * (60 / bpm);
}

/** Quarter-note beats from tick 0 to `tick`. */
export function ticksToBeats(sequence: MidiSequence, tick: number): number {
  return tick / sequence.ppq;
}
