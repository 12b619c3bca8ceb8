// Sequences and SoundFont paths shared by the synth tests.
import type { MidiNote, MidiSequence, MidiTrack } from "../../../app/spaces/midi/sequence";

export const TIMGM6MB = "/usr/share/sounds/sf2/TimGM6mb.sf2";
export const MUSESCORE_SF3 = "/usr/share/sounds/sf3/MuseScore_General_Lite.sf3";

function track(name: string, channel: number, program: number, notes: MidiNote[]): MidiTrack {
  return { name, channel, program, notes, controlChanges: [] };
}

/** A pad chord held across many pages, a bass line, and drums: notes and tails cross every chunk boundary. */
export function smallSong(): MidiSequence {
  const ppq = 480;
  const drums: MidiNote[] = [];
  const bass: MidiNote[] = [];
  for (let beat = 0; beat < 8; beat++) {
    drums.push({ pitch: beat % 2 === 0 ? 36 : 38, velocity: 110, startTick: beat * ppq, durationTicks: 60 });
    drums.push({ pitch: 42, velocity: 70, startTick: beat * ppq + ppq / 2, durationTicks: 60 });
    bass.push({
      pitch: 36 + ((beat * 5) % 12),
      velocity: 96,
      startTick: beat * ppq,
      durationTicks: ppq - 40,
    });
  }
  return {
    ppq,
    tempos: [
      { tick: 0, bpm: 120 },
      { tick: 4 * ppq, bpm: 96 },
    ],
    meters: [{ tick: 0, numerator: 4, denominator: 4 }],
    tracks: [
      track("pad", 0, 89, [
        { pitch: 60, velocity: 90, startTick: 7, durationTicks: 7 * ppq },
        { pitch: 64, velocity: 80, startTick: 7, durationTicks: 7 * ppq },
        { pitch: 67, velocity: 80, startTick: ppq, durationTicks: 6 * ppq },
      ]),
      track("bass", 1, 33, bass),
      track("drums", 9, 0, drums),
    ],
    durationTicks: 8 * ppq,
  };
}

/** One long note: the simplest signal to check continuity on. */
export function sustainedNote(program = 19): MidiSequence {
  return {
    ppq: 960,
    tempos: [{ tick: 0, bpm: 120 }],
    meters: [],
    tracks: [
      track("organ", 0, program, [{ pitch: 57, velocity: 100, startTick: 960, durationTicks: 4 * 960 }]),
    ],
    durationTicks: 5 * 960,
  };
}

export function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function countDifferences(x: Float32Array, y: Float32Array): number {
  if (x.length !== y.length) return Math.max(x.length, y.length);
  let differences = 0;
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) differences++;
  return differences;
}

export function peak(samples: Float32Array, from = 0, to = samples.length): number {
  let max = 0;
  for (let i = from; i < to; i++) max = Math.max(max, Math.abs(samples[i]!));
  return max;
}
