import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { listAbcTunes, parseAbc } from "../../../app/spaces/abc/parse";
import { EncodingError } from "../../../app/spaces/errors";
import type { MidiSequence } from "../../../app/spaces/midi/sequence";
import { importMidi, writeMidi } from "../../../app/spaces/midi/smf";

const fixtures = join(import.meta.dirname, "../../fixtures/abc");
const fixture = (name: string) => parseAbc(readFileSync(join(fixtures, name)), name);
const abc = (text: string) => parseAbc(new TextEncoder().encode(text), "t.abc");
const tune = (body: string, header = "M:4/4\nL:1/8\nK:C") => abc(`X:1\nT:t\n${header}\n${body}\n`);

/** [pitch, start, duration] in quarter notes, for readable expectations. */
function notesOf(sequence: MidiSequence, track = 0): Array<[number, number, number]> {
  return sequence.tracks[track]!.notes.map((n) => [
    n.pitch,
    n.startTick / sequence.ppq,
    n.durationTicks / sequence.ppq,
  ]);
}
const pitchesOf = (sequence: MidiSequence, track = 0) => sequence.tracks[track]!.notes.map((n) => n.pitch);

function errorOf(fn: () => unknown): EncodingError {
  try {
    fn();
  } catch (error) {
    if (error instanceof EncodingError) return error;
    throw error;
  }
  throw new Error("expected an EncodingError");
}

describe("ABC header", () => {
  it("keeps every header field as metadata and reads M:C|, L:, Q:1/2=90 and K:D", () => {
    const t = fixture("reel-with-endings.abc");
    expect(t.title).toBe("The Canvas Reel");
    expect(t.fields["T"]).toEqual(["The Canvas Reel", "(test tune)"]);
    expect(t.fields["C"]).toEqual(["Latent Canvas tests"]);
    expect(t.fields["R"]).toEqual(["reel"]);
    expect(t.fields["Z"]).toEqual(["written for the encodings tests"]);
    expect(t.sequence.meters).toEqual([{ tick: 0, numerator: 2, denominator: 2 }]);
    expect(t.sequence.tempos).toEqual([{ tick: 0, bpm: 180 }]);
  });

  it("reads meters C, C|, none and sums, and picks the default unit length from the meter", () => {
    expect(tune("C D", "M:C\nK:C").sequence.meters[0]).toMatchObject({ numerator: 4, denominator: 4 });
    expect(tune("C D", "M:(2+3)/8\nK:C").sequence.meters[0]).toMatchObject({ numerator: 5, denominator: 8 });
    expect(notesOf(tune("C", "M:3/8\nK:C").sequence)).toEqual([[60, 0, 0.25]]);
    expect(notesOf(tune("C", "M:6/8\nK:C").sequence)).toEqual([[60, 0, 0.5]]);
    expect(notesOf(tune("C", "K:C").sequence)).toEqual([[60, 0, 0.5]]);
    expect(tune("C", "M:none\nK:C").sequence.meters).toEqual([{ tick: 0, numerator: 4, denominator: 4 }]);
  });

  it("reads Q: as beat=bpm, as a bare number of unit lengths, with text, and defaults to 120", () => {
    expect(tune("C", "M:6/8\nL:1/8\nQ:3/8=60\nK:C").sequence.tempos[0]!.bpm).toBe(90);
    expect(tune("C", "L:1/8\nQ:120\nK:C").sequence.tempos[0]!.bpm).toBe(60);
    expect(tune("C", 'L:1/8\nQ:"Allegro" 1/4=132\nK:C').sequence.tempos[0]!.bpm).toBe(132);
    expect(tune("C", "K:C").sequence.tempos).toEqual([{ tick: 0, bpm: 120 }]);
  });
});

describe("ABC pitches", () => {
  it("applies keys and modes (K:Dmix, K:Ador, K:Bb) and bar-scoped accidentals", () => {
    expect(pitchesOf(fixture("modes.abc").sequence)).toEqual([
      ...[72, 78, 71, 76],
      ...[78, 72, 79, 71],
      ...[70, 75, 66, 66, 65, 65, 77, 65],
      ...[62, 62, 70, 70, 84, 48],
    ]);
  });

  it("reads every key letter with sharps, flats and modes", () => {
    const scale = "C D E F G A B";
    expect(pitchesOf(tune(scale, "K:G").sequence)).toEqual([60, 62, 64, 66, 67, 69, 71]);
    expect(pitchesOf(tune(scale, "K:F#").sequence)).toEqual([61, 63, 65, 66, 68, 70, 71]);
    expect(pitchesOf(tune(scale, "K:Eb").sequence)).toEqual([60, 62, 63, 65, 67, 68, 70]);
    expect(pitchesOf(tune(scale, "K:Em").sequence)).toEqual([60, 62, 64, 66, 67, 69, 71]);
    expect(pitchesOf(tune(scale, "K:A minor").sequence)).toEqual([60, 62, 64, 65, 67, 69, 71]);
    expect(pitchesOf(tune(scale, "K:E phrygian").sequence)).toEqual([60, 62, 64, 65, 67, 69, 71]);
    expect(pitchesOf(tune(scale, "K:F lyd").sequence)).toEqual([60, 62, 64, 65, 67, 69, 71]);
    expect(pitchesOf(tune(scale, "K:D ^g clef=treble").sequence)).toEqual([61, 62, 64, 66, 68, 69, 71]);
    expect(pitchesOf(tune(scale, "K:none").sequence)).toEqual([60, 62, 64, 65, 67, 69, 71]);
  });

  it("scopes accidentals to the bar and to the octave, and reads octave marks", () => {
    expect(pitchesOf(tune("^F F f =F F | F ^^C __E c' C, c,, B,,").sequence)).toEqual([
      66, 66, 77, 65, 65, 65, 62, 62, 84, 48, 48, 47,
    ]);
  });
});

describe("ABC rhythm", () => {
  it("carries an accidental across the bar line to the tied-to note only, in chords too", () => {
    expect(notesOf(tune("^C4-|C4 C4|", "L:1/4\nK:C").sequence)).toEqual([
      [61, 0, 8],
      [60, 8, 4],
    ]);
    expect(notesOf(tune("[^CE]2-|[CE]2|", "L:1/4\nK:C").sequence)).toEqual([
      [61, 0, 4],
      [64, 0, 4],
    ]);
    expect(notesOf(tune("=F2-|F2 F2|", "L:1/4\nK:G").sequence)).toEqual([
      [65, 0, 4],
      [66, 4, 2],
    ]);
    expect(pitchesOf(tune("^C2 D2-|D2 C2|", "L:1/4\nK:C").sequence)).toEqual([61, 62, 60]);
  });

  it("reads note lengths, broken rhythm, tuplets, chords, ties, rests and multi-bar rests to the tick", () => {
    const t = fixture("rhythms.abc");
    expect(t.sequence.ppq).toBe(3360);
    expect(t.rounded).toBe(false);
    const third = 1 / 3;
    const expected: Array<[number, number, number]> = [
      [69, 0, 1],
      [69, 1, 0.25],
      [69, 1.25, 0.75],
      [69, 2, 0.25],
      [69, 2.25, 0.125],
      [69, 2.375, 0.5],
      [69, 2.875, 0.75],
      [71, 3.625, 0.25],
      [69, 3.875, 0.25],
      [71, 4.125, 0.75],
      [69, 4.875, 0.875],
      [71, 5.75, 0.125],
    ];
    const notes = notesOf(t.sequence);
    expect(notes.slice(0, 12)).toEqual(expected);
    const ticks = t.sequence.tracks[0]!.notes;
    // (3ABc and (3:2:4 ABcd: seven notes of a third of a quarter, exactly 1120 ticks each.
    expect(ticks.slice(12, 19).map((n) => n.durationTicks)).toEqual(new Array(7).fill(1120));
    expect(ticks[19]!.startTick).toBe(Math.round((5.875 + 7 * third) * 3360));
    // [CEG]2 then [C2E2G2] then [CE2] (the chord advances by its first note).
    expect(notes.slice(19, 28).map(([p, , d]) => [p, d])).toEqual([
      [60, 1],
      [64, 1],
      [67, 1],
      [60, 1],
      [64, 1],
      [67, 1],
      [60, 0.5],
      [64, 1],
      [60, 2],
    ]);
    // C2-C2 is one note of 2 quarters; C4- | C2 ties across the bar line; [CE]-[CE] ties both notes.
    const cs = notes.filter(([p, start]) => p === 60 && start > 12 && start < 24);
    expect(cs.map(([, start, d]) => [start * 24, d])).toEqual([
      [14.208333333333334 * 24, 3],
      [17.208333333333332 * 24, 1],
    ]);
    expect(notes.filter(([p, start]) => p === 64 && start > 17 && start < 24)).toEqual([
      [64, 17.208333333333332, 1],
    ]);
    // Z2 in 6/8 rests 6 quarters; then (5 and (7 in compound meter take 3 eighths.
    const quintuplet = ticks.slice(-12, -7);
    expect(quintuplet.map((n) => n.durationTicks)).toEqual(new Array(5).fill(1008));
    expect(quintuplet[0]!.startTick).toBe(24.208333333333332 * 3360);
    expect(ticks.slice(-7).map((n) => n.durationTicks)).toEqual(new Array(7).fill(720));
    expect(t.sequence.durationTicks).toBe(ticks.at(-1)!.startTick + 720);
  });

  it("keeps the default grid (480 per quarter) when every length fits it", () => {
    const t = tune("A/ B// c3/2 (3def");
    expect(t.sequence.ppq).toBe(480);
    expect(t.sequence.tracks[0]!.notes.map((n) => n.durationTicks)).toEqual([120, 60, 360, 160, 160, 160]);
  });

  it("invisible rests, decorations, chord symbols, grace notes and slurs take no notes", () => {
    expect(notesOf(tune('"Am" !trill! ~A {g}B (c d) .e x2 T f !ff! g').sequence)).toEqual([
      [69, 0, 0.5],
      [71, 0.5, 0.5],
      [72, 1, 0.5],
      [74, 1.5, 0.5],
      [76, 2, 0.5],
      [77, 3.5, 0.5],
      [79, 4, 0.5],
    ]);
    expect(tune("!ff! C !p! D").sequence.tracks[0]!.notes.map((n) => n.velocity)).toEqual([120, 60]);
  });
});

describe("ABC repeats and voices", () => {
  it("expands |: :| with first and second endings", () => {
    const t = fixture("reel-with-endings.abc");
    const pitches = pitchesOf(t.sequence);
    const a = [74, 78, 74, 69, 74, 66, 69, 71, 73, 74];
    expect(pitches).toEqual([...a, 76, 76, 74, 73, 69, ...a, 76, 74, 73, 74]);
    expect(t.sequence.durationTicks).toBe(24 * 480);
  });

  it("expands repeats without a start mark, [1 [2 endings, three endings and :: double repeats", () => {
    expect(pitchesOf(tune("C D :| E").sequence)).toEqual([60, 62, 60, 62, 64]);
    expect(pitchesOf(tune("|: C [1 D :| [2 E ||").sequence)).toEqual([60, 62, 60, 64]);
    expect(pitchesOf(tune("|: C |1 D :|2 E :|3 F |]").sequence)).toEqual([60, 62, 60, 64, 60, 65]);
    expect(pitchesOf(tune("|: C :: D :| E").sequence)).toEqual([60, 60, 62, 62, 64]);
    expect(pitchesOf(tune("|: C :| |: D |1 E :|2 F |").sequence)).toEqual([60, 60, 62, 64, 62, 65]);
    expect(pitchesOf(tune("|: C [1 D :| [2 E :: F :| G").sequence)).toEqual([60, 62, 60, 64, 65, 65, 67]);
  });

  it("makes one track per voice with names, programs, its own clock and inline meter changes", () => {
    const t = fixture("two-voices.abc");
    expect(t.voices).toEqual(["S", "B"]);
    const [soprano, bass] = t.sequence.tracks;
    expect([soprano!.name, soprano!.channel, soprano!.program]).toEqual(["Soprano", 0, 73]);
    expect([bass!.name, bass!.channel, bass!.program]).toEqual(["Bass", 1, 0]);
    expect(notesOf(t.sequence, 0)).toEqual([
      [70, 0, 1],
      [72, 1, 1],
      [74, 2, 1],
      [75, 3, 2],
    ]);
    expect(notesOf(t.sequence, 1)).toEqual([
      [46, 0, 1],
      [41, 1, 1],
      [46, 2, 2],
    ]);
    expect(t.sequence.meters).toEqual([
      { tick: 0, numerator: 3, denominator: 4 },
      { tick: 1440, numerator: 2, denominator: 4 },
    ]);
    expect(t.sequence.tempos).toEqual([{ tick: 0, bpm: 100 }]);
  });

  it("reads a body line starting with a lower-case note and a repeat as music, not as a field", () => {
    expect(pitchesOf(tune("|: C D\nd:|\nw: some lyrics\nE").sequence)).toEqual([60, 62, 74, 60, 62, 74, 64]);
  });

  it("reads the first tune of a file with several by default, counts them, and reads the one asked for", () => {
    const text = "X:1\nT:One\nK:C\nC D\n\nX:5\nT:Two\nK:C\nE F\n";
    const t = abc(text);
    expect(t.tunesInFile).toBe(2);
    expect([t.tune, t.x]).toEqual([1, "1"]);
    expect(pitchesOf(t.sequence)).toEqual([60, 62]);
    const second = parseAbc(new TextEncoder().encode(text), "t.abc", { tune: 2 });
    expect([second.tune, second.x, second.title]).toEqual([2, "5", "Two"]);
    expect(pitchesOf(second.sequence)).toEqual([64, 65]);
    expect(listAbcTunes(new TextEncoder().encode(text), "t.abc")).toEqual([
      { tune: 1, x: "1", title: "One", line: 1 },
      { tune: 2, x: "5", title: "Two", line: 6 },
    ]);
    expect(() => parseAbc(new TextEncoder().encode(text), "t.abc", { tune: 3 })).toThrow(
      "t.abc: there is no tune 3: the file has 2 tunes. Choose a tune from 1 to 2",
    );
  });

  it("applies the file header's fields to every tune; a tune's own fields override them", () => {
    const text = "%abc-2.1\nM:3/4\nL:1/4\n%%MIDI program 40\n\nX:1\nK:C\nC D E\n\nX:2\nL:1/8\nK:C\nC D E\n";
    const one = abc(text);
    expect(one.sequence.meters[0]).toMatchObject({ numerator: 3, denominator: 4 });
    expect(one.sequence.tracks[0]!.program).toBe(40);
    expect(one.sequence.tracks[0]!.notes.map((n) => n.durationTicks)).toEqual([480, 480, 480]);
    const two = parseAbc(new TextEncoder().encode(text), "t.abc", { tune: 2 });
    expect(two.sequence.tracks[0]!.notes.map((n) => n.durationTicks)).toEqual([240, 240, 240]);
    expect(two.sequence.meters[0]).toMatchObject({ numerator: 3, denominator: 4 });
  });
});

describe("ABC projection to MIDI", () => {
  for (const name of ["reel-with-endings.abc", "two-voices.abc", "modes.abc", "rhythms.abc"]) {
    it(`${name} survives writing to a MIDI file and reading it back, tick for tick`, () => {
      const { sequence } = fixture(name);
      const back = importMidi(writeMidi(sequence), "p.mid").sequence;
      expect(back.tracks.map((t) => t.notes)).toEqual(sequence.tracks.map((t) => t.notes));
      expect(back.meters).toEqual(sequence.meters);
      expect(back.tempos.map((t) => Math.round(t.bpm * 1000))).toEqual(
        sequence.tempos.map((t) => Math.round(t.bpm * 1000)),
      );
      expect(back.durationTicks).toBe(sequence.durationTicks);
    });
  }
});

describe("ABC errors", () => {
  const cases: Array<[string, string | Uint8Array, RegExp]> = [
    ["an unexpected character", "X:1\nK:C\nC D @ E\n", /^t\.abc: 3:5: unexpected "@"/],
    ["an unterminated chord", "X:1\nK:C\nC [CEG\n", /^t\.abc: 3:3: unterminated chord/],
    ["an unterminated decoration", "X:1\nK:C\nC !trill D\n", /^t\.abc: 3:3: unterminated decoration/],
    ["a missing K:", "X:1\nT:no key\nM:4/4\n", /no K: field/],
    ["an unknown mode", "X:1\nK:Dfoo\nC\n", /^t\.abc: 2:3: unknown mode "foo"/],
    ["a bad meter", "X:1\nM:3/5\nK:C\nC\n", /^t\.abc: 2:3: meter denominator 5/],
    ["a broken rhythm with no note", "X:1\nK:C\n> C\n", /^t\.abc: 3:1: broken rhythm/],
    ["a note out of range", "X:1\nK:C\nc''''''\n", /outside the MIDI range/],
    ["music before K:", "X:1\nT:x\nCDE\nK:C\n", /^t\.abc: 3:1: music before the K: field/],
    ["a zero length", "X:1\nK:C\nC0\n", /3:2: a note length of 0/],
    [
      "invalid UTF-8",
      Uint8Array.from([...new TextEncoder().encode("X:1\nT:caf"), 0xc3, 0x28, 0x0a]),
      /^t\.abc: 2:6: invalid UTF-8/,
    ],
    [
      "a truncated UTF-8 sequence",
      Uint8Array.from([...new TextEncoder().encode("X:1\nK:C\nT:é"), 0xe2, 0x82]),
      /3:4: invalid UTF-8/,
    ],
  ];
  for (const [label, input, pattern] of cases) {
    it(`reports ${label} with line:column`, () => {
      const bytes = typeof input === "string" ? new TextEncoder().encode(input) : input;
      expect(errorOf(() => parseAbc(bytes, "t.abc")).message).toMatch(pattern);
    });
  }
});
