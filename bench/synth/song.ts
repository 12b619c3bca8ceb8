// A generated multi-track song (drums, bass, keys, pad, lead) for the synth benchmark and the bounce tests.
// Deterministic: the same bars give the same MidiSequence.
import type { MidiNote, MidiSequence, MidiTrack } from "../../app/spaces/midi/sequence";
import { Xoshiro128 } from "../../app/spaces/samplers/random";

const PPQ = 480;
const BAR = 4 * PPQ;
/** I - vi - IV - V in C: chord tones (root position, around middle C). */
const CHORDS = [
  [60, 64, 67],
  [57, 60, 64],
  [53, 57, 60],
  [55, 59, 62],
];
const SCALE = [0, 2, 4, 5, 7, 9, 11];

function track(name: string, channel: number, program: number, notes: MidiNote[]): MidiTrack {
  return { name, channel, program, notes, controlChanges: [{ tick: 0, controller: 7, value: 100 }] };
}

/** `bars` bars at 120 bpm (60 bars = 2 minutes). */
export function benchmarkSong(bars = 60): MidiSequence {
  const random = Xoshiro128.fromSeed(2026);
  const drums: MidiNote[] = [];
  const bass: MidiNote[] = [];
  const keys: MidiNote[] = [];
  const pad: MidiNote[] = [];
  const lead: MidiNote[] = [];
  let leadPitch = 72;
  for (let bar = 0; bar < bars; bar++) {
    const start = bar * BAR;
    const chord = CHORDS[bar % CHORDS.length]!;
    if (bar % 8 === 0) drums.push({ pitch: 49, velocity: 100, startTick: start, durationTicks: PPQ });
    for (let eighth = 0; eighth < 8; eighth++) {
      const at = start + (eighth * PPQ) / 2;
      drums.push({ pitch: 42, velocity: eighth % 2 === 0 ? 80 : 56, startTick: at, durationTicks: PPQ / 4 });
      if (eighth === 0 || eighth === 4 || (eighth === 5 && bar % 2 === 1)) {
        drums.push({ pitch: 36, velocity: 112, startTick: at, durationTicks: PPQ / 4 });
      }
      if (eighth === 2 || eighth === 6)
        drums.push({ pitch: 38, velocity: 104, startTick: at, durationTicks: PPQ / 4 });
      const bassPitch = chord[0]! - 24 + (eighth === 7 ? 7 : 0);
      bass.push({ pitch: bassPitch, velocity: 96, startTick: at, durationTicks: PPQ / 2 - 30 });
    }
    for (let beat = 0; beat < 4; beat++) {
      for (const pitch of chord) {
        keys.push({
          pitch: pitch + 12,
          velocity: beat === 0 ? 84 : 68,
          startTick: start + beat * PPQ,
          durationTicks: PPQ - 60,
        });
      }
    }
    for (const pitch of [...chord, chord[0]! + 12]) {
      pad.push({ pitch, velocity: 70, startTick: start, durationTicks: BAR - 10 });
    }
    let at = start;
    while (at < start + BAR) {
      const length = [PPQ / 2, PPQ / 2, PPQ, PPQ / 4][random.nextUint32() % 4]!;
      const step = (random.nextUint32() % 5) - 2;
      const degree = SCALE.findIndex((s) => s === (leadPitch - 60) % 12);
      const next = SCALE[(((Math.max(degree, 0) + step) % 7) + 7) % 7]!;
      leadPitch = Math.min(84, Math.max(67, 72 + next + (leadPitch >= 79 && step > 0 ? -12 : 0)));
      lead.push({
        pitch: leadPitch,
        velocity: 90,
        startTick: at,
        durationTicks: Math.min(length, start + BAR - at) - 20,
      });
      at += length;
    }
  }
  return {
    ppq: PPQ,
    tempos: [{ tick: 0, bpm: 120 }],
    meters: [{ tick: 0, numerator: 4, denominator: 4 }],
    tracks: [
      track("drums", 9, 0, drums),
      track("bass", 1, 33, bass),
      track("keys", 2, 0, keys),
      track("pad", 3, 89, pad),
      track("lead", 4, 80, lead),
    ],
    durationTicks: bars * BAR,
  };
}
