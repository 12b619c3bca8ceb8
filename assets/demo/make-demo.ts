// Builds the demo project (assets/demo): MIDI we write (drums, bass, keys, a melody), a shaker loop we synthesize,
// a generative region conditioned on the melody, and two attention heads with different seeds. Deterministic:
// the same bytes and document every run (the document is committed; library/ and cache/ are build outputs).
// Run by `npm run setup` when the library is missing; `--force` rebuilds both (then format the document for the
// repository: `npx biome format --write assets/demo/project.lcanvas.json`).
// Usage: node --import tsx assets/demo/make-demo.ts [DIR] [--force]
import { existsSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { regionSpec } from "../../app/core/canvas/region-spec";
import {
  type AttentionHead,
  type Connection,
  checkDocument,
  emptyDocument,
  type Lane,
  newHead,
  newLane,
  newRegion,
  type ProjectDocument,
  type Region,
  sequentialIds,
  serializeProject,
} from "../../app/core/document";
import { createTempoMap } from "../../app/core/time/tempo-map";
import { openProject, PROJECT_FILE, saveProject } from "../../app/project/project";
import { writeWav } from "../../app/spaces/audio/wav";
import { importBytes } from "../../app/spaces/import";
import type { MidiNote, MidiSequence, MidiTrack } from "../../app/spaces/midi/sequence";
import { writeMidi } from "../../app/spaces/midi/smf";
import { openLibrary } from "../../app/store";

export const DEMO_BPM = 110;
export const DEMO_BARS = 8;
const PPQ = 480;
const BAR = 4 * PPQ;
const SAMPLE_RATE = 48_000;
const CREATOR = "assets/demo/make-demo.ts";

function note(pitch: number, startTick: number, durationTicks: number, velocity: number): MidiNote {
  return { pitch, startTick, durationTicks, velocity };
}

function track(name: string, channel: number, program: number, notes: MidiNote[]): MidiTrack {
  return { name, channel, program, notes, controlChanges: [] };
}

function sequence(tracks: MidiTrack[]): MidiSequence {
  return {
    ppq: PPQ,
    tempos: [{ tick: 0, bpm: DEMO_BPM }],
    meters: [{ tick: 0, numerator: 4, denominator: 4 }],
    tracks,
    durationTicks: DEMO_BARS * BAR,
  };
}

/** A minor pop progression, one chord per bar: Am F C G. */
const CHORDS: readonly (readonly number[])[] = [
  [57, 60, 64],
  [53, 57, 60],
  [55, 60, 64],
  [55, 59, 62],
];
const ROOTS = [45, 41, 48, 43];

export function drums(): MidiSequence {
  const notes: MidiNote[] = [];
  for (let bar = 0; bar < DEMO_BARS; bar++) {
    const at = bar * BAR;
    for (const beat of [0, 2]) notes.push(note(36, at + beat * PPQ, PPQ / 4, 112));
    if (bar % 2 === 1) notes.push(note(36, at + 2.5 * PPQ, PPQ / 4, 92));
    for (const beat of [1, 3]) notes.push(note(38, at + beat * PPQ, PPQ / 4, 104));
    for (let eighth = 0; eighth < 8; eighth++) {
      notes.push(note(42, at + (eighth * PPQ) / 2, PPQ / 8, eighth % 2 === 0 ? 84 : 60));
    }
    if (bar === DEMO_BARS - 1) notes.push(note(49, at + 3.5 * PPQ, PPQ, 96));
  }
  return sequence([track("Drums", 9, 0, notes)]);
}

export function bass(): MidiSequence {
  const notes: MidiNote[] = [];
  for (let bar = 0; bar < DEMO_BARS; bar++) {
    const root = ROOTS[bar % 4]!;
    const pattern = [root, root, root + 12, root, root + 7, root, root + 12, root + 10];
    for (const [eighth, pitch] of pattern.entries()) {
      notes.push(note(pitch, bar * BAR + (eighth * PPQ) / 2, PPQ / 2 - 40, eighth % 2 === 0 ? 100 : 80));
    }
  }
  return sequence([track("Bass", 0, 33, notes)]);
}

export function keys(): MidiSequence {
  const notes: MidiNote[] = [];
  for (let bar = 0; bar < DEMO_BARS; bar++) {
    const chord = CHORDS[bar % 4]!;
    for (const [beat, length, velocity] of [
      [0, 1.5, 78],
      [1.5, 0.5, 64],
      [2, 2, 72],
    ] as const) {
      for (const pitch of chord) notes.push(note(pitch, bar * BAR + beat * PPQ, length * PPQ - 20, velocity));
    }
  }
  return sequence([track("Keys", 1, 4, notes)]);
}

/** The conditioning material of the generative region: a melody over the progression. */
export function melody(): MidiSequence {
  const phrase = [
    [69, 0, 1],
    [72, 1, 0.5],
    [71, 1.5, 0.5],
    [69, 2, 1],
    [64, 3, 1],
    [65, 4, 1.5],
    [69, 5.5, 0.5],
    [72, 6, 2],
    [67, 8, 1],
    [72, 9, 1],
    [76, 10, 1.5],
    [74, 11.5, 0.5],
    [71, 12, 1],
    [74, 13, 1],
    [67, 14, 2],
  ] as const;
  const notes: MidiNote[] = [];
  for (let half = 0; half < DEMO_BARS / 4; half++) {
    for (const [pitch, beat, length] of phrase) {
      notes.push(note(pitch, half * 4 * BAR + beat * PPQ, length * PPQ - 30, 90));
    }
  }
  return sequence([track("Melody", 2, 73, notes)]);
}

/** A two-bar shaker loop: band-limited noise bursts on sixteenths, seeded, stereo, 16-bit. */
export function shakerLoop(): Uint8Array {
  const secondsPerBeat = 60 / DEMO_BPM;
  const frames = Math.round(8 * secondsPerBeat * SAMPLE_RATE);
  const left = new Float32Array(frames);
  const right = new Float32Array(frames);
  let state = 0x1234567;
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32 - 0.5;
  };
  let lowL = 0;
  let lowR = 0;
  const sixteenth = (secondsPerBeat / 4) * SAMPLE_RATE;
  for (let i = 0; i < frames; i++) {
    const step = Math.floor(i / sixteenth);
    const sinceOnset = (i - step * sixteenth) / SAMPLE_RATE;
    const accent = step % 4 === 2 ? 1 : step % 2 === 0 ? 0.55 : 0.35;
    const envelope = accent * Math.exp(-sinceOnset * 38) * Math.min(1, sinceOnset * 2000);
    const nl = random();
    const nr = random();
    lowL += 0.35 * (nl - lowL);
    lowR += 0.35 * (nr - lowR);
    left[i] = Math.fround((nl - lowL) * envelope * 0.5);
    right[i] = Math.fround((nr - lowR) * envelope * 0.5);
  }
  return writeWav({ sampleRate: SAMPLE_RATE, frames, channelData: [left, right] }, "16").bytes;
}

/** Builds the demo project in `dir`: its library, and its document unless `writeDocument` is false. */
export async function makeDemo(
  dir: string,
  options: { writeDocument?: boolean } = {},
): Promise<ProjectDocument> {
  const library = await openLibrary(join(dir, "library"));
  const put = async (bytes: Uint8Array, file: string) =>
    (await importBytes(library, bytes, file, { creator: CREATOR })).hash;
  try {
    const ids = sequentialIds();
    const lanes: Lane[] = [
      newLane(ids, { name: "Drums", color: "#e05d5d", gainDb: -1 }),
      newLane(ids, { name: "Bass", color: "#e0a040", gainDb: -3, pan: -0.1 }),
      newLane(ids, { name: "Keys", color: "#5b8def", gainDb: -6, pan: -0.35 }),
      newLane(ids, { name: "Shaker", color: "#9bd770", gainDb: -9, pan: 0.4 }),
      newLane(ids, { name: "Melody (generated)", color: "#c77dff", gainDb: -5, pan: 0.25 }),
    ];
    const [drumLane, bassLane, keysLane, shakerLane, melodyLane] = lanes.map((lane) => lane.id) as [
      string,
      string,
      string,
      string,
      string,
    ];
    const beats = DEMO_BARS * 4;
    const midiRegion = (laneId: string, name: string, hash: string, color: string, period = 1): Region =>
      newRegion(ids, {
        laneId,
        name,
        color,
        encodingHash: hash,
        atBeat: 0,
        durationBeats: beats,
        spec: regionSpec([0, beats * 4, 0, 1, 0, 1], { is_output: false, period }),
      });
    const regions: Region[] = [
      midiRegion(drumLane, "Groove", await put(writeMidi(drums()), "drums.mid"), "#e05d5d"),
      midiRegion(bassLane, "Bass line", await put(writeMidi(bass()), "bass.mid"), "#e0a040"),
      // Chords change once a bar: the keys region updates every 16 canvas frames (sixteenths).
      midiRegion(keysLane, "Comping", await put(writeMidi(keys()), "keys.mid"), "#5b8def", 16),
    ];
    const shaker = await put(shakerLoop(), "shaker.wav");
    for (let at = 0; at < beats; at += 8) {
      regions.push(
        newRegion(ids, {
          laneId: shakerLane,
          name: "Shaker loop",
          color: "#9bd770",
          encodingHash: shaker,
          atBeat: at,
          durationBeats: 8,
          spec: regionSpec([at * 4, (at + 8) * 4, 0, 1, 0, 1], { is_output: false }),
        }),
      );
    }
    const variation = newRegion(ids, {
      laneId: melodyLane,
      name: "Variation",
      color: "#c77dff",
      encodingHash: await put(writeMidi(melody()), "melody.mid"),
      atBeat: 0,
      durationBeats: beats,
      spec: regionSpec([0, beats * 4, 0, 1, 0, 1], { is_output: true, carrier: "diffusive", period: 4 }),
    });
    regions.push(variation);
    // The generated melody reads the chords, each held until the next bar.
    const connections: Connection[] = [
      {
        srcRegionId: variation.id,
        dstRegionId: regions[2]!.id,
        weight: 1,
        temporalFill: "hold",
        interpolationOrder: 1,
      },
    ];
    const heads: AttentionHead[] = [
      newHead(ids, {
        name: "Alpha",
        color: "#ff6b6b",
        gainDb: -3,
        context: { temperature: 0.8, topP: 0.95, seed: 1, style: "close to the theme" },
      }),
      newHead(ids, {
        name: "Beta",
        color: "#4ecdc4",
        gainDb: -3,
        loopStartBeat: 16,
        loopEndBeat: 32,
        loopEnabled: false,
        context: { temperature: 1.3, topP: 0.9, seed: 2, style: "restless" },
      }),
    ];
    const document: ProjectDocument = Object.freeze({
      ...emptyDocument(
        createTempoMap([{ atTick: 0, bpm: DEMO_BPM }], [{ atTick: 0, numerator: 4, denominator: 4 }]),
      ),
      lanes: Object.freeze(lanes),
      regions: Object.freeze(regions),
      heads: Object.freeze(heads),
      connections: Object.freeze(connections),
    });
    checkDocument(document);
    if (options.writeDocument !== false) await saveProject(dir, document);
    return document;
  } finally {
    await library.close();
  }
}

async function main(argv: string[]): Promise<void> {
  const force = argv.includes("--force");
  const dir = resolve(argv.find((a) => !a.startsWith("--")) ?? dirname(fileURLToPath(import.meta.url)));
  if (existsSync(join(dir, "library", "graph.sqlite")) && existsSync(join(dir, PROJECT_FILE)) && !force) {
    process.stdout.write(`[demo] ${dir} is already built (--force rebuilds it)\n`);
    return;
  }
  for (const part of ["library", "cache"]) rmSync(join(dir, part), { recursive: true, force: true });
  // The committed document is kept as it is (formatted for the repository); only --force rewrites it.
  const file = join(dir, PROJECT_FILE);
  const keep = existsSync(file) && !force;
  const document = await makeDemo(dir, { writeDocument: !keep });
  if (keep && serializeProject(await openProject(dir)) !== serializeProject(document)) {
    process.stderr.write(
      `[demo] ${file} differs from what this generator makes: run it with --force to rebuild\n`,
    );
    process.exitCode = 1;
  }
  process.stdout.write(
    `[demo] built ${dir}: ${document.lanes.length} lanes, ${document.regions.length} regions, ${document.heads.length} heads\n`,
  );
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main(process.argv.slice(2));
}
