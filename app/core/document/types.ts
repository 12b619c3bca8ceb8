// The project document's data types: lanes, regions, attention heads, tempo map and canvas grid.
// Owned by app/core/document; plain readonly data that every layer may read. Edit it only through commands.
import type { RegionSpec } from "../canvas/region-spec";
import type { TempoMap } from "../time/tempo-map";

export type EntityKind = "lane" | "region" | "head";

/** Produces a new unique id for an entity; injectable so tests are deterministic. */
export type IdSource = (kind: EntityKind) => string;

export interface Lane {
  readonly id: string;
  readonly name: string;
  /** "#rrggbb". */
  readonly color: string;
  /** Decibels; 0 = unity. */
  readonly gainDb: number;
  /** -1 = left, 0 = centre, 1 = right. */
  readonly pan: number;
  readonly mute: boolean;
  readonly solo: boolean;
}

export interface Region {
  readonly id: string;
  readonly name: string;
  readonly color: string;
  readonly laneId: string;
  /** Content hash of the encoding: 32 lowercase hex characters. */
  readonly encodingHash: string;
  readonly spec: RegionSpec;
  readonly atBeat: number;
  readonly durationBeats: number;
  /** Where in the encoding the region starts playing, in beats. */
  readonly offsetBeats: number;
  readonly gainDb: number;
}

/** A style is a text prompt or an embedding vector. */
export type Style = string | readonly number[] | null;

export interface InferenceContext {
  readonly temperature: number;
  readonly topP: number;
  /** Unsigned 32-bit integer. */
  readonly seed: number;
  readonly style: Style;
}

export interface AttentionHead {
  readonly id: string;
  readonly name: string;
  readonly color: string;
  readonly positionBeat: number;
  /** Playback speed relative to the tempo map: 1 = as written, 0.5 = half speed. */
  readonly rate: number;
  readonly loopStartBeat: number;
  readonly loopEndBeat: number;
  readonly loopEnabled: boolean;
  readonly gainDb: number;
  readonly mute: boolean;
  readonly solo: boolean;
  readonly context: InferenceContext;
}

export type TemporalFill = "hold" | "drop" | "interpolate";

/**
 * What a generative region reads: `srcRegionId` (its queries) attends `dstRegionId` (the keys), as a canvas
 * connection. A (src, dst) pair appears at most once; it identifies the connection.
 */
export interface Connection {
  readonly srcRegionId: string;
  readonly dstRegionId: string;
  /** Strength of the connection, >= 0 (1 = full). */
  readonly weight: number;
  /** How the dst region's updates are seen between them: hold the past one, drop, or interpolate. */
  readonly temporalFill: TemporalFill;
  /** 1 = linear between the nearest past and future update; N > 1 = inverse-distance over N + 1 updates. */
  readonly interpolationOrder: number;
}

export interface CanvasGrid {
  /** Beats per canvas frame: 0.25 = one sixteenth note. */
  readonly beatsPerCanvasFrame: number;
}

export interface ProjectDocument {
  readonly tempoMap: TempoMap;
  readonly grid: CanvasGrid;
  readonly lanes: readonly Lane[];
  readonly heads: readonly AttentionHead[];
  readonly regions: readonly Region[];
  readonly connections: readonly Connection[];
}

/** Properties a command may change (everything but the id). */
export type LaneChanges = Partial<Omit<Lane, "id">>;
export type RegionChanges = Partial<Omit<Region, "id">>;
export type HeadChanges = Partial<Omit<AttentionHead, "id">>;
export type ConnectionChanges = Partial<Omit<Connection, "srcRegionId" | "dstRegionId">>;
