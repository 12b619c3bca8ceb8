// Building project documents: a new empty document, entities with defaults and generated ids, id sources,
// and the explicit mapping between canvas frames and beats. Owned by app/core/document; any layer may call it.
import { type RegionSpec, regionSpec } from "../canvas/region-spec";
import { beatToSeconds, constantTempoMap, type TempoMap } from "../time/tempo-map";
import { checkDocument, checkHead, checkLane, checkRegion } from "./schema";
import type {
  AttentionHead,
  CanvasGrid,
  Connection,
  EntityKind,
  IdSource,
  Lane,
  ProjectDocument,
  Region,
} from "./types";

export const DEFAULT_GRID: CanvasGrid = Object.freeze({ beatsPerCanvasFrame: 0.25 });

/** Ids like "lane-1", "region-1", "head-1", counted per kind: deterministic, for tests and tools. */
export function sequentialIds(): IdSource {
  const counts = new Map<EntityKind, number>();
  return (kind) => {
    const n = (counts.get(kind) ?? 0) + 1;
    counts.set(kind, n);
    return `${kind}-${n}`;
  };
}

/** Random UUID ids (the default in the app). */
export function randomIds(): IdSource {
  return (kind) => `${kind}-${globalThis.crypto.randomUUID()}`;
}

export function emptyDocument(
  tempoMap: TempoMap = constantTempoMap(),
  grid: CanvasGrid = DEFAULT_GRID,
): ProjectDocument {
  return checkDocument({ tempoMap, grid, lanes: [], heads: [], regions: [], connections: [] });
}

export function newLane(ids: IdSource, fields: Partial<Omit<Lane, "id">> = {}): Lane {
  return checkLane(
    {
      id: ids("lane"),
      name: "Lane",
      color: "#5b8def",
      gainDb: 0,
      pan: 0,
      mute: false,
      solo: false,
      ...fields,
    },
    "lane",
  );
}

export interface NewRegionFields extends Partial<Omit<Region, "id" | "laneId" | "encodingHash" | "spec">> {
  readonly laneId: string;
  readonly encodingHash: string;
  readonly spec?: RegionSpec;
}

export function newRegion(ids: IdSource, fields: NewRegionFields): Region {
  return checkRegion(
    {
      id: ids("region"),
      name: "Region",
      color: "#e0a040",
      atBeat: 0,
      durationBeats: 4,
      offsetBeats: 0,
      gainDb: 0,
      ...fields,
      spec: fields.spec ?? regionSpec([0, 1, 0, 1, 0, 1]),
    },
    "region",
  );
}

export function newHead(ids: IdSource, fields: Partial<Omit<AttentionHead, "id">> = {}): AttentionHead {
  return checkHead(
    {
      id: ids("head"),
      name: "Head",
      color: "#50c878",
      positionBeat: 0,
      rate: 1,
      loopStartBeat: 0,
      loopEndBeat: 16,
      loopEnabled: false,
      gainDb: 0,
      mute: false,
      solo: false,
      context: { temperature: 1, topP: 1, seed: 0, style: null },
      ...fields,
    },
    "head",
  );
}

export interface BeatSpan {
  readonly startBeat: number;
  readonly endBeat: number;
}

function requirePeriod(period: number): void {
  if (!Number.isInteger(period) || period < 1) {
    throw new RangeError(`period must be a whole number of canvas frames >= 1, got ${period}`);
  }
}

/**
 * Canvas frame `canvasT` of a region with `period` covers [t * period * bpf, (t + 1) * period * bpf) beats,
 * measured from the region's start (canvas t is region-relative, as in the canvas's real_frame = t * period).
 */
export function canvasFrameToBeats(grid: CanvasGrid, period: number, canvasT: number): BeatSpan {
  requirePeriod(period);
  const beatsPerUpdate = period * grid.beatsPerCanvasFrame;
  return { startBeat: canvasT * beatsPerUpdate, endBeat: (canvasT + 1) * beatsPerUpdate };
}

/** The canvas frame containing `beats` from the region start; within 1e-9 frames below a boundary counts as on it. */
export function beatToCanvasFrame(grid: CanvasGrid, period: number, beats: number): number {
  requirePeriod(period);
  return Math.floor(beats / (period * grid.beatsPerCanvasFrame) + 1e-9);
}

/** Timeline beats covered by canvas frame `canvasT` of `region` (its atBeat plus the region-relative span). */
export function regionCanvasFrameToBeats(grid: CanvasGrid, region: Region, canvasT: number): BeatSpan {
  const span = canvasFrameToBeats(grid, region.spec.period, canvasT);
  return { startBeat: region.atBeat + span.startBeat, endBeat: region.atBeat + span.endBeat };
}

/** The region-relative canvas frame at timeline beat `atBeat`, or null outside the region or for period 0. */
export function beatToRegionCanvasFrame(grid: CanvasGrid, region: Region, atBeat: number): number | null {
  if (region.spec.period === 0) return null;
  if (atBeat < region.atBeat || atBeat >= region.atBeat + region.durationBeats) return null;
  return beatToCanvasFrame(grid, region.spec.period, atBeat - region.atBeat);
}

/** The end of the last region, in beats (0 for an empty document). */
export function endBeat(document: ProjectDocument): number {
  let end = 0;
  for (const region of document.regions) end = Math.max(end, region.atBeat + region.durationBeats);
  return end;
}

export function endSeconds(document: ProjectDocument): number {
  return beatToSeconds(document.tempoMap, endBeat(document));
}

export function findLane(document: ProjectDocument, laneId: string): Lane | undefined {
  return document.lanes.find((lane) => lane.id === laneId);
}

export function findRegion(document: ProjectDocument, regionId: string): Region | undefined {
  return document.regions.find((region) => region.id === regionId);
}

/** The connections `regionId` reads (it is their src), in document order. */
export function connectionsOf(document: ProjectDocument, regionId: string): readonly Connection[] {
  return document.connections.filter((conn) => conn.srcRegionId === regionId);
}

export function findHead(document: ProjectDocument, headId: string): AttentionHead | undefined {
  return document.heads.find((head) => head.id === headId);
}
