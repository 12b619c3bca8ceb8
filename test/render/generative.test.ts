import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { regionSpec } from "../../app/core/canvas/region-spec";
import {
  applyCommands,
  type Command,
  connectRegions,
  emptyDocument,
  newHead,
  newLane,
  newRegion,
  type ProjectDocument,
  type Region,
  sequentialIds,
  type TemporalFill,
} from "../../app/core/document";
import {
  createRealizer,
  RealizeError,
  realizeGenerative,
  resolveConditioning,
} from "../../app/render/generative";
import { writeWav } from "../../app/spaces/audio/wav";
import { importBytes } from "../../app/spaces/import";
import type { MidiNote, MidiSequence } from "../../app/spaces/midi/sequence";
import { importMidi, writeMidi } from "../../app/spaces/midi/smf";
import { MarkovSampler } from "../../app/spaces/samplers/markov";
import { type Library, openLibrary } from "../../app/store/index";

const PPQ = 480;

function sequence(channel: number, program: number, notes: MidiNote[], beats: number): MidiSequence {
  return {
    ppq: PPQ,
    tempos: [{ tick: 0, bpm: 100 }],
    meters: [{ tick: 0, numerator: 4, denominator: 4 }],
    tracks: [{ name: `ch${channel}`, channel, program, notes, controlChanges: [] }],
    durationTicks: beats * PPQ,
  };
}

/** A 4-bar melody in eighths and sixteenths (the generative region's own material). */
function melody(): MidiSequence {
  const pitches = [60, 62, 64, 67, 65, 64, 62, 60, 67, 69, 67, 65, 64, 62, 64, 60];
  const lengths = [0.5, 0.5, 0.25, 0.25, 0.5, 1, 0.5, 0.5];
  const notes: MidiNote[] = [];
  let beat = 0;
  for (let i = 0; beat < 16; i++) {
    const length = lengths[i % lengths.length]!;
    notes.push({
      pitch: pitches[i % pitches.length]!,
      velocity: 70 + (i % 4) * 10,
      startTick: beat * PPQ,
      durationTicks: length * PPQ - 10,
    });
    beat += length;
  }
  return sequence(0, 0, notes, 16);
}

/** Whole-bar triads at the given bars (velocity per bar), channel 1. */
function chords(bars: readonly number[], velocities: readonly number[]): MidiSequence {
  const roots = [48, 53, 55, 48];
  const notes: MidiNote[] = [];
  bars.forEach((bar, i) => {
    for (const interval of [0, 4, 7]) {
      notes.push({
        pitch: roots[bar % 4]! + interval,
        velocity: velocities[i]!,
        startTick: bar * 4 * PPQ,
        durationTicks: 4 * PPQ,
      });
    }
  });
  return sequence(1, 48, notes, 16);
}

let dir: string;
let library: Library;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lc-generative-"));
  library = await openLibrary(join(dir, "library"));
});
afterEach(async () => {
  await library.close();
  await rm(dir, { recursive: true, force: true });
});

async function importSequence(value: MidiSequence, name: string): Promise<{ id: string; hash: string }> {
  const summary = await importBytes(library, writeMidi(value), `${name}.mid`);
  return { id: summary.id, hash: summary.hash };
}

interface Setup {
  readonly document: ProjectDocument;
  readonly melodyId: string;
  readonly chordsId: string;
  readonly generative: Region;
}

/** Two lanes: a 16-beat generative melody region (period 1) and a chord region (period 16, a bar per update). */
async function setup(
  fill: TemporalFill | null,
  chordBars: readonly number[] = [0, 1, 2, 3],
  velocities: readonly number[] = [64, 64, 64, 64],
  seeds: readonly number[] = [1, 2],
): Promise<Setup> {
  const own = await importSequence(melody(), "melody");
  const harmony = await importSequence(chords(chordBars, velocities), "chords");
  const ids = sequentialIds();
  const keys = newLane(ids, { name: "Keys" });
  const pads = newLane(ids, { name: "Pads" });
  const generative = newRegion(ids, {
    laneId: keys.id,
    name: "Melody",
    encodingHash: own.hash,
    durationBeats: 16,
    spec: regionSpec([0, 64, 0, 1, 0, 1], { period: 1, is_output: true, carrier: "diffusive" }),
  });
  const chordRegion = newRegion(ids, {
    laneId: pads.id,
    name: "Chords",
    encodingHash: harmony.hash,
    durationBeats: 16,
    spec: regionSpec([0, 4, 1, 2, 0, 1], { period: 16, is_output: false }),
  });
  const commands: Command[] = [
    { kind: "addLane", lane: keys },
    { kind: "addLane", lane: pads },
    { kind: "addRegion", region: generative },
    { kind: "addRegion", region: chordRegion },
    ...seeds.map(
      (seed, i): Command => ({
        kind: "addHead",
        head: newHead(ids, {
          name: `Head ${i + 1}`,
          context: { temperature: 1, topP: 1, seed, style: null },
        }),
      }),
    ),
  ];
  if (fill) commands.push(connectRegions(generative.id, chordRegion.id, { temporalFill: fill }));
  const document = applyCommands(emptyDocument(), commands).document;
  return { document, melodyId: own.id, chordsId: harmony.id, generative };
}

function material(document: ProjectDocument, own: MidiSequence, harmony: MidiSequence) {
  return new Map([
    [document.regions[0]!.id, own],
    [document.regions[1]!.id, harmony],
  ]);
}

describe("temporal fill in musical time", () => {
  it("HOLD gives the chord at every step, DROP only at bar starts (exact hits), no connection nothing", async () => {
    for (const [fill, expected] of [
      ["hold", Array.from({ length: 64 }, (_, step) => Math.floor(step / 16))],
      ["drop", Array.from({ length: 64 }, (_, step) => (step % 16 === 0 ? step / 16 : null))],
    ] as const) {
      const { document, generative } = await setup(fill);
      const resolved = resolveConditioning(
        document,
        generative,
        material(document, melody(), chords([0, 1, 2, 3], [64, 64, 64, 64])),
      );
      expect(resolved.steps).toBe(64);
      expect(resolved.stepBeats).toBe(0.25);
      expect(resolved.stepSources).toEqual([expected]);
      const summary = resolved.connections[0]!;
      expect(summary.stepsWithContent).toBe(fill === "hold" ? 64 : 4);
      expect(summary.notes).toBe(fill === "hold" ? 64 * 3 : 4 * 3);
      // Connected material first, joined to the voice of the region's own material; own material last.
      expect(resolved.sequences).toHaveLength(2);
      expect(resolved.sequences[0]!.tracks[0]!.channel).toBe(0);
      expect(resolved.sequences[1]).toEqual(melody());
      // Held chords are cut to the step: a sixteenth each.
      expect(resolved.sequences[0]!.tracks[0]!.notes.every((n) => n.durationTicks === 240)).toBe(true);
    }
    const unconnected = await setup(null);
    const alone = resolveConditioning(
      unconnected.document,
      unconnected.generative,
      material(unconnected.document, melody(), chords([0], [64])),
    );
    expect(alone.sequences).toEqual([melody()]);
    expect(alone.connections).toEqual([]);
  });

  it("HOLD keeps the last chord through empty bars; INTERPOLATE picks the nearer bar and blends velocity", async () => {
    const bars = [0, 2];
    const velocities = [40, 120];
    const hold = await setup("hold", bars, velocities);
    const held = resolveConditioning(
      hold.document,
      hold.generative,
      material(hold.document, melody(), chords(bars, velocities)),
    );
    expect(held.stepSources[0]!.slice(0, 48)).toEqual(
      Array.from({ length: 48 }, (_, step) => (step < 32 ? 0 : 2)),
    );

    const lerp = await setup("interpolate", bars, velocities);
    const resolved = resolveConditioning(
      lerp.document,
      lerp.generative,
      material(lerp.document, melody(), chords(bars, velocities)),
    );
    const sources = resolved.stepSources[0]!;
    // Between bar 0 (grid frame 0) and bar 2 (frame 32): frames 1..15 lean to the past, 17..31 to the future.
    expect(sources[8]).toBe(0);
    expect(sources[20]).toBe(2);
    expect(sources[16]).toBe(0); // equal weights: the earlier update
    expect(sources[40]).toBe(2); // no future: the past alone
    const notes = resolved.sequences[0]!.tracks[0]!.notes;
    const at = (step: number) => notes.find((n) => n.startTick === step * 240)!.velocity;
    expect(at(0)).toBe(40); // exact hit
    expect(at(8)).toBe(Math.round(0.75 * 40 + 0.25 * 120)); // 60
    expect(at(20)).toBe(Math.round((12 / 32) * 40 + (20 / 32) * 120)); // 90
    expect(at(32)).toBe(120);
  });
});

describe("realizeGenerative", () => {
  it("same document, region and head: the same bytes and the same artifact; no duplicate is added", async () => {
    const { document, generative, melodyId, chordsId } = await setup("hold");
    const head = document.heads[0]!;
    const request = { document, region: generative, head, store: library.store, graph: library.graph };
    const first = await realizeGenerative(request);
    const count = await library.graph.count();
    const again = await createRealizer({ sampler: new MarkovSampler() })(request);
    expect(again.hash).toBe(first.hash);
    expect(again.artifactId).toBe(first.artifactId);
    expect(await library.graph.count()).toBe(count);
    // Without the in-memory memo, concurrent identical realizations still record one artifact.
    const unmemoized = createRealizer({ memoEntries: 0 });
    const concurrent = await Promise.all([1, 2, 3].map(() => unmemoized(request)));
    expect(new Set(concurrent.map((r) => r.artifactId))).toEqual(new Set([first.artifactId]));
    expect(await library.graph.count()).toBe(count);

    const stored = await library.store.get(first.hash);
    expect(Buffer.from(writeMidi(first.sequence)).equals(Buffer.from(stored))).toBe(true);
    const parsed = importMidi(stored, "realization").sequence;
    expect(parsed.tracks.flatMap((t) => t.notes).length).toBeGreaterThan(8);
    // Notes live inside the region's span.
    for (const note of first.sequence.tracks.flatMap((t) => t.notes)) {
      expect(note.startTick).toBeGreaterThanOrEqual(0);
      expect(note.startTick + note.durationTicks).toBeLessThanOrEqual(16 * first.sequence.ppq);
    }

    const artifact = (await library.graph.get(first.artifactId))!;
    expect(artifact.space).toBe("midi");
    expect(artifact.mediaType).toBe("audio/midi");
    expect(artifact.tool?.kind).toBe("sampler");
    expect(artifact.tool?.name).toBe("markov.v1");
    expect(artifact.tool?.context).toEqual({ temperature: 1, top_p: 1, seed: 1 });
    expect(artifact.tool?.params).toMatchObject({
      regionId: generative.id,
      spanBeats: 16,
      steps: 64,
      stepBeats: 0.25,
      conditioningCount: 2,
      connections: [{ dstRegionId: document.regions[1]!.id, temporalFill: "hold", stepsWithContent: 64 }],
    });
    const parents = (await library.graph.parents(first.artifactId)).map((e) => e.parentId).sort();
    expect(parents).toEqual([melodyId, chordsId].sort());
  });

  it("an edit elsewhere reuses the remembered realization; an edit of what the region reads does not", async () => {
    const { document, generative } = await setup("hold");
    const handles = { store: library.store, graph: library.graph };
    const realize = createRealizer();
    const head = document.heads[0]!;
    const first = await realize({ document, region: generative, head, ...handles });
    const otherLane = applyCommands(document, [
      { kind: "updateLane", laneId: document.lanes[0]!.id, changes: { gainDb: -6 } },
      { kind: "setTempo", atTick: 0, bpm: 90 },
    ]).document;
    const again = await realize({ document: otherLane, region: generative, head, ...handles });
    expect(again).toBe(first);
    const chordsMoved = applyCommands(document, [
      { kind: "updateRegion", regionId: document.regions[1]!.id, changes: { atBeat: 4 } },
    ]).document;
    const moved = await realize({ document: chordsMoved, region: generative, head, ...handles });
    expect(moved.hash).not.toBe(first.hash);
  });

  it("different seeds give different material; heads with the same context share one artifact", async () => {
    const { document, generative } = await setup("hold", undefined, undefined, [1, 2, 1]);
    const [a, b, c] = await Promise.all(
      document.heads.map((head) =>
        realizeGenerative({ document, region: generative, head, store: library.store, graph: library.graph }),
      ),
    );
    expect(a!.hash).not.toBe(b!.hash);
    expect(c!.hash).toBe(a!.hash);
    expect(c!.artifactId).toBe(a!.artifactId);
    const hashes = new Set<string>();
    for (let seed = 0; seed < 6; seed++) {
      const head = { ...document.heads[0]!, context: { ...document.heads[0]!.context, seed } };
      hashes.add(
        (
          await realizeGenerative({
            document,
            region: generative,
            head,
            store: library.store,
            graph: library.graph,
          })
        ).hash,
      );
    }
    expect(hashes.size).toBe(6);
  });

  it("what the connection's fill lets through changes what the sampler sees, and so the record", async () => {
    const results = new Map<string, { hash: string; steps: unknown }>();
    for (const fill of ["hold", "drop", "interpolate", null] as const) {
      const { document, generative } = await setup(fill);
      const realized = await realizeGenerative({
        document,
        region: generative,
        head: document.heads[0]!,
        store: library.store,
        graph: library.graph,
      });
      const tool = (await library.graph.get(realized.artifactId))!.tool!;
      const connections = tool.params.connections as Array<{ stepsWithContent: number }>;
      results.set(String(fill), { hash: realized.hash, steps: connections.map((c) => c.stepsWithContent) });
      expect(tool.params.conditioningCount).toBe(fill === null ? 1 : 2);
    }
    expect(results.get("hold")!.steps).toEqual([64]);
    expect(results.get("drop")!.steps).toEqual([4]);
    expect(results.get("interpolate")!.steps).toEqual([64]); // the nearer bar's chord: the next one late in a bar
    expect(results.get("null")!.steps).toEqual([]);
    expect(new Set([...results.values()].map((r) => r.hash)).size).toBe(4);
  });

  it("offsetBeats places the realization in the region's encoding time", async () => {
    const { document, generative } = await setup(null);
    const moved = { ...generative, offsetBeats: 2 };
    const head = document.heads[0]!;
    const base = await realizeGenerative({
      document,
      region: generative,
      head,
      store: library.store,
      graph: library.graph,
    });
    const shifted = await realizeGenerative({
      document,
      region: moved,
      head,
      store: library.store,
      graph: library.graph,
    });
    const starts = (s: MidiSequence) => s.tracks.flatMap((t) => t.notes.map((n) => n.startTick));
    expect(starts(shifted.sequence)).toEqual(starts(base.sequence).map((t) => t + 2 * 960));
  });

  it("refuses regions that are not generative, audio material, and encodings missing from the library", async () => {
    const { document, generative } = await setup("hold");
    const head = document.heads[0]!;
    const handles = { store: library.store, graph: library.graph };
    const chordRegion = document.regions[1]!;
    await expect(realizeGenerative({ document, region: chordRegion, head, ...handles })).rejects.toThrow(
      /is not generative \(needs is_output true and carrier "diffusive"\)/,
    );
    const missing = { ...generative, encodingHash: "0".repeat(32) };
    await expect(realizeGenerative({ document, region: missing, head, ...handles })).rejects.toThrow(
      /is not in the project library; re-import/,
    );
    const tone = new Float32Array(4800).map((_, i) => Math.sin(i / 10) * 0.5);
    const wav = writeWav({ sampleRate: 48_000, frames: tone.length, channelData: [tone] }, "16").bytes;
    const audio = await importBytes(library, wav, "tone.wav");
    const audioRegion = { ...generative, encodingHash: audio.hash };
    await expect(realizeGenerative({ document, region: audioRegion, head, ...handles })).rejects.toThrow(
      RealizeError,
    );
    await expect(realizeGenerative({ document, region: audioRegion, head, ...handles })).rejects.toThrow(
      /holds a "audio" encoding; give it MIDI or ABC material/,
    );
    const silent = await importSequence(sequence(0, 0, [], 4), "empty");
    const emptyRegion = { ...generative, encodingHash: silent.hash };
    const unconnected = { ...document, connections: [] };
    await expect(
      realizeGenerative({ document: unconnected, region: emptyRegion, head, ...handles }),
    ).rejects.toThrow(/cannot be realized for head "Head 1".*connect it to a region that has some/);
  });
});
