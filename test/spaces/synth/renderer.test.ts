import { beforeAll, describe, expect, it } from "vitest";
import type { MidiSequence } from "../../../app/spaces/midi/sequence";
import { SYNTH_NAMES } from "../../../app/spaces/synth/backend";
import { MidiSequenceError, TempoMap } from "../../../app/spaces/synth/events";
import { createMidiRenderer, renderSequence } from "../../../app/spaces/synth/renderer";
import { type LoadedSoundFont, loadSoundFont } from "../../../app/spaces/synth/soundbank";
import {
  concat,
  countDifferences,
  MUSESCORE_SF3,
  peak,
  smallSong,
  sustainedNote,
  TIMGM6MB,
} from "./fixtures";

const RATE = 48_000;

/** Renders `total` frames in chunks whose sizes cycle through `sizes`. */
function renderChunked(soundfont: LoadedSoundFont, sizes: readonly number[], total: number): Float32Array {
  const renderer = createMidiRenderer({ sequence: smallSong(), soundfont, sampleRate: RATE });
  const parts: Float32Array[] = [];
  for (let done = 0, i = 0; done < total; i++) {
    const frames = Math.min(total - done, sizes[i % sizes.length]!);
    parts.push(renderer.render(frames));
    done += frames;
  }
  expect(renderer.positionFrame).toBe(total);
  return concat(parts);
}

describe("TempoMap", () => {
  it("places ticks through tempo changes, 120 bpm before the first", () => {
    const map = new TempoMap({
      ppq: 480,
      tempos: [
        { tick: 960, bpm: 60 },
        { tick: 1920, bpm: 240 },
      ],
    });
    expect(map.secondsAt(480)).toBe(0.5);
    expect(map.secondsAt(1440)).toBe(2);
    expect(map.secondsAt(2400)).toBe(3.25);
    expect(map.frameAt(2400, 44_100)).toBe(143_325);
  });
});

// Every backend keeps the same contract (docs/synth.md): both run these tests.
describe.each(SYNTH_NAMES)("createMidiRenderer (%s)", (synth) => {
  let sf2: LoadedSoundFont;
  let sf3: LoadedSoundFont;
  beforeAll(async () => {
    sf2 = await loadSoundFont(TIMGM6MB, synth);
    sf3 = await loadSoundFont(MUSESCORE_SF3, synth);
  });
  /** FluidSynth's default gain (0.2) is lower than spessasynth's: level thresholds scale by this. */
  const LEVEL = synth === "fluidsynth" ? 0.4 : 1;

  describe("createMidiRenderer", () => {
    it("renders the same bits twice", () => {
      const total = 3 * RATE;
      const first = createMidiRenderer({ sequence: smallSong(), soundfont: sf2, sampleRate: RATE }).render(
        total,
      );
      const second = createMidiRenderer({ sequence: smallSong(), soundfont: sf2, sampleRate: RATE }).render(
        total,
      );
      expect(first.length).toBe(total * 2);
      expect(peak(first)).toBeGreaterThan(0.05 * LEVEL);
      expect(countDifferences(first, second)).toBe(0);
    });

    it("gives the same bits whether rendered whole or in chunks of any size (.sf2 and .sf3)", () => {
      for (const soundfont of [sf2, sf3]) {
        const renderer = createMidiRenderer({ sequence: smallSong(), soundfont, sampleRate: RATE });
        const total = renderer.lastEventFrame + RATE;
        const whole = renderer.render(total);
        expect(peak(whole)).toBeGreaterThan(0.05 * LEVEL);
        for (const sizes of [[4096], [1], [127, 129, 1000, 3], [RATE / 10, 7, 4096 * 3]]) {
          const chunkTotal = sizes[0] === 1 ? 20_000 : total;
          const chunked = renderChunked(soundfont, sizes, chunkTotal);
          expect(countDifferences(chunked, whole.subarray(0, chunkTotal * 2))).toBe(0);
        }
      }
    });

    it("keeps a sustained note sounding continuously across page boundaries", () => {
      const sequence = sustainedNote();
      const pages: Float32Array[] = [];
      const renderer = createMidiRenderer({ sequence, soundfont: sf2, sampleRate: RATE });
      for (let page = 0; page < 40; page++) pages.push(renderer.render(4096));
      const paged = concat(pages);
      const whole = createMidiRenderer({ sequence, soundfont: sf2, sampleRate: RATE }).render(40 * 4096);
      expect(countDifferences(paged, whole)).toBe(0);
      const onset = RATE / 2;
      expect(peak(whole, 0, onset * 2)).toBe(0);
      // The note sounds through pages 6..29 (0.5 s to 2.5 s): every page there carries signal.
      for (let page = 7; page < 29; page++)
        expect(peak(whole, page * 8192, (page + 1) * 8192)).toBeGreaterThan(0.01);
      // Largest sample-to-sample jump at page boundaries is no larger than the signal's own largest jump.
      let ownJump = 0;
      let boundaryJump = 0;
      for (let i = 2; i < whole.length; i++) {
        const jump = Math.abs(whole[i]! - whole[i - 2]!);
        ownJump = Math.max(ownJump, jump);
        if ((i >> 1) % 4096 === 0) boundaryJump = Math.max(boundaryJump, jump);
      }
      expect(boundaryJump).toBeLessThanOrEqual(ownJump);
    });

    it("starts notes on their exact frame", () => {
      const whole = createMidiRenderer({
        sequence: sustainedNote(),
        soundfont: sf2,
        sampleRate: RATE,
      }).render(RATE);
      let first = -1;
      for (let i = 0; i < whole.length && first < 0; i++) if (whole[i] !== 0) first = i >> 1;
      expect(first).toBeGreaterThanOrEqual(RATE / 2);
      expect(first).toBeLessThanOrEqual(RATE / 2 + 1);
    });

    it("renders into a reused buffer the same bits as into fresh ones, and refuses one too small", () => {
      const whole = createMidiRenderer({ sequence: smallSong(), soundfont: sf2, sampleRate: RATE }).render(
        4 * 4096,
      );
      const renderer = createMidiRenderer({ sequence: smallSong(), soundfont: sf2, sampleRate: RATE });
      const page = new Float32Array(2 * 4096).fill(0.5);
      for (let i = 0; i < 4; i++) {
        expect(renderer.render(4096, page)).toBe(page);
        expect(countDifferences(page, whole.subarray(i * 8192, (i + 1) * 8192))).toBe(0);
      }
      expect(() => renderer.render(4096, new Float32Array(100))).toThrow(/4096 stereo frames need 8192/);
    });

    it("seeks backwards and forwards to what a render from 0 gives", () => {
      const whole = createMidiRenderer({ sequence: smallSong(), soundfont: sf2, sampleRate: RATE }).render(
        3 * RATE,
      );
      const renderer = createMidiRenderer({ sequence: smallSong(), soundfont: sf2, sampleRate: RATE });
      renderer.render(2 * RATE);
      for (const frame of [12_345, 100_001, 7, 90_000]) {
        renderer.seek(frame);
        expect(renderer.positionFrame).toBe(frame);
        const span = renderer.render(5000);
        expect(countDifferences(span, whole.subarray(frame * 2, (frame + 5000) * 2))).toBe(0);
      }
    });

    it("splits into channel stems that mix back to the full render", () => {
      const renderer = createMidiRenderer({ sequence: smallSong(), soundfont: sf2, sampleRate: RATE });
      expect(renderer.channels).toEqual([0, 1, 9]);
      const stems = renderer.renderStems(RATE);
      expect(stems.map((stem) => stem.channel)).toEqual([0, 1, 9]);
      for (const stem of stems) expect(peak(stem.left)).toBeGreaterThan(0.01);
      const full = createMidiRenderer({ sequence: smallSong(), soundfont: sf2, sampleRate: RATE }).render(
        RATE,
      );
      for (let i = 0; i < RATE; i++) {
        const left = Math.fround(Math.fround(stems[0]!.left[i]! + stems[1]!.left[i]!) + stems[2]!.left[i]!);
        expect(left).toBe(full[2 * i]);
      }
      const drumsOnly = createMidiRenderer({
        sequence: smallSong(),
        soundfont: sf2,
        sampleRate: RATE,
        channels: [9],
      });
      expect(countDifferences(drumsOnly.renderStems(RATE)[0]!.left, stems[2]!.left)).toBe(0);
    });

    it("differs with effects on, and renders a whole sequence with its tail", () => {
      const dry = renderSequence({
        sequence: sustainedNote(),
        soundfont: sf2,
        sampleRate: RATE,
        tailFrames: RATE,
      });
      const wet = renderSequence({
        sequence: sustainedNote(),
        soundfont: sf2,
        sampleRate: RATE,
        tailFrames: RATE,
        effects: true,
      });
      expect(dry.length).toBe((RATE / 2 + 2 * RATE + RATE) * 2);
      expect(countDifferences(dry, wet)).toBeGreaterThan(1000);
    });

    it("rejects bad MIDI data, naming the track and the note", () => {
      const song = smallSong();
      const bad = {
        ...song,
        tracks: [
          { ...song.tracks[1]!, notes: [{ pitch: 40, velocity: 0, startTick: 0, durationTicks: 10 }] },
        ],
      };
      expect(() => createMidiRenderer({ sequence: bad, soundfont: sf2, sampleRate: RATE })).toThrow(
        MidiSequenceError,
      );
      expect(() => createMidiRenderer({ sequence: bad, soundfont: sf2, sampleRate: RATE })).toThrow(
        /track 0 \("bass"\) note 0 velocity is 0, expected 1\.\.127; fix or re-import/,
      );
      expect(() => createMidiRenderer({ sequence: song, soundfont: sf2, sampleRate: 1.5 })).toThrow(
        /sample rate 1\.5/,
      );
      expect(() =>
        createMidiRenderer({ sequence: song, soundfont: sf2, sampleRate: RATE }).render(-1),
      ).toThrow(RangeError);
    });
  });

  describe("voices", () => {
    it("never steals: a 40-note cluster equals the sum of its notes rendered alone", () => {
      const frames = RATE;
      const cluster = (pitches: number[]) => ({
        ppq: 480,
        tempos: [{ tick: 0, bpm: 120 }],
        meters: [],
        tracks: [
          {
            name: "strings",
            channel: 0,
            program: 48,
            controlChanges: [],
            notes: pitches.map((pitch) => ({ pitch, velocity: 90, startTick: 0, durationTicks: 480 })),
          },
        ],
        durationTicks: 480,
      });
      const pitches = Array.from({ length: 40 }, (_, i) => 40 + i);
      const together = createMidiRenderer({
        sequence: cluster(pitches),
        soundfont: sf2,
        sampleRate: RATE,
      }).render(frames);
      const sum = new Float64Array(frames * 2);
      for (const pitch of pitches) {
        const alone = createMidiRenderer({
          sequence: cluster([pitch]),
          soundfont: sf2,
          sampleRate: RATE,
        }).render(frames);
        for (let i = 0; i < sum.length; i++) sum[i] = sum[i]! + alone[i]!;
      }
      let worst = 0;
      for (let i = 0; i < sum.length; i++) worst = Math.max(worst, Math.abs(sum[i]! - together[i]!));
      expect(peak(together)).toBeGreaterThan(0.2 * LEVEL);
      expect(worst).toBeLessThan(1e-5);
    });
  });

  describe("silence", () => {
    it("renders a note after a long silence as the same note at the start, shifted", () => {
      const at = (startTick: number) => ({
        ppq: 480,
        tempos: [{ tick: 0, bpm: 120 }],
        meters: [],
        tracks: [
          {
            name: "piano",
            channel: 0,
            program: 0,
            controlChanges: [],
            notes: [{ pitch: 64, velocity: 100, startTick, durationTicks: 480 }],
          },
        ],
        durationTicks: startTick + 480,
      });
      // 10 s at 120 bpm, ppq 480 = 9600 ticks = 480000 frames, a whole number of 128-frame blocks.
      const early = createMidiRenderer({ sequence: at(0), soundfont: sf2, sampleRate: RATE }).render(RATE);
      const late = createMidiRenderer({ sequence: at(9600), soundfont: sf2, sampleRate: RATE }).render(
        11 * RATE,
      );
      expect(peak(late, 0, 20 * RATE)).toBe(0);
      expect(peak(early)).toBeGreaterThan(0.05 * LEVEL);
      let worst = 0;
      for (let i = 0; i < early.length; i++)
        worst = Math.max(worst, Math.abs(early[i]! - late[20 * RATE + i]!));
      expect(worst).toBeLessThan(1e-5);
    });
  });

  describe("pitch wheel", () => {
    /** Period in frames of the strongest repetition in [from, to) of the left channel (autocorrelation). */
    function periodFrames(stereo: Float32Array, from: number, to: number): number {
      let best = 0;
      let bestLag = 0;
      for (let lag = 40; lag <= 400; lag++) {
        let sum = 0;
        for (let i = from; i + lag < to; i++) sum += stereo[2 * i]! * stereo[2 * (i + lag)]!;
        if (sum > best) {
          best = sum;
          bestLag = lag;
        }
      }
      return bestLag;
    }
    /** A4 (440 Hz, 109 frames at 48 kHz) on a flute for 3 s; `bends` in ticks at 120 bpm, 480 ppq (1 s = 960). */
    function bentNote(
      bends: ReadonlyArray<{ tick: number; value: number }>,
      notes = [[0, 2880]],
    ): MidiSequence {
      return {
        ppq: 480,
        tempos: [{ tick: 0, bpm: 120 }],
        meters: [],
        tracks: [
          {
            name: "flute",
            channel: 0,
            program: 73,
            notes: notes.map(([startTick, durationTicks]) => ({
              pitch: 69,
              velocity: 100,
              startTick: startTick!,
              durationTicks: durationTicks!,
            })),
            controlChanges: [],
            pitchBends: bends,
          },
        ],
        durationTicks: Math.max(...notes.map(([start, length]) => start! + length!)),
      };
    }

    it("bends the note: half the wheel up is a semitone (the synth's default range of 2)", () => {
      const out = createMidiRenderer({
        sequence: bentNote([{ tick: 1440, value: 4096 }]),
        soundfont: sf2,
        sampleRate: RATE,
      }).render(3 * RATE);
      const before = periodFrames(out, RATE / 2, RATE / 2 + 4800);
      const after = periodFrames(out, 2 * RATE, 2 * RATE + 4800);
      expect(before).toBeGreaterThanOrEqual(108);
      expect(before).toBeLessThanOrEqual(110);
      // 440 Hz -> 466.2 Hz: 109.1 -> 103.0 frames.
      expect(before / after).toBeGreaterThan(1.04);
      expect(before / after).toBeLessThan(1.08);
    });

    it("keeps a bend made before a checkpoint: a seek there gives the linear render's bits, still bent", () => {
      // Bent fully up at 0.25 s and left there; silence; the next note at 4 s starts after a checkpoint.
      const sequence = bentNote(
        [{ tick: 240, value: 8191 }],
        [
          [0, 480],
          [3840, 960],
        ],
      );
      const linear = createMidiRenderer({ sequence, soundfont: sf2, sampleRate: RATE });
      const reference = linear.render(6 * RATE);
      expect(linear.checkpoints()[0]!.frames).toContain(4 * RATE);
      const seeker = createMidiRenderer({ sequence, soundfont: sf2, sampleRate: RATE });
      seeker.render(RATE);
      seeker.seek(4 * RATE);
      const span = seeker.render(RATE);
      expect(countDifferences(span, reference.subarray(8 * RATE, 10 * RATE))).toBe(0);
      // Two semitones up: 440 -> 493.9 Hz, 109.1 -> 97.2 frames.
      const period = periodFrames(reference, 4 * RATE + 4800, 4 * RATE + 9600);
      expect(period).toBeGreaterThanOrEqual(96);
      expect(period).toBeLessThanOrEqual(98);
    });

    it("refuses a wheel position outside 14 bits, naming the track", () => {
      expect(() =>
        createMidiRenderer({
          sequence: bentNote([{ tick: 0, value: 8192 }]),
          soundfont: sf2,
          sampleRate: RATE,
        }),
      ).toThrow(/track 0 \("flute"\) pitch bend 0 value/);
    });
  });

  describe("checkpoints", () => {
    /** Two channels, a 0.5 s note every 3 s for 30 s, with volume and pan changes in the silences. */
    function sparse(): MidiSequence {
      const ppq = 480;
      const notes = (pitch: number) =>
        Array.from({ length: 10 }, (_, i) => ({
          pitch: pitch + (i % 3),
          velocity: 100,
          startTick: i * 6 * ppq,
          durationTicks: ppq,
        }));
      const changes = Array.from({ length: 10 }, (_, i) => ({
        tick: i * 6 * ppq + 4 * ppq,
        controller: 7,
        value: 60 + i * 6,
      }));
      return {
        ppq,
        tempos: [{ tick: 0, bpm: 120 }],
        meters: [],
        tracks: [
          { name: "piano", channel: 0, program: 0, notes: notes(60), controlChanges: changes },
          {
            name: "bass",
            channel: 1,
            program: 33,
            notes: notes(40),
            controlChanges: [{ tick: 9 * ppq, controller: 10, value: 20 }],
          },
        ],
        durationTicks: 60 * ppq,
      };
    }

    it("are found after silences and restore the exact state on seek", () => {
      const total = 32 * RATE;
      const whole = createMidiRenderer({ sequence: sparse(), soundfont: sf2, sampleRate: RATE });
      const reference = whole.render(total);
      const found = whole.checkpoints();
      expect(found.map((c) => c.channel)).toEqual([0, 1]);
      for (const { frames } of found) {
        expect(frames[0]).toBe(0);
        expect(frames.length).toBeGreaterThanOrEqual(8);
        // Events (notes every 3 s, controller changes) fall on whole half seconds; checkpoints sit on events.
        for (const frame of frames.slice(1)) expect(frame % (RATE / 2)).toBe(0);
        expect(frames.at(-1)!).toBeGreaterThanOrEqual(26 * RATE);
      }
      const renderer = createMidiRenderer({ sequence: sparse(), soundfont: sf2, sampleRate: RATE });
      renderer.render(28 * RATE);
      for (const frame of [13 * RATE + 77, 3 * RATE, 9 * RATE - 1, 27 * RATE, 1000, 21 * RATE + 5]) {
        renderer.seek(frame);
        const span = renderer.render(2 * RATE + 333);
        expect(countDifferences(span, reference.subarray(frame * 2, (frame + 2 * RATE + 333) * 2))).toBe(0);
      }
      // Controllers set before a checkpoint still hold after it: the bass, panned left at 4.5 s, stays left at 9 s.
      const bass = createMidiRenderer({
        sequence: sparse(),
        soundfont: sf2,
        sampleRate: RATE,
        channels: [1],
      });
      expect(bass.render(12 * RATE).length).toBe(24 * RATE);
      expect(bass.checkpoints()[0]!.frames).toContain(9 * RATE);
      bass.seek(9 * RATE);
      const [stem] = bass.renderStems(RATE / 2);
      const energy = (samples: Float32Array) => samples.reduce((sum, x) => sum + x * x, 0);
      expect(energy(stem!.left)).toBeGreaterThan(3 * energy(stem!.right));
      // A renderer that never rendered finds the checkpoints on its way and gives the same bits.
      const fresh = createMidiRenderer({ sequence: sparse(), soundfont: sf2, sampleRate: RATE });
      fresh.seek(25 * RATE);
      expect(countDifferences(fresh.render(RATE), reference.subarray(50 * RATE, 52 * RATE))).toBe(0);
    });
  });

  describe("endFrame", () => {
    it("is the later of the last event and the sequence's own duration", () => {
      const sequence = sustainedNote();
      const tight = createMidiRenderer({ sequence, soundfont: sf2, sampleRate: RATE });
      expect(tight.lastEventFrame).toBe(2.5 * RATE);
      expect(tight.endFrame).toBe(2.5 * RATE);
      const padded = createMidiRenderer({
        sequence: { ...sequence, durationTicks: 10 * 960 },
        soundfont: sf2,
        sampleRate: RATE,
      });
      expect(padded.lastEventFrame).toBe(2.5 * RATE);
      expect(padded.endFrame).toBe(5 * RATE);
      const tail = renderSequence({
        sequence: { ...sequence, durationTicks: 10 * 960 },
        soundfont: sf2,
        sampleRate: RATE,
        tailFrames: 7,
      });
      expect(tail.length).toBe((5 * RATE + 7) * 2);
    });
  });
});

describe("FluidSynth event grid", () => {
  it("starts a note on the 64-frame block nearest its frame, whatever the chunking", async () => {
    const soundfont = await loadSoundFont(TIMGM6MB, "fluidsynth");
    // ppq 480 at 120 bpm: one tick is 50 frames at 48 kHz. Notes at 1000, 1050, 1100 and 1150 frames.
    const onsets = [20, 21, 22, 23].map((startTick) => {
      const sequence: MidiSequence = {
        ppq: 480,
        tempos: [{ tick: 0, bpm: 120 }],
        meters: [],
        tracks: [
          {
            name: "piano",
            channel: 0,
            program: 0,
            controlChanges: [],
            notes: [{ pitch: 60, velocity: 100, startTick, durationTicks: 480 }],
          },
        ],
        durationTicks: startTick + 480,
      };
      const whole = createMidiRenderer({ sequence, soundfont, sampleRate: RATE }).render(4000);
      const chunked = createMidiRenderer({ sequence, soundfont, sampleRate: RATE });
      const parts: Float32Array[] = [];
      for (let done = 0; done < 4000; done += 127) parts.push(chunked.render(Math.min(127, 4000 - done)));
      expect(countDifferences(concat(parts), whole)).toBe(0);
      let first = -1;
      for (let i = 0; i < whole.length && first < 0; i++) if (whole[i] !== 0) first = i >> 1;
      return first;
    });
    // 1000 -> 1024, 1050 -> 1024, 1100 -> 1088, 1150 -> 1152 (FluidSynth's attack may start at 0 for a frame).
    expect(onsets.map((frame) => Math.floor(frame / 64) * 64)).toEqual([1024, 1024, 1088, 1152]);
    for (const frame of onsets) expect(frame % 64).toBeLessThanOrEqual(1);
  });
});
