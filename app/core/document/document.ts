// Building project documents: a new empty document, entities with defaults and generated ids, id sources,
// and the explicit mapping between canvas frames and beats. Owned by app/core/document; any layer may call it.
import { type RegionSpec, regionSpec } from "../canvas/region-spec";
import { beatToSeconds, constantTempoMap, type TempoMap } from "../time/tempo-map";
import { checkDocument, checkHead, checkLane, checkRegion } from "./schema";
import type { AttentionHead, CanvasGrid, EntityKind, IdSource, Lane, ProjectDocument, Region } from "./types";

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
  return checkDocument({ tempoMap, grid, lanes: [], heads: [], regions: [] });
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

/** Canvas frame `canvasT` of a region with `period` covers [t * period * bpf, (t + 1) * period * bpf) beats. */
export function canvasFrameToBeats(grid: CanvasGrid, period: number, canvasT: number): BeatSpan {
  requirePeriod(period);
  const beatsPerUpdate = period * grid.beatsPerCanvasFrame;
  return { startBeat: canvasT * beatsPerUpdate, endBeat: (canvasT + 1) * beatsPerUpdate };
}

/** The canvas frame (of a region with `period`) containing `atBeat`; a beat within 1e-9 frames of a boundary counts as on it. */
export function beatToCanvasFrame(grid: CanvasGrid, period: number, atBeat: number): number {
  requirePeriod(period);
  return Math.floor(atBeat / (period * grid.beatsPerCanvasFrame) + 1e-9);
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

export function findHead(document: ProjectDocument, headId: string): AttentionHead | undefined {
  return document.heads.find((head) => head.id === headId);
}
