// ABC notation (2.1 subset) -> MidiSequence: the `abc -> midi` projection. Reads one tune of a file (the first
// unless asked; `listAbcTunes` lists them, with the file header's fields applying to every tune): header fields, keys and modes, meters, unit lengths, tempo, notes with lengths, accidentals (bar-scoped),
// octaves, rests, ties, broken rhythm, tuplets, chords, repeats with numbered endings (expanded), voices.
// Decorations, chord symbols, grace notes, slurs and lyrics are read and skipped. Errors carry line:column.
// Pure TypeScript; called by the import pipeline and the CLI.
import { EncodingError } from "../errors";
import type { MidiMeterChange, MidiNote, MidiSequence, MidiTempoChange, MidiTrack } from "../midi/sequence";
import { Fraction, lcm } from "./fraction";

/** Part of every `abc -> midi` record; 3: the file header's fields apply to every tune of the file. */
export const ABC_PROJECTION_VERSION = 3;
export const ABC_DEFAULT_VELOCITY = 80;
const MAX_EXPANDED_EVENTS = 500_000;
const BASE_PPQ = 480;

export interface AbcTune {
  /** Every header field in order of appearance, e.g. { T: ["Title", "Subtitle"], C: ["Trad."] }. */
  readonly fields: Readonly<Record<string, readonly string[]>>;
  readonly title: string;
  readonly voices: readonly string[];
  readonly tunesInFile: number;
  /** Which tune of the file this is: 1-based position, and its X: reference number ("" without an X: line). */
  readonly tune: number;
  readonly x: string;
  readonly sequence: MidiSequence;
  /** True when some tuplet could not be placed exactly on the tick grid and was rounded. */
  readonly rounded: boolean;
}

type Accidentals = ReadonlyMap<string, number>;

interface NoteItem {
  readonly kind: "note";
  /** Empty for rests. */
  pitches: Array<{ pitch: number; duration: Fraction; tie: boolean; spelling?: Spelling }>;
  advance: Fraction;
  readonly velocity: number;
}
/** A note's letter and octave (`C4`) and the semitone shift it was played with (for accidentals carried by ties). */
interface Spelling {
  readonly barKey: string;
  readonly shift: number;
}
interface BarItem {
  readonly kind: "bar";
  readonly startRepeat: boolean;
  readonly endRepeat: boolean;
}
interface EndingItem {
  readonly kind: "ending";
  readonly numbers: readonly number[];
}
interface TempoItem {
  readonly kind: "tempo";
  readonly bpm: number;
}
interface MeterItem {
  readonly kind: "meter";
  readonly numerator: number;
  readonly denominator: number;
}
type Item = NoteItem | BarItem | EndingItem | TempoItem | MeterItem;

interface Meter {
  readonly numerator: number;
  readonly denominator: number;
}

interface Voice {
  readonly id: string;
  name: string;
  program: number;
  key: Accidentals;
  unit: Fraction;
  meter: Meter | null;
  readonly items: Item[];
  barAccidentals: Map<string, number>;
  /** Shifts of notes tied across the last bar line: they hold for the tied-to note (the next note) only. */
  tieCarry: Map<string, number>;
  velocity: number;
  lastNote: NoteItem | null;
  brokenFactor: Fraction | null;
  tuplet: { factor: Fraction; remaining: number } | null;
}

class AbcSyntaxError extends Error {
  readonly line: number;
  readonly column: number;
  constructor(line: number, column: number, message: string) {
    super(message);
    this.line = line;
    this.column = column;
  }
}

/** Decodes UTF-8 strictly; on invalid bytes throws with the line:column of the first one. */
function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    let at = 0;
    while (at < bytes.length) {
      const b = bytes[at]!;
      const need =
        b < 0x80
          ? 0
          : b >= 0xc2 && b <= 0xdf
            ? 1
            : b >= 0xe0 && b <= 0xef
              ? 2
              : b >= 0xf0 && b <= 0xf4
                ? 3
                : -1;
      let ok = need >= 0 && at + need < bytes.length;
      for (let k = 1; ok && k <= need; k++) ok = (bytes[at + k]! & 0xc0) === 0x80;
      if (ok && need === 2) {
        const c = ((b & 0x0f) << 12) | ((bytes[at + 1]! & 0x3f) << 6);
        ok = c >= 0x800 && (c < 0xd800 || c > 0xdfff);
      }
      if (ok && need === 3) {
        const c = ((b & 0x07) << 18) | ((bytes[at + 1]! & 0x3f) << 12);
        ok = c >= 0x10000 && c <= 0x10ffff;
      }
      if (!ok) break;
      at += need + 1;
    }
    const before = new TextDecoder("utf-8").decode(bytes.subarray(0, at));
    const lines = before.split("\n");
    const line = lines.length;
    const column = [...lines[lines.length - 1]!].length + 1;
    throw new EncodingError(
      file,
      `${line}:${column}: invalid UTF-8 (byte 0x${bytes[at]?.toString(16) ?? "??"} at offset ${at})`,
      "Save the ABC file as UTF-8",
    );
  }
}

const MAJOR_SHARPS: Record<string, number> = { C: 0, D: 2, E: 4, F: -1, G: 1, A: 3, B: 5 };
const MODES: Array<[string, number]> = [
  ["maj", 0],
  ["ion", 0],
  ["min", -3],
  ["aeo", -3],
  ["mix", -1],
  ["dor", -2],
  ["phr", -4],
  ["lyd", 1],
  ["loc", -5],
];
const SHARP_ORDER = "FCGDAEB";
const FLAT_ORDER = "BEADGCF";
const CLEF_WORDS = new Set([
  "treble",
  "bass",
  "alto",
  "tenor",
  "perc",
  "none",
  "bass3",
  "alto1",
  "alto2",
  "tenor1",
]);
const NOTE_SEMITONES: Record<string, number> = { C: 0, D: 2, E: 4, F: 5, G: 7, A: 9, B: 11 };
const DYNAMICS: Record<string, number> = {
  pppp: 20,
  ppp: 30,
  pp: 45,
  p: 60,
  mp: 75,
  mf: 90,
  f: 105,
  ff: 120,
  fff: 127,
  ffff: 127,
};

function accidentalValue(text: string): number | undefined {
  return { "^": 1, "^^": 2, _: -1, __: -2, "=": 0 }[text];
}

/** K: field -> accidentals per note letter (upper case). */
function parseKey(value: string, fail: (message: string) => never): Map<string, number> {
  const tokens = value.trim().split(/\s+/).filter(Boolean);
  const key = new Map<string, number>();
  if (tokens.length === 0) return key;
  let index = 0;
  const first = tokens[0]!;
  if (/^none$/i.test(first)) {
    index = 1;
  } else if (first === "HP") {
    index = 1;
  } else if (first === "Hp") {
    key.set("F", 1).set("C", 1);
    index = 1;
  } else if (/^[A-G]/.test(first)) {
    const match = /^([A-G])([#b]?)(.*)$/.exec(first)!;
    let modeText = match[3]!;
    index = 1;
    if (
      modeText === "" &&
      tokens[1] &&
      /^[A-Za-z]+$/.test(tokens[1]) &&
      !CLEF_WORDS.has(tokens[1].toLowerCase())
    ) {
      const candidate = tokens[1].toLowerCase();
      if (candidate === "m" || MODES.some(([m]) => candidate.startsWith(m))) {
        modeText = tokens[1];
        index = 2;
      }
    }
    const lowered = modeText.toLowerCase();
    let modeShift: number;
    if (lowered === "" || lowered === "m") modeShift = lowered === "m" ? -3 : 0;
    else {
      const mode = MODES.find(
        ([m]) => lowered.startsWith(m) || (lowered.length >= 3 && m.startsWith(lowered.slice(0, 3))),
      );
      if (!mode)
        return fail(`unknown mode "${modeText}" in K: (use maj, min, mix, dor, phr, lyd, loc, ion or aeo)`);
      modeShift = mode[1];
    }
    const sharps = MAJOR_SHARPS[match[1]!]! + (match[2] === "#" ? 7 : match[2] === "b" ? -7 : 0) + modeShift;
    if (Math.abs(sharps) > 7)
      return fail(`key "${first}" needs ${Math.abs(sharps)} sharps or flats (at most 7)`);
    for (let i = 0; i < sharps; i++) key.set(SHARP_ORDER[i]!, 1);
    for (let i = 0; i < -sharps; i++) key.set(FLAT_ORDER[i]!, -1);
  }
  for (const token of tokens.slice(index)) {
    if (token === "exp") {
      key.clear();
      continue;
    }
    const explicit = /^(\^\^|\^|__|_|=)([A-Ga-g])$/.exec(token);
    if (explicit) {
      key.set(explicit[2]!.toUpperCase(), accidentalValue(explicit[1]!)!);
      continue;
    }
    if (token.includes("=") || CLEF_WORDS.has(token.toLowerCase()) || /^[+-]?\d+$/.test(token)) continue;
    return fail(`unexpected "${token}" in K: field`);
  }
  return key;
}

function parseFractionText(text: string): Fraction | undefined {
  const match = /^\s*(\d{1,4})\s*\/\s*(\d{1,4})\s*$/.exec(text);
  if (!match) return undefined;
  const num = Number(match[1]);
  const den = Number(match[2]);
  return num > 0 && den > 0 ? new Fraction(num, den) : undefined;
}

function parseMeter(value: string, fail: (message: string) => never): Meter | null {
  const text = value.trim();
  if (text === "" || /^none$/i.test(text)) return null;
  if (text === "C") return { numerator: 4, denominator: 4 };
  if (text === "C|") return { numerator: 2, denominator: 2 };
  const match = /^\(?\s*(\d{1,3}(?:\s*\+\s*\d{1,3})*)\s*\)?\s*\/\s*(\d{1,3})$/.exec(text);
  if (!match) return fail(`meter "${text}" is not understood (use e.g. 6/8, C, C| or none)`);
  const numerator = match[1]!.split("+").reduce((sum, part) => sum + Number(part), 0);
  const denominator = Number(match[2]);
  if (numerator < 1 || numerator > 255) return fail(`meter numerator ${numerator} is out of range`);
  if (![1, 2, 4, 8, 16, 32, 64].includes(denominator)) {
    return fail(`meter denominator ${denominator} is not a power of two up to 64 (MIDI cannot store it)`);
  }
  return { numerator, denominator };
}

function parseUnit(value: string, fail: (message: string) => never): Fraction {
  const unit = parseFractionText(value) ?? (/^\s*1\s*$/.test(value) ? new Fraction(1) : undefined);
  if (!unit) return fail(`unit note length "${value.trim()}" is not understood (use e.g. L:1/8)`);
  return unit;
}

/** Q: field -> quarter notes per minute. */
function parseTempo(value: string, unit: Fraction, fail: (message: string) => never): number {
  const text = value.replace(/"[^"]*"/g, " ").trim();
  let beat = unit;
  let bpmText = text;
  const eq = text.indexOf("=");
  if (eq >= 0) {
    const left = text.slice(0, eq).trim();
    bpmText = text.slice(eq + 1).trim();
    if (left === "C" || left === "") beat = unit;
    else {
      let sum = Fraction.ZERO;
      for (const part of left.split(/\s+/)) {
        const f = parseFractionText(part);
        if (!f) return fail(`tempo beat "${part}" is not a note length like 1/4`);
        sum = sum.add(f);
      }
      beat = sum;
    }
  }
  if (text === "") return 0;
  const bpm = Number(bpmText);
  if (!Number.isFinite(bpm) || bpm <= 0 || bpm > 10_000)
    return fail(`tempo "${bpmText}" is not a positive number`);
  return bpm * beat.toNumber() * 4;
}

interface Line {
  readonly text: string;
  /** 1-based line number in the file. */
  readonly number: number;
}

/** Removes a % comment (not \%) from a line. */
function stripComment(text: string): string {
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "%" && text[i - 1] !== "\\") return text.slice(0, i);
  }
  return text;
}

/** The parameters every `abc -> midi` record carries (the import and the projection registry write the same). */
export function abcProjectionParams(tune: AbcTune): Record<string, unknown> {
  return {
    version: ABC_PROJECTION_VERSION,
    tune: tune.tune,
    ppq: tune.sequence.ppq,
    defaultVelocity: ABC_DEFAULT_VELOCITY,
    repeats: "expanded",
    rounded: tune.rounded,
  };
}

/** A tune of an ABC file, as listed before parsing it. */
export interface AbcTuneRef {
  /** 1-based position in the file. */
  readonly tune: number;
  /** The X: reference number as written ("" for a file without X: lines). */
  readonly x: string;
  /** The first T: of the tune, "" when it has none. */
  readonly title: string;
  /** 1-based line of its X: field. */
  readonly line: number;
}

interface SplitFile {
  readonly lines: readonly Line[];
  /** Line indices of the X: fields. */
  readonly starts: readonly number[];
  /** Field lines of the file header (before the first X:, up to the first blank line): defaults for every tune. */
  readonly header: readonly Line[];
}

function splitFile(bytes: Uint8Array, file: string): SplitFile {
  const source = decodeUtf8(bytes, file).replace(/^\uFEFF/, "");
  const lines = source.split(/\r\n|\r|\n/).map((text, i) => ({ text, number: i + 1 }));
  const starts: number[] = [];
  for (const [i, line] of lines.entries()) if (/^X:/.test(line.text)) starts.push(i);
  const header: Line[] = [];
  for (let i = 0; i < (starts[0] ?? 0); i++) {
    const line = lines[i]!;
    if (line.text.trim() === "") break;
    // X: and T: name one tune; K: ends a tune header, so none of them is a file-wide default.
    if (/^[A-WYZa-z+]:/.test(line.text) && !/^[TK]:/.test(line.text)) header.push(line);
    else if (line.text.startsWith("%%")) header.push(line);
  }
  return { lines, starts, header };
}

/** The tunes of an ABC file, in order (one entry, tune 1, for a file without X: lines). */
export function listAbcTunes(bytes: Uint8Array, file: string): AbcTuneRef[] {
  const { lines, starts } = splitFile(bytes, file);
  if (starts.length === 0) {
    const title =
      lines
        .find((l) => /^T:/.test(l.text))
        ?.text.slice(2)
        .trim() ?? "";
    return [{ tune: 1, x: "", title, line: 1 }];
  }
  return starts.map((start, index) => {
    let title = "";
    for (let i = start + 1; i < lines.length; i++) {
      const text = lines[i]!.text;
      if (text.trim() === "" || /^[XK]:/.test(text)) break;
      if (/^T:/.test(text)) {
        title = text.slice(2).trim();
        break;
      }
    }
    return { tune: index + 1, x: lines[start]!.text.slice(2).trim(), title, line: start + 1 };
  });
}

/** Parses one tune of an ABC file (`tune`: 1-based position, default the first) into a MidiSequence. */
export function parseAbc(bytes: Uint8Array, file: string, options: { readonly tune?: number } = {}): AbcTune {
  const split = splitFile(bytes, file);
  const tune = options.tune ?? 1;
  const count = Math.max(1, split.starts.length);
  if (!(Number.isInteger(tune) && tune >= 1 && tune <= count)) {
    throw new EncodingError(
      file,
      `there is no tune ${tune}: the file has ${count} tune${count === 1 ? "" : "s"}`,
      `Choose a tune from 1 to ${count}`,
    );
  }
  try {
    return parseTune(split, tune);
  } catch (error) {
    if (error instanceof AbcSyntaxError) {
      throw new EncodingError(
        file,
        `${error.line}:${error.column}: ${error.message}`,
        "Fix the ABC at that position",
      );
    }
    if (error instanceof RangeError)
      throw new EncodingError(file, error.message, "Simplify the note lengths");
    throw error;
  }
}

function parseTune(split: SplitFile, tune: number): AbcTune {
  const allLines = split.lines;
  const tunesInFile = split.starts.length;
  let startIndex = split.starts[tune - 1] ?? -1;
  if (startIndex < 0) startIndex = allLines.findIndex((l) => /^[A-Za-z]:/.test(l.text));
  if (startIndex < 0) throw new AbcSyntaxError(1, 1, "no ABC tune found (expected an X: or K: field)");
  const x = split.starts.length > 0 ? allLines[startIndex]!.text.slice(2).trim() : "";
  // The tune's own fields come after the file header's, so they override its defaults.
  const lines: Line[] = [allLines[startIndex]!, ...(split.starts.length > 0 ? split.header : [])];
  for (let i = startIndex + 1; i < allLines.length; i++) {
    const line = allLines[i]!;
    if (/^X:/.test(line.text) || line.text.trim() === "") break;
    lines.push(line);
  }

  const fields: Record<string, string[]> = {};
  let headerUnit: Fraction | null = null;
  let headerMeter: Meter | null = { numerator: 4, denominator: 4 };
  let meterGiven = false;
  let headerKey: Accidentals = new Map();
  let tempoText: { value: string; line: number } | null = null;
  let defaultProgram = 0;
  const voices = new Map<string, Voice>();
  const voiceOrder: string[] = [];
  let bodyStart = -1;

  const failAt = (line: number, column: number) => (message: string) => {
    throw new AbcSyntaxError(line, column, message);
  };

  const unitFor = () =>
    headerUnit ??
    (meterGiven && headerMeter && headerMeter.numerator / headerMeter.denominator < 0.75
      ? new Fraction(1, 16)
      : new Fraction(1, 8));

  const makeVoice = (id: string, name: string): Voice => {
    const voice: Voice = {
      id,
      name,
      program: defaultProgram,
      key: headerKey,
      unit: unitFor(),
      meter: headerMeter,
      items: [],
      barAccidentals: new Map(),
      tieCarry: new Map(),
      velocity: ABC_DEFAULT_VELOCITY,
      lastNote: null,
      brokenFactor: null,
      tuplet: null,
    };
    voices.set(id, voice);
    voiceOrder.push(id);
    return voice;
  };

  const parseVoiceField = (value: string, line: number): { id: string; name: string } => {
    const id = value.trim().split(/\s+/)[0] ?? "";
    if (!id) throw new AbcSyntaxError(line, 3, "V: field without a voice id");
    const named = /(?:name|nm)\s*=\s*(?:"([^"]*)"|(\S+))/.exec(value);
    return { id, name: named ? (named[1] ?? named[2] ?? id) : id };
  };

  const midiDirective = (text: string, line: number, voice: Voice | null) => {
    const program = /^%%MIDI\s+program\s+(?:\d+\s+)?(\d+)\s*$/.exec(text.trim());
    if (!program) return;
    const number = Number(program[1]);
    if (number > 127) throw new AbcSyntaxError(line, 1, `MIDI program ${number} is out of range (0..127)`);
    if (voice) voice.program = number;
    else defaultProgram = number;
  };

  // Header: up to and including K:.
  for (let i = 0; i < lines.length; i++) {
    const { text, number } = lines[i]!;
    if (text.startsWith("%%")) {
      midiDirective(text, number, null);
      continue;
    }
    const content = stripComment(text);
    if (content.trim() === "") continue;
    const field = /^([A-Za-z+]):(.*)$/.exec(content);
    if (!field) {
      if (i === 0) continue;
      throw new AbcSyntaxError(number, 1, "music before the K: field (the header must end with K:)");
    }
    const [, letter, rawValue] = field as unknown as [string, string, string];
    const value = rawValue.trim();
    const list = fields[letter] ?? [];
    list.push(value);
    fields[letter] = list;
    const fail = failAt(number, 3);
    if (letter === "M") {
      headerMeter = parseMeter(value, fail);
      meterGiven = true;
    } else if (letter === "L") headerUnit = parseUnit(value, fail);
    else if (letter === "Q") tempoText = { value, line: number };
    else if (letter === "V") {
      const { id, name } = parseVoiceField(value, number);
      if (!voices.has(id)) makeVoice(id, name);
    } else if (letter === "K") {
      headerKey = parseKey(value, fail);
      bodyStart = i + 1;
      break;
    }
  }
  if (bodyStart < 0)
    throw new AbcSyntaxError(lines.at(-1)?.number ?? 1, 1, "the tune has no K: field (it ends the header)");
  for (const voice of voices.values()) {
    voice.key = headerKey;
    voice.unit = unitFor();
    voice.meter = headerMeter;
  }
  const unit = unitFor();
  const headerTempo = (tempoText && parseTempo(tempoText.value, unit, failAt(tempoText.line, 3))) || 120;
  const title = fields["T"]?.[0] ?? "";

  const autoVoice = voiceOrder.length === 0;
  let current: Voice = autoVoice ? makeVoice("1", title || "Tune") : voices.get(voiceOrder[0]!)!;
  const switchVoice = (value: string, line: number) => {
    const { id, name } = parseVoiceField(value, line);
    current = voices.get(id) ?? makeVoice(id, name);
  };

  const applyField = (letter: string, value: string, line: number, column: number) => {
    const fail = failAt(line, column);
    switch (letter) {
      case "K":
        current.key = parseKey(value, fail);
        current.barAccidentals.clear();
        break;
      case "M": {
        current.meter = parseMeter(value, fail);
        if (current.meter) current.items.push({ kind: "meter", ...current.meter });
        break;
      }
      case "L":
        current.unit = parseUnit(value, fail);
        break;
      case "Q": {
        const bpm = parseTempo(value, current.unit, fail);
        if (bpm > 0) current.items.push({ kind: "tempo", bpm });
        break;
      }
      case "V":
        switchVoice(value, line);
        break;
      default:
        break;
    }
  };

  for (let i = bodyStart; i < lines.length; i++) {
    const { text, number } = lines[i]!;
    if (text.startsWith("%%")) {
      midiDirective(text, number, current);
      continue;
    }
    const content = stripComment(text);
    const field = /^([A-Zmrsw+]):(.*)$/.exec(content);
    if (field) {
      applyField(field[1]!, field[2]!.trim(), number, 3);
      continue;
    }
    parseMusicLine(content, number);
  }

  function parseMusicLine(text: string, lineNumber: number): void {
    let pos = 0;
    const fail = (message: string, at = pos): never => {
      throw new AbcSyntaxError(lineNumber, at + 1, message);
    };
    const peek = (offset = 0) => text[pos + offset] ?? "";
    const readInt = (): number | undefined => {
      const match = /^\d+/.exec(text.slice(pos));
      if (!match) return undefined;
      if (match[0].length > 5) fail(`number ${match[0]} is too large`);
      pos += match[0].length;
      return Number(match[0]);
    };
    const readLength = (): Fraction => {
      const start = pos;
      const num = readInt() ?? 1;
      let den = 1;
      while (peek() === "/") {
        pos += 1;
        den *= readInt() ?? 2;
      }
      if (num === 0 || den === 0) fail("a note length of 0", start);
      if (num > 1024 || den > 1024)
        fail("a note length out of range (at most 1024 units, at least 1/1024)", start);
      return new Fraction(num, den);
    };
    const readPitch = ():
      | { pitch: number; length: Fraction; tie: boolean; spelling: Spelling }
      | undefined => {
      const start = pos;
      const accidental = /^(\^\^|\^|__|_|=)/.exec(text.slice(pos))?.[0];
      if (accidental) pos += accidental.length;
      const letter = peek();
      if (!/[A-Ga-g]/.test(letter)) {
        if (accidental) fail(`accidental "${accidental}" without a note`, start);
        return undefined;
      }
      pos += 1;
      let octave = letter === letter.toLowerCase() ? 5 : 4;
      while (peek() === "," || peek() === "'") {
        octave += peek() === "," ? -1 : 1;
        pos += 1;
      }
      const upper = letter.toUpperCase();
      const barKey = `${upper}${octave}`;
      if (accidental) current.barAccidentals.set(barKey, accidentalValue(accidental)!);
      const shift =
        current.barAccidentals.get(barKey) ?? current.tieCarry.get(barKey) ?? current.key.get(upper) ?? 0;
      const pitch = 12 * (octave + 1) + NOTE_SEMITONES[upper]! + shift;
      if (pitch < 0 || pitch > 127) fail(`note ${text.slice(start, pos)} is outside the MIDI range`, start);
      const length = readLength();
      let tie = false;
      if (peek() === "-") {
        tie = true;
        pos += 1;
      }
      return { pitch, length, tie, spelling: { barKey, shift } };
    };
    const pushNote = (item: NoteItem) => {
      let factor = new Fraction(1);
      if (current.brokenFactor) {
        factor = factor.mul(current.brokenFactor);
        current.brokenFactor = null;
      }
      if (current.tuplet) {
        factor = factor.mul(current.tuplet.factor);
        current.tuplet.remaining -= 1;
        if (current.tuplet.remaining <= 0) current.tuplet = null;
      }
      item.advance = item.advance.mul(factor);
      for (const p of item.pitches) p.duration = p.duration.mul(factor);
      current.items.push(item);
      current.lastNote = item;
      current.tieCarry.clear();
    };
    const scaleLast = (factor: Fraction) => {
      const last = current.lastNote!;
      last.advance = last.advance.mul(factor);
      for (const p of last.pitches) p.duration = p.duration.mul(factor);
    };
    const readBar = () => {
      const start = pos;
      let run = "";
      while (/[|:\]]/.test(peek()) || (peek() === "[" && peek(1) === "|")) {
        run += peek();
        pos += 1;
      }
      if (run === ":") fail('a lone ":" (use |: or :| for repeats)', start);
      const endRepeat = run.startsWith(":");
      const startRepeat = run.endsWith(":") && run.length > 1;
      current.items.push({ kind: "bar", startRepeat, endRepeat });
      current.barAccidentals = new Map();
      // An accidental on a note tied across the bar line holds for the note it is tied to.
      current.tieCarry = new Map();
      for (const p of current.lastNote?.pitches ?? []) {
        if (p.tie && p.spelling) current.tieCarry.set(p.spelling.barKey, p.spelling.shift);
      }
      if (/\d/.test(peek())) readEnding();
    };
    const readEnding = () => {
      const start = pos;
      const match = /^\d+(?:[,-]\d+)*/.exec(text.slice(pos));
      if (!match) return fail("expected an ending number after [", start);
      pos += match[0].length;
      const numbers: number[] = [];
      for (const part of match[0].split(",")) {
        const [a, b] = part.split("-").map(Number) as [number, number | undefined];
        for (let n = a; n <= (b ?? a); n++) numbers.push(n);
      }
      if (numbers.length === 0 || numbers.some((n) => n < 1 || n > 16))
        fail("ending numbers must be 1..16", start);
      current.items.push({ kind: "ending", numbers });
    };
    const skipUntil = (close: string, what: string) => {
      const start = pos;
      const end = text.indexOf(close, pos + 1);
      if (end < 0) fail(`unterminated ${what} (missing ${close})`, start);
      const inner = text.slice(pos + 1, end);
      pos = end + 1;
      return inner;
    };

    while (pos < text.length) {
      const c = peek();
      const start = pos;
      if (c === " " || c === "\t" || c === "`" || c === "y" || c === "$" || c === "*") {
        pos += 1;
      } else if (c === "\\" && text.slice(pos + 1).trim() === "") {
        pos = text.length;
      } else if (c === '"') {
        skipUntil('"', "chord symbol or annotation");
      } else if (c === "!" || (c === "+" && text.indexOf("+", pos + 1) > pos)) {
        const name = skipUntil(c, "decoration");
        const velocity = DYNAMICS[name];
        if (velocity !== undefined) current.velocity = velocity;
      } else if (c === "{") {
        skipUntil("}", "grace notes");
      } else if (c === "(") {
        pos += 1;
        if (/\d/.test(peek())) {
          const p = readInt()!;
          if (p < 2 || p > 9) fail(`tuplet (${p} is not supported (2..9)`, start);
          let q: number | undefined;
          let r: number | undefined;
          if (peek() === ":") {
            pos += 1;
            q = readInt();
            if (peek() === ":") {
              pos += 1;
              r = readInt();
            }
          }
          const compound =
            current.meter !== null && current.meter.numerator % 3 === 0 && current.meter.numerator > 3;
          const defaultQ: Record<number, number> = { 2: 3, 3: 2, 4: 3, 6: 2, 8: 3 };
          const qValue = q ?? defaultQ[p] ?? (compound ? 3 : 2);
          if (qValue < 1 || qValue > 16) fail(`tuplet ratio ${p}:${qValue} is not supported`, start);
          const count = r ?? p;
          if (count < 1 || count > 64) fail(`tuplet of ${count} notes is not supported`, start);
          current.tuplet = { factor: new Fraction(qValue, p), remaining: count };
        }
      } else if (c === ")") {
        pos += 1;
      } else if (c === "[" && /[A-Za-z]/.test(peek(1)) && peek(2) === ":") {
        const inner = skipUntil("]", "inline field");
        applyField(inner[0]!, inner.slice(2).trim(), lineNumber, start + 4);
      } else if (c === "[" && /\d/.test(peek(1))) {
        pos += 1;
        readEnding();
      } else if (c === "|" || c === ":" || (c === "[" && peek(1) === "|")) {
        readBar();
      } else if (c === "[") {
        pos += 1;
        const pitches: NoteItem["pitches"] = [];
        let advance: Fraction | null = null;
        while (peek() !== "]") {
          if (pos >= text.length) fail("unterminated chord (missing ])", start);
          if (peek() === " " || peek() === "!" || peek() === '"' || /[.~HLMOPSTuv]/.test(peek())) {
            if (peek() === "!" || peek() === '"') skipUntil(peek(), "decoration");
            else pos += 1;
            continue;
          }
          const note = readPitch();
          if (!note) fail(`unexpected "${peek()}" inside a chord`);
          else {
            pitches.push({
              pitch: note.pitch,
              duration: note.length.mul(current.unit),
              tie: note.tie,
              spelling: note.spelling,
            });
            advance ??= note.length.mul(current.unit);
          }
        }
        pos += 1;
        if (!advance) {
          fail("empty chord []", start);
          return;
        }
        const multiplier = readLength();
        const tieAll = peek() === "-";
        if (tieAll) pos += 1;
        for (const p of pitches) {
          p.duration = p.duration.mul(multiplier);
          if (tieAll) p.tie = true;
        }
        pushNote({ kind: "note", pitches, advance: advance.mul(multiplier), velocity: current.velocity });
      } else if (/[\^_=A-Ga-g]/.test(c)) {
        const note = readPitch()!;
        const duration = note.length.mul(current.unit);
        pushNote({
          kind: "note",
          pitches: [{ pitch: note.pitch, duration, tie: note.tie, spelling: note.spelling }],
          advance: duration,
          velocity: current.velocity,
        });
      } else if (c === "z" || c === "x") {
        pos += 1;
        const duration = readLength().mul(current.unit);
        pushNote({ kind: "note", pitches: [], advance: duration, velocity: 0 });
      } else if (c === "Z" || c === "X") {
        pos += 1;
        const bars = readInt() ?? 1;
        if (!current.meter) fail("a multi-bar rest Z needs a meter (M:)", start);
        else {
          if (bars < 1 || bars > 1000) fail(`a rest of ${bars} bars is out of range`, start);
          const barLength = new Fraction(current.meter.numerator, current.meter.denominator);
          current.items.push({
            kind: "note",
            pitches: [],
            advance: barLength.mul(new Fraction(bars)),
            velocity: 0,
          });
          current.lastNote = null;
        }
      } else if (c === ">" || c === "<") {
        let n = 0;
        while (peek() === c) {
          n += 1;
          pos += 1;
        }
        if (n > 3) fail(`broken rhythm "${c.repeat(n)}" (at most 3)`, start);
        if (!current.lastNote) fail(`broken rhythm "${c}" without a note before it`, start);
        const shrink = new Fraction(1, 2 ** n);
        const grow = new Fraction(2 ** (n + 1) - 1, 2 ** n);
        scaleLast(c === ">" ? grow : shrink);
        current.brokenFactor = c === ">" ? shrink : grow;
      } else if (c === "-") {
        if (!current.lastNote || current.lastNote.pitches.length === 0)
          fail('a tie "-" without a note before it');
        for (const p of current.lastNote!.pitches) p.tie = true;
        pos += 1;
      } else if (/[.~HLMOPSTRJuv]/.test(c)) {
        pos += 1;
      } else if (c === "&") {
        fail("voice overlay (&) is not supported; write the overlay as its own V: voice");
      } else {
        fail(`unexpected "${c}"`);
      }
    }
  }

  const played = voiceOrder
    .map((id) => voices.get(id)!)
    .filter((v, index) => !(autoVoice && index === 0 && v.items.length === 0 && voiceOrder.length > 1));
  return {
    ...buildSequence({ fields, title, voices: played, headerTempo, headerMeter, tunesInFile }),
    tune,
    x,
  };
}

/** Whether an ending numbered above `pass` follows before the next start of a repeat. */
function laterEnding(items: readonly Item[], from: number, pass: number): boolean {
  for (let j = from; j < items.length; j++) {
    const item = items[j]!;
    if (item.kind === "bar" && item.startRepeat) return false;
    if (item.kind === "ending" && item.numbers.some((n) => n > pass)) return true;
  }
  return false;
}

/**
 * Follows repeats and endings: the items in playing order. A :| inside the last ending of a section (no later
 * ending follows) does not repeat again: it closes the section, so `[2 ... ::` starts the next one.
 */
function expandRepeats(items: readonly Item[]): Item[] {
  const out: Item[] = [];
  const taken = new Set<number>();
  let sectionStart = 0;
  let pass = 1;
  let inEndings = false;
  let i = 0;
  while (i < items.length) {
    const item = items[i]!;
    if (item.kind === "bar") {
      const next = items[i + 1];
      if (item.endRepeat && !taken.has(i) && (!inEndings || laterEnding(items, i + 1, pass))) {
        taken.add(i);
        pass += 1;
        inEndings = false;
        i = sectionStart;
        continue;
      }
      if (item.startRepeat) {
        sectionStart = i + 1;
        pass = 1;
        inEndings = false;
      } else if (next?.kind !== "ending" && (item.endRepeat || inEndings)) {
        sectionStart = i + 1;
        pass = 1;
        inEndings = false;
      }
      i += 1;
      continue;
    }
    if (item.kind === "ending") {
      inEndings = true;
      if (item.numbers.includes(pass)) {
        i += 1;
        continue;
      }
      let j = i + 1;
      while (j < items.length) {
        const candidate = items[j]!;
        if (candidate.kind === "bar" && candidate.endRepeat) {
          j += 1;
          break;
        }
        if (candidate.kind === "ending" || (candidate.kind === "bar" && candidate.startRepeat)) break;
        j += 1;
      }
      i = j;
      continue;
    }
    out.push(item);
    if (out.length > MAX_EXPANDED_EVENTS) {
      throw new RangeError(`the tune expands to more than ${MAX_EXPANDED_EVENTS} events with its repeats`);
    }
    i += 1;
  }
  return out;
}

interface TimedNote {
  readonly pitch: number;
  readonly velocity: number;
  readonly start: Fraction;
  duration: Fraction;
}

function buildSequence(input: {
  fields: Record<string, string[]>;
  title: string;
  voices: Voice[];
  headerTempo: number;
  headerMeter: Meter | null;
  tunesInFile: number;
}): Omit<AbcTune, "tune" | "x"> {
  const tempoAt: Array<{ at: Fraction; bpm: number }> = [{ at: Fraction.ZERO, bpm: input.headerTempo }];
  const meterAt: Array<{ at: Fraction; meter: Meter }> = [
    { at: Fraction.ZERO, meter: input.headerMeter ?? { numerator: 4, denominator: 4 } },
  ];
  const voiceNotes: TimedNote[][] = [];
  let end = Fraction.ZERO;
  for (const voice of input.voices) {
    let time = Fraction.ZERO;
    const notes: TimedNote[] = [];
    const pendingTies = new Map<number, TimedNote>();
    for (const item of expandRepeats(voice.items)) {
      if (item.kind === "tempo") tempoAt.push({ at: time, bpm: item.bpm });
      else if (item.kind === "meter") meterAt.push({ at: time, meter: item });
      else if (item.kind === "note") {
        const stillTied = new Map<number, TimedNote>();
        for (const p of item.pitches) {
          const tied = pendingTies.get(p.pitch);
          let note: TimedNote;
          if (tied?.start.add(tied.duration).equals(time)) {
            tied.duration = tied.duration.add(p.duration);
            note = tied;
          } else {
            note = { pitch: p.pitch, velocity: item.velocity, start: time, duration: p.duration };
            notes.push(note);
          }
          if (p.tie) stillTied.set(p.pitch, note);
        }
        pendingTies.clear();
        for (const [pitch, note] of stillTied) pendingTies.set(pitch, note);
        time = time.add(item.advance);
      }
    }
    for (const n of notes) if (n.start.add(n.duration).compare(end) > 0) end = n.start.add(n.duration);
    if (time.compare(end) > 0) end = time;
    voiceNotes.push(notes);
  }

  // Smallest ppq that is a multiple of 480 and puts every time on the tick grid (whole note = 4 * ppq).
  let ppq = BASE_PPQ;
  const needed = (f: Fraction) => {
    if (ppq <= 0x7fff) ppq = lcm(ppq, f.mul(new Fraction(4)).den);
  };
  for (const notes of voiceNotes) {
    for (const n of notes) {
      needed(n.start);
      needed(n.duration);
    }
  }
  for (const t of tempoAt) needed(t.at);
  for (const m of meterAt) needed(m.at);
  needed(end);
  let rounded = false;
  if (ppq > 0x7fff) {
    ppq = 960;
    rounded = true;
  }
  const ticks = (f: Fraction) => Math.round(f.toNumber() * 4 * ppq);

  const tracks: MidiTrack[] = input.voices.map((voice, index) => {
    const notes: MidiNote[] = voiceNotes[index]!.map((n) => ({
      pitch: n.pitch,
      velocity: n.velocity,
      startTick: ticks(n.start),
      durationTicks: ticks(n.duration),
    })).sort((a, b) => a.startTick - b.startTick || a.pitch - b.pitch);
    const channel = index < 9 ? index : index + 1;
    return { name: voice.name, channel: channel & 0x0f, program: voice.program, notes, controlChanges: [] };
  });
  const byTick = <T extends { tick: number }>(events: T[]): T[] => {
    const map = new Map<number, T>();
    for (const e of events) map.set(e.tick, e);
    return [...map.values()].sort((a, b) => a.tick - b.tick);
  };
  const tempos: MidiTempoChange[] = byTick(tempoAt.map((t) => ({ tick: ticks(t.at), bpm: t.bpm })));
  const meters: MidiMeterChange[] = byTick(
    meterAt.map((m) => ({
      tick: ticks(m.at),
      numerator: m.meter.numerator,
      denominator: m.meter.denominator,
    })),
  );
  return {
    fields: input.fields,
    title: input.title,
    voices: input.voices.map((v) => v.id),
    tunesInFile: Math.max(1, input.tunesInFile),
    sequence: { ppq, tempos, meters, tracks, durationTicks: ticks(end) },
    rounded,
  };
}
