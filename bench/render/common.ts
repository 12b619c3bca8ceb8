// Shared by the issue-5 benchmarks in bench/render (bounce, edit latency, play start, soak): the machine record,
// percentiles, the capture scan and the projects they run on. Callers: bench/render/*.ts only (not npm test).
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { regionSpec } from "../../app/core/canvas/region-spec";
import {
  applyCommands,
  emptyDocument,
  type IdSource,
  newHead,
  newLane,
  newRegion,
  type ProjectDocument,
} from "../../app/core/document";
import { createTempoMap } from "../../app/core/time/tempo-map";
import { openProject, saveProject } from "../../app/project/project";
import { importBytes } from "../../app/spaces/import";
import type { MidiSequence } from "../../app/spaces/midi/sequence";
import { writeMidi } from "../../app/spaces/midi/smf";
import { openLibrary } from "../../app/store";

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const RESULTS_DIR = join(REPO, "bench/results");

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly node: string;
  readonly commit: string;
}

export function machine(): Machine {
  let commit = "unknown";
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO, encoding: "utf8" }).trim();
  } catch {
    // not a git checkout
  }
  return {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    commit,
  };
}

export const load = (): readonly number[] => loadavg().map((x) => Math.round(x * 100) / 100);

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function summary(values: readonly number[]): { n: number; p50: number; p95: number; max: number } {
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    n: values.length,
    p50: round(percentile(values, 50)),
    p95: round(percentile(values, 95)),
    max: round(Math.max(...values)),
  };
}

/** Writes bench/results/render-<name>.json (the raw numbers of one run, with its command and machine). */
export function record(name: string, data: Record<string, unknown>): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `render-${name}.json`);
  writeFileSync(
    path,
    `${JSON.stringify({ benchmark: name, date: new Date().toISOString(), ...data }, null, 2)}\n`,
  );
  return path;
}

/** The first interleaved-stereo frame at or after `fromFrame` with a sample whose magnitude exceeds `threshold`. */
export function firstSoundFrame(samples: Float32Array, fromFrame: number, threshold = 0): number {
  for (let i = Math.max(0, fromFrame) * 2; i < samples.length; i++) {
    if (Math.abs(samples[i]!) > threshold) return i >> 1;
  }
  return -1;
}

export function peakOf(samples: Float32Array, fromFrame: number, toFrame: number): number {
  let max = 0;
  const end = Math.min(samples.length, toFrame * 2);
  for (let i = Math.max(0, fromFrame * 2); i < end; i++) max = Math.max(max, Math.abs(samples[i]!));
  return max;
}

export const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Ids that cannot collide with a document's sequential ids. */
export function prefixedIds(prefix: string): IdSource {
  let n = 0;
  return (kind) => `${prefix}-${kind}-${++n}`;
}

/**
 * A project whose lanes hold the tracks of `song` (one lane and one MIDI region per track, each track written as
 * its own .mid and imported through importBytes), one attention head, the song's first tempo.
 */
export async function songProject(dir: string, song: MidiSequence): Promise<ProjectDocument> {
  const library = await openLibrary(join(dir, "library"));
  try {
    const ids = prefixedIds("bench");
    const beats = Math.ceil(
      Math.max(...song.tracks.flatMap((t) => t.notes.map((n) => n.startTick + n.durationTicks))) / song.ppq,
    );
    let document: ProjectDocument = {
      ...emptyDocument(
        createTempoMap(
          [{ atTick: 0, bpm: song.tempos[0]?.bpm ?? 120 }],
          [{ atTick: 0, numerator: 4, denominator: 4 }],
        ),
      ),
      heads: [newHead(ids, { name: "Main", context: { temperature: 1, topP: 1, seed: 1, style: "" } })],
    };
    for (const track of song.tracks) {
      const bytes = writeMidi({ ...song, tracks: [track] });
      const { hash } = await importBytes(library, bytes, `${track.name}.mid`, { creator: "bench/render" });
      const lane = newLane(ids, { name: track.name });
      const region = newRegion(ids, {
        laneId: lane.id,
        name: track.name,
        encodingHash: hash,
        atBeat: 0,
        durationBeats: beats,
        spec: regionSpec([0, beats * 4, 0, 1, 0, 1], { is_output: false }),
      });
      document = applyCommands(document, [
        { kind: "addLane", lane },
        { kind: "addRegion", region },
      ]).document;
    }
    await saveProject(dir, document);
    return document;
  } finally {
    await library.close();
  }
}

/** Adds commands to a saved project (before a session opens it). */
export async function editProject(
  dir: string,
  edit: (doc: ProjectDocument) => ProjectDocument,
): Promise<void> {
  const document = await openProject(dir);
  await saveProject(dir, edit(document));
}

/** Imports a one-note MIDI file (a marker) into the project's library; returns its hash. */
export async function importMarker(dir: string, sequence: MidiSequence, file: string): Promise<string> {
  const library = await openLibrary(join(dir, "library"));
  try {
    return (await importBytes(library, writeMidi(sequence), file, { creator: "bench/render" })).hash;
  } finally {
    await library.close();
  }
}

export function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, "utf8"));
}

/** Files others have changed but not committed when a benchmark ran (the numbers measure that tree). */
export function uncommitted(): string[] {
  try {
    return execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], {
      cwd: REPO,
      encoding: "utf8",
    })
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => line.slice(3));
  } catch {
    return [];
  }
}

/** A one-note marker: a loud sustained organ note (GM 17, channel 4) of `beats` beats at `bpm`. */
export function markerSequence(bpm: number, beats = 2): MidiSequence {
  const ppq = 480;
  return {
    ppq,
    tempos: [{ tick: 0, bpm }],
    meters: [{ tick: 0, numerator: 4, denominator: 4 }],
    tracks: [
      {
        name: "Marker",
        channel: 3,
        program: 16,
        notes: [{ pitch: 81, velocity: 127, startTick: 0, durationTicks: beats * ppq }],
        controlChanges: [],
      },
    ],
    durationTicks: beats * ppq,
  };
}
