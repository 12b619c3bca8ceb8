// Generative realization: turns a generative region (is_output, carrier "diffusive") into the MIDI one attention
// head hears, drawn by a sampler from the region's own material plus what its connections read (resolved with
// the canvas model's temporal fill in musical time), and records it as an artifact with lineage.
// Owned by app/render; called by the lookahead renderer and the engine host (as RealizeGenerative). Design and
// fill semantics: docs/projections.md.
import { connection as canvasConnection, type RealTimeCache, resolveTemporalFill } from "../core/canvas";
import type { AttentionHead, Connection, ProjectDocument, Region } from "../core/document";
import { parseAbc } from "../spaces/abc/parse";
import type { MidiNote, MidiSequence, MidiTrack } from "../spaces/midi/sequence";
import { importMidi, writeMidi } from "../spaces/midi/smf";
import { canonicalJson, recordDerived } from "../spaces/projections/record";
import { samplerToolRecord } from "../spaces/samplers/lineage";
import { MarkovSampler } from "../spaces/samplers/markov";
import type { InferenceContext, SampleRequest, Sampler } from "../spaces/samplers/sampler";
import { SamplerInputError } from "../spaces/samplers/sampler";
import { hashBytes } from "../store/hash";
import type { Artifact, ArtifactGraph, ContentStore, ToolRecord } from "../store/types";
import type { Realization, RealizeGenerative, RealizeRequest } from "./types";

/** Ticks per quarter note of conditioning and realized sequences. */
export const REALIZATION_PPQ = 960;
export const REALIZATION_CREATOR = "lcanvas realize";
/** Bumped when the way conditioning is resolved changes (recorded in every realization's tool params). */
export const CONDITIONING_VERSION = 1;

export class RealizeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RealizeError";
  }
}

export function isGenerativeRegion(region: Region): boolean {
  return region.spec.is_output && region.spec.carrier === "diffusive";
}

/** What one connection contributed after temporal fill, for the lineage record. */
export interface ConnectionSummary {
  readonly dstRegionId: string;
  readonly encodingHash: string;
  readonly temporalFill: Connection["temporalFill"];
  readonly interpolationOrder: number;
  readonly weight: number;
  /** Update steps of the generative region that received content from this connection. */
  readonly stepsWithContent: number;
  readonly notes: number;
  /** Content hash of the resolved conditioning as MIDI (null when nothing was contributed). */
  readonly conditioningHash: string | null;
}

export interface ResolvedConditioning {
  /** Connected material (document order, connections that contributed), then the region's own encoding last. */
  readonly sequences: readonly MidiSequence[];
  /** Beats per update step of the region: period (canvas frames) x beatsPerCanvasFrame. */
  readonly stepBeats: number;
  readonly steps: number;
  readonly connections: readonly ConnectionSummary[];
  /** Per connection (same order as `connections`), for each step: the dst update index seen, or null. */
  readonly stepSources: readonly (readonly (number | null)[])[];
}

/** Material of a region's encoding, by region id (parsed MIDI; ABC already projected to MIDI). */
export type RegionMaterial = ReadonlyMap<string, MidiSequence>;

interface WindowContent {
  /** Notes with onsets inside the update window, onsets relative to the window start, in beats. */
  readonly notes: ReadonlyArray<{
    readonly onBeat: number;
    readonly lengthBeats: number;
    readonly note: MidiNote;
  }>;
  readonly meanVelocity: number;
}

function periodOf(region: Region): number {
  return Math.max(1, region.spec.period);
}

/** Beats of one update of `region`. */
function updateBeats(document: ProjectDocument, region: Region): number {
  return periodOf(region) * document.grid.beatsPerCanvasFrame;
}

function updateCount(document: ProjectDocument, region: Region): number {
  return Math.max(1, Math.ceil(region.durationBeats / updateBeats(document, region) - 1e-9));
}

/** The notes of each update window of `region` (empty windows are absent), in encoding time from offsetBeats. */
function windowsOf(
  document: ProjectDocument,
  region: Region,
  material: MidiSequence,
): Map<number, WindowContent> {
  const stepBeats = updateBeats(document, region);
  const count = updateCount(document, region);
  const byWindow = new Map<number, WindowContent["notes"][number][]>();
  for (const track of material.tracks) {
    for (const note of track.notes) {
      const regionBeat = note.startTick / material.ppq - region.offsetBeats;
      if (regionBeat < -1e-9 || regionBeat >= region.durationBeats - 1e-9) continue;
      const window = Math.min(count - 1, Math.floor(regionBeat / stepBeats + 1e-9));
      const list = byWindow.get(window) ?? [];
      list.push({
        onBeat: Math.max(0, regionBeat - window * stepBeats),
        lengthBeats: note.durationTicks / material.ppq,
        note,
      });
      byWindow.set(window, list);
    }
  }
  const windows = new Map<number, WindowContent>();
  for (const [window, notes] of byWindow) {
    notes.sort((a, b) => a.onBeat - b.onBeat || a.note.pitch - b.note.pitch);
    const meanVelocity = notes.reduce((sum, n) => sum + n.note.velocity, 0) / notes.length;
    windows.set(window, { notes, meanVelocity });
  }
  return windows;
}

/** Grid frame (canvas frame of period 1) of a timeline beat: the fill's real-time axis. */
function gridFrame(document: ProjectDocument, beat: number): number {
  return Math.round(beat / document.grid.beatsPerCanvasFrame);
}

/** The first track with notes that is not drums, else the first track: the voice connected material joins. */
function primaryTrack(sequence: MidiSequence): Pick<MidiTrack, "channel" | "program" | "name"> {
  const melodic = sequence.tracks.find((t) => t.notes.length > 0 && t.channel !== 9);
  const any = melodic ?? sequence.tracks.find((t) => t.notes.length > 0) ?? sequence.tracks[0];
  return any ?? { channel: 0, program: 0, name: "generated" };
}

function clampVelocity(value: number): number {
  return Math.min(127, Math.max(1, Math.round(value)));
}

/**
 * Resolves what `region` is conditioned on: for every connection it reads, at each of its update steps, the dst
 * region's content chosen by the connection's temporal fill (HOLD / DROP / INTERPOLATE, exact hits win), laid out
 * on the region's own timeline on the voice of its own material. Pure: the same inputs give the same sequences.
 */
export function resolveConditioning(
  document: ProjectDocument,
  region: Region,
  material: RegionMaterial,
): ResolvedConditioning {
  const own = material.get(region.id);
  if (!own) throw new RealizeError(`no material was loaded for region "${region.name}" (${region.id})`);
  const stepBeats = updateBeats(document, region);
  const steps = updateCount(document, region);
  const voice = primaryTrack(own);
  const tempos = own.tempos.length > 0 ? [{ tick: 0, bpm: own.tempos[0]!.bpm }] : [];
  const meters = own.meters.length > 0 ? [{ ...own.meters[0]!, tick: 0 }] : [];
  const sequences: MidiSequence[] = [];
  const summaries: ConnectionSummary[] = [];
  const stepSources: (number | null)[][] = [];
  for (const conn of document.connections) {
    if (conn.srcRegionId !== region.id) continue;
    const dst = document.regions.find((r) => r.id === conn.dstRegionId);
    const dstMaterial = material.get(conn.dstRegionId);
    if (!dst || !dstMaterial) {
      throw new RealizeError(
        `region "${region.name}" reads "${conn.dstRegionId}", whose material was not loaded: remove the connection or restore that region`,
      );
    }
    const windows = windowsOf(document, dst, dstMaterial);
    const dstStepBeats = updateBeats(document, dst);
    const indices = new Map<number, Int32Array>();
    for (const window of windows.keys()) {
      indices.set(gridFrame(document, dst.atBeat + window * dstStepBeats), Int32Array.of(window));
    }
    const cache: RealTimeCache = { times: [...indices.keys()].sort((a, b) => a - b), indices };
    const fill = canvasConnection(region.id, dst.id, {
      weight: conn.weight,
      t_src: 0,
      t_dst: 0,
      temporal_fill: conn.temporalFill,
      interpolation_order: conn.interpolationOrder,
    });
    const notes: MidiNote[] = [];
    const sources: (number | null)[] = [];
    let stepsWithContent = 0;
    for (let step = 0; step < steps; step++) {
      const target = gridFrame(document, region.atBeat + step * stepBeats);
      const resolved = resolveTemporalFill(fill, cache, target, Number.POSITIVE_INFINITY)
        .map(([keys, weight]) => ({ window: keys[0]!, weight }))
        .filter((entry) => entry.weight > 0);
      if (resolved.length === 0) {
        sources.push(null);
        continue;
      }
      // The dominant anchor gives the notes (ties: the earlier update); velocities move to the weighted level.
      let dominant = resolved[0]!;
      for (const entry of resolved) {
        if (
          entry.weight > dominant.weight ||
          (entry.weight === dominant.weight && entry.window < dominant.window)
        )
          dominant = entry;
      }
      const content = windows.get(dominant.window)!;
      const totalWeight = resolved.reduce((sum, e) => sum + e.weight, 0);
      const level =
        resolved.reduce((sum, e) => sum + e.weight * windows.get(e.window)!.meanVelocity, 0) / totalWeight;
      const velocityScale = level / content.meanVelocity;
      const stepStart = step * stepBeats;
      const stepEnd = Math.min(region.durationBeats, stepStart + stepBeats);
      let placed = 0;
      for (const { onBeat, lengthBeats, note } of content.notes) {
        const start = stepStart + onBeat;
        if (start >= stepEnd - 1e-9) continue;
        const end = Math.min(stepEnd, start + lengthBeats);
        const startTick = Math.round(start * REALIZATION_PPQ);
        notes.push({
          pitch: note.pitch,
          velocity: clampVelocity(note.velocity * velocityScale),
          startTick,
          durationTicks: Math.max(1, Math.round(end * REALIZATION_PPQ) - startTick),
        });
        placed += 1;
      }
      sources.push(placed > 0 ? dominant.window : null);
      if (placed > 0) stepsWithContent += 1;
    }
    stepSources.push(sources);
    let conditioningHash: string | null = null;
    if (notes.length > 0) {
      const sequence: MidiSequence = {
        ppq: REALIZATION_PPQ,
        tempos,
        meters,
        tracks: [
          {
            name: `${voice.name} <- ${dst.name}`,
            channel: voice.channel,
            program: voice.program,
            notes,
            controlChanges: [],
          },
        ],
        durationTicks: Math.round(region.durationBeats * REALIZATION_PPQ),
      };
      sequences.push(sequence);
      conditioningHash = hashBytes(writeMidi(sequence));
    }
    summaries.push({
      dstRegionId: dst.id,
      encodingHash: dst.encodingHash,
      temporalFill: conn.temporalFill,
      interpolationOrder: conn.interpolationOrder,
      weight: conn.weight,
      stepsWithContent,
      notes: notes.length,
      conditioningHash,
    });
  }
  sequences.push(own);
  return { sequences, stepBeats, steps, connections: summaries, stepSources };
}

/** The region's conditioning artifact and parsed material. */
interface LoadedEncoding {
  readonly artifact: Artifact | null;
  readonly sequence: MidiSequence;
}

function byAge(a: Artifact, b: Artifact): number {
  return a.createdAtMs - b.createdAtMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

async function loadEncoding(
  store: ContentStore,
  graph: ArtifactGraph,
  region: Region,
): Promise<LoadedEncoding> {
  const hash = region.encodingHash;
  const label = `region "${region.name}" (${region.id})`;
  if (!(await store.has(hash))) {
    throw new RealizeError(
      `${label}: its encoding ${hash} is not in the project library; re-import the material or restore the library`,
    );
  }
  const artifacts = (await graph.byHash(hash)).slice().sort(byAge);
  const symbolic =
    artifacts.find((a) => a.space === "midi") ?? artifacts.find((a) => a.space === "abc") ?? null;
  if (artifacts.length > 0 && !symbolic) {
    throw new RealizeError(
      `${label} is generative but holds a "${artifacts[0]!.space}" encoding; give it MIDI or ABC material to learn from`,
    );
  }
  const bytes = await store.get(hash);
  const isMidi = symbolic ? symbolic.space === "midi" : bytes[0] === 0x4d && bytes[1] === 0x54;
  try {
    const sequence = isMidi ? importMidi(bytes, hash).sequence : parseAbc(bytes, hash).sequence;
    return { artifact: symbolic, sequence };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new RealizeError(
      `${label}: its encoding ${hash} cannot be read as MIDI or ABC (${detail}); re-import it`,
    );
  }
}

function samplerContext(head: AttentionHead): InferenceContext {
  const { temperature, topP, seed, style } = head.context;
  return style === null ? { temperature, top_p: topP, seed } : { temperature, top_p: topP, seed, style };
}

/** Moves every note `beats` later (the realization lives in the region's encoding time). */
function shifted(sequence: MidiSequence, beats: number): MidiSequence {
  const ticks = Math.round(beats * sequence.ppq);
  if (ticks === 0) return sequence;
  return {
    ...sequence,
    tracks: sequence.tracks.map((track) => ({
      ...track,
      notes: track.notes.map((note) => ({ ...note, startTick: note.startTick + ticks })),
    })),
    durationTicks: sequence.durationTicks + ticks,
  };
}

export interface RealizerOptions {
  /** Default: the Markov sampler (markov.v1) with its default options. */
  readonly sampler?: Sampler;
  /** Realizations remembered per graph by their inputs, so unchanged regions cost nothing after an edit. Default 256. */
  readonly memoEntries?: number;
}

/** Everything a realization depends on (the tempo map does not: conditioning is resolved in beats). */
function inputKey(request: RealizeRequest, sampler: Sampler): string {
  const { document, region, head } = request;
  const reads = document.connections.filter((c) => c.srcRegionId === region.id);
  const dsts = reads.map((c) => document.regions.find((r) => r.id === c.dstRegionId) ?? null);
  return canonicalJson({
    v: CONDITIONING_VERSION,
    sampler: [sampler.name, sampler.params],
    grid: document.grid.beatsPerCanvasFrame,
    region,
    reads,
    dsts,
    context: head.context,
  });
}

/** A RealizeGenerative backed by `sampler`. */
export function createRealizer(options: RealizerOptions = {}): RealizeGenerative {
  const sampler = options.sampler ?? new MarkovSampler();
  const memoEntries = options.memoEntries ?? 256;
  const memos = new WeakMap<ArtifactGraph, Map<string, Promise<Realization>>>();
  const realize = async (request: RealizeRequest): Promise<Realization> => {
    const { document, region, head, store, graph } = request;
    const label = `region "${region.name}" (${region.id})`;
    if (!isGenerativeRegion(region)) {
      throw new RealizeError(
        `${label} is not generative (needs is_output true and carrier "diffusive"); play its encoding instead`,
      );
    }
    const reads = document.connections.filter((c) => c.srcRegionId === region.id);
    const involved = [region, ...reads.map((c) => document.regions.find((r) => r.id === c.dstRegionId))];
    const material = new Map<string, MidiSequence>();
    const parents: string[] = [];
    for (const r of involved) {
      if (!r) continue;
      if (material.has(r.id)) continue;
      const loaded = await loadEncoding(store, graph, r);
      material.set(r.id, loaded.sequence);
      if (loaded.artifact && !parents.includes(loaded.artifact.id)) parents.push(loaded.artifact.id);
    }
    const conditioning = resolveConditioning(document, region, material);
    const sampleRequest: SampleRequest = {
      conditioning: conditioning.sequences,
      context: samplerContext(head),
      spanBeats: region.durationBeats,
    };
    let sampled: MidiSequence;
    try {
      sampled = sampler.sample(sampleRequest);
    } catch (error) {
      if (error instanceof SamplerInputError) {
        throw new RealizeError(
          `${label} cannot be realized for head "${head.name}": ${error.message} (give its encoding notes, or connect it to a region that has some)`,
        );
      }
      throw error;
    }
    const sequence = shifted(sampled, region.offsetBeats);
    const bytes = writeMidi(sequence);
    const base = samplerToolRecord(sampler, sampleRequest);
    const tool: ToolRecord = {
      ...base,
      params: {
        ...base.params,
        conditioningVersion: CONDITIONING_VERSION,
        regionId: region.id,
        encodingHash: region.encodingHash,
        periodFrames: periodOf(region),
        beatsPerCanvasFrame: document.grid.beatsPerCanvasFrame,
        stepBeats: conditioning.stepBeats,
        steps: conditioning.steps,
        offsetBeats: region.offsetBeats,
        connections: conditioning.connections,
      },
    };
    const artifact = await recordDerived(
      { store, graph },
      {
        bytes,
        space: "midi",
        mediaType: "audio/midi",
        creator: REALIZATION_CREATOR,
        tags: ["realization"],
        metadata: { regionId: region.id, regionName: region.name, spanBeats: region.durationBeats },
        parents,
        tool,
      },
    );
    const hash = artifact.hash;
    return { sequence, artifactId: artifact.id, hash };
  };
  return (request: RealizeRequest): Promise<Realization> => {
    if (memoEntries <= 0) return realize(request);
    let memo = memos.get(request.graph);
    if (!memo) {
      memo = new Map();
      memos.set(request.graph, memo);
    }
    const key = inputKey(request, sampler);
    const known = memo.get(key);
    if (known) {
      memo.delete(key);
      memo.set(key, known);
      return known;
    }
    const pending = realize(request);
    memo.set(key, pending);
    pending.catch(() => memo.delete(key));
    if (memo.size > memoEntries) memo.delete(memo.keys().next().value as string);
    return pending;
  };
}

/** The default realizer: the Markov sampler (markov.v1). */
export const realizeGenerative: RealizeGenerative = createRealizer();
