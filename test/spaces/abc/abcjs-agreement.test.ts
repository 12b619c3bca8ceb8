// Cross-check: our ABC -> MIDI projection against abcjs (a widely used ABC library, devDependency) on tunes
// where the two should agree. Known, deliberate differences are tested on their own at the end.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAbc } from "../../../app/spaces/abc/parse";
import type { MidiSequence } from "../../../app/spaces/midi/sequence";
import { importMidi } from "../../../app/spaces/midi/smf";

interface AbcjsModule {
  synth: { getMidiFile: (abc: string, options: { midiOutputType: "binary" }) => Uint8Array[] };
}
const abcjs = createRequire(import.meta.url)("abcjs") as AbcjsModule;
const fixtures = join(import.meta.dirname, "../../fixtures/abc");

/** Every note as "pitch@start+duration" in quarter notes (3 decimals), per track, sorted. */
function notes(sequence: MidiSequence): string[][] {
  const q = (ticks: number) => (ticks / sequence.ppq).toFixed(3);
  return sequence.tracks.map((t) =>
    t.notes.map((n) => `${n.pitch}@${q(n.startTick)}+${q(n.durationTicks)}`).sort(),
  );
}

function theirs(text: string): MidiSequence {
  const [bytes] = abcjs.synth.getMidiFile(text, { midiOutputType: "binary" });
  if (!bytes) throw new Error("abcjs wrote no MIDI");
  return importMidi(bytes, "abcjs.mid").sequence;
}

function ours(text: string): MidiSequence {
  return parseAbc(new TextEncoder().encode(text), "ours.abc").sequence;
}

const tune = (body: string, header = "M:4/4\nL:1/8\nQ:1/4=120\nK:C") => `X:1\nT:t\n${header}\n${body}\n`;

describe("ABC projection agrees with abcjs", () => {
  const cases: Array<[string, string]> = [
    [
      "reel with first and second endings (fixture)",
      readFileSync(join(fixtures, "reel-with-endings.abc"), "utf8"),
    ],
    ["keys, modes and accidentals (fixture)", readFileSync(join(fixtures, "modes.abc"), "utf8")],
    [
      "two voices with an inline meter change (fixture)",
      readFileSync(join(fixtures, "two-voices.abc"), "utf8"),
    ],
    ["lengths and broken rhythm", tune("A2 A/2 A3/2 A/ A// A | A>B A<B A>>B c<<d | C8 |")],
    ["triplets and rests", tune("(3ABc (3ABc z2 d2 | (3:2:3 efg z6 |")],
    ["ties within and across bars", tune("C2-C2 D4- | D4 E4 | [CEG]4- [CEG]4 |")],
    ["bar-scoped accidentals and octaves", tune("^F F f =F F ^c' c' | F _B, B, ^^C __E, E, |")],
    ["repeats without a start and with one", tune("C D E F :| G A B c | |: d e f g :| a8 |]")],
    [
      "numbered endings in brackets and a :: double repeat",
      tune("|: C D [1 E F :| [2 G A |] |: d e :: f g :| a8 |]"),
    ],
    [
      "chords, tuplets of chords and a multi-bar rest",
      tune("[CEG]2 (3[CE][DF][EG] z2 | Z2 | [c2e2g2] [B,DF]6 |"),
    ],
    [
      "voices with their own keys",
      "X:1\nT:v\nM:3/4\nL:1/8\nQ:1/4=90\nV:1\nV:2\nK:G\nV:1\nd2 B2 G2 | A2 B2 c2 |\nV:2\n[K:D] G,4 F,2 | D,6 |\n",
    ],
    ["key signatures", tune("F B c e | [K:Eb] A B e a | [K:F#m] e f c g |", "M:4/4\nL:1/8\nQ:1/4=120\nK:A")],
  ];
  for (const [label, text] of cases) {
    it(label, () => {
      expect(notes(ours(text))).toEqual(notes(theirs(text)));
    });
  }
});

describe("known differences from abcjs (ours follows the ABC 2.1 standard)", () => {
  it("(5 and (7 in compound meter take the time of 3, as ABC 2.1 says; abcjs uses 2 and rounds to its grid", () => {
    const text = tune("(5ABcde (7ABcdefg |", "M:6/8\nL:1/8\nQ:3/8=60\nK:C");
    const sequence = ours(text);
    const eighth = sequence.ppq / 2;
    expect(sequence.tracks[0]!.notes.slice(0, 5).map((n) => n.durationTicks)).toEqual(
      new Array(5).fill((3 * eighth) / 5),
    );
    expect(sequence.tracks[0]!.notes.slice(5).map((n) => n.durationTicks)).toEqual(
      new Array(7).fill((3 * eighth) / 7),
    );
    expect(notes(theirs(text))).not.toEqual(notes(sequence));
  });

  it("an inline L: changes only its own voice (abcjs applies it to every voice)", () => {
    const text = "X:1\nT:v\nM:3/4\nL:1/8\nV:1\nV:2\nK:C\nV:1\n[L:1/4] A B c |\nV:2\nG,4 F,2 |\n";
    const sequence = ours(text);
    expect(notes(sequence)[1]).toEqual(["53@2.000+1.000", "55@0.000+2.000"]);
    expect(notes(theirs(text))[1]).not.toEqual(notes(sequence)[1]);
  });

  it("a repeat after a finished section starts at that section's end (abcjs goes back to the first |:)", () => {
    const text = tune("|: C D [1 E F :| [2 G A || B c :: d e :| f8 |]");
    const pitches = ours(text).tracks[0]!.notes.map((n) => n.pitch);
    expect(pitches).toEqual([60, 62, 64, 65, 60, 62, 67, 69, 71, 72, 71, 72, 74, 76, 74, 76, 77]);
    expect(theirs(text).tracks[0]!.notes.map((n) => n.pitch)).not.toEqual(pitches);
  });

  it("in a chord of unequal lengths each note keeps its own length (abcjs cuts all to the first)", () => {
    const sequence = ours(tune("[CE2] G |"));
    expect(
      sequence.tracks[0]!.notes.map((n) => [
        n.pitch,
        n.startTick / sequence.ppq,
        n.durationTicks / sequence.ppq,
      ]),
    ).toEqual([
      [60, 0, 0.5],
      [64, 0, 1],
      [67, 0.5, 0.5],
    ]);
  });
});
