// Conditioning material for the sampler tests: a short song with melody, bass and drums, written out by hand.
import type { MidiNote, MidiSequence } from "../../../app/spaces/midi/sequence";

const PPQ = 480;
const MELODY = [60, 62, 64, 65, 67, 65, 64, 62, 60, 64, 67, 72, 71, 67, 65, 62];
const RHYTHM = [1, 0.5, 0.5, 1, 1, 0.5, 0.5, 0.5, 0.5, 1, 1, 1, 0.5, 0.5, 0.5, 0.5];
const BASS = [36, 36, 43, 41, 36, 38, 43, 43];

export function song(bars = 8): MidiSequence {
  const melody: MidiNote[] = [];
  const bass: MidiNote[] = [];
  const drums: MidiNote[] = [];
  let tick = 0;
  for (let i = 0; tick < bars * 4 * PPQ; i++) {
    const beats = RHYTHM[i % RHYTHM.length]!;
    const pitch =
      MELODY[i % MELODY.length]! + (Math.floor(i / MELODY.length) % 2 === 1 && i % 5 === 0 ? 2 : 0);
    melody.push({ pitch, velocity: 80 + (i % 3) * 15, startTick: tick, durationTicks: beats * PPQ - 20 });
    tick += beats * PPQ;
  }
  for (let bar = 0; bar < bars; bar++) {
    for (let beat = 0; beat < 4; beat++) {
      const at = (bar * 4 + beat) * PPQ;
      bass.push({
        pitch: BASS[(bar * 2 + (beat >> 1)) % BASS.length]!,
        velocity: 100,
        startTick: at,
        durationTicks: PPQ - 30,
      });
      drums.push({ pitch: beat % 2 === 0 ? 36 : 38, velocity: 110, startTick: at, durationTicks: 60 });
      drums.push({ pitch: 42, velocity: 60, startTick: at + PPQ / 2, durationTicks: 60 });
      if (bar % 2 === 1 && beat === 3)
        drums.push({ pitch: 46, velocity: 90, startTick: at + (3 * PPQ) / 4, durationTicks: 60 });
    }
  }
  return {
    ppq: PPQ,
    tempos: [{ tick: 0, bpm: 104 }],
    meters: [{ tick: 0, numerator: 4, denominator: 4 }],
    tracks: [
      { name: "lead", channel: 0, program: 73, notes: melody, controlChanges: [] },
      { name: "bass", channel: 1, program: 33, notes: bass, controlChanges: [] },
      { name: "drums", channel: 9, program: 0, notes: drums, controlChanges: [] },
    ],
    durationTicks: bars * 4 * PPQ,
  };
}

/** A strict four-note cycle (C D E G, eighths): its most likely continuation is the cycle itself. */
export function cycle(): MidiSequence {
  const pitches = [60, 62, 64, 67];
  const notes: MidiNote[] = [];
  for (let i = 0; i < 64; i++) {
    notes.push({ pitch: pitches[i % 4]!, velocity: 96, startTick: i * (PPQ / 2), durationTicks: PPQ / 2 });
  }
  return {
    ppq: PPQ,
    tempos: [{ tick: 0, bpm: 120 }],
    meters: [{ tick: 0, numerator: 4, denominator: 4 }],
    tracks: [{ name: "arp", channel: 0, program: 0, notes, controlChanges: [] }],
    durationTicks: 32 * PPQ,
  };
}
