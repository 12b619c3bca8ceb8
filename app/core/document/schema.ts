// Validation of document data: zod schemas for each entity and the whole document, plus the cross-entity rules
// (unique ids, lane references, tempo map). Owned by app/core/document; used by commands and the file format.
import { z } from "zod";
import { CanvasError } from "../canvas/errors";
import { CARRIERS, type RegionSpec, validateRegionSpec } from "../canvas/region-spec";
import { type TempoMap, TempoMapError, validateTempoMap } from "../time/tempo-map";
import type { AttentionHead, CanvasGrid, Connection, Lane, ProjectDocument, Region } from "./types";

/** A document or command is invalid. `path` names the field, e.g. `regions[3].durationBeats`. */
export class DocumentError extends Error {
  readonly path: string;
  readonly problem: string;
  constructor(path: string, problem: string) {
    super(path ? `${path}: ${problem}` : problem);
    this.name = "DocumentError";
    this.path = path;
    this.problem = problem;
  }
}

export const MIN_GAIN_DB = -144;
export const MAX_GAIN_DB = 24;
export const MAX_SEED = 0xffff_ffff;
export const MAX_CONNECTION_WEIGHT = 16;
export const MAX_INTERPOLATION_ORDER = 8;

const id = z
  .string({ error: "must be a string id" })
  .min(1, { error: "must be a non-empty id" })
  .max(128, { error: "must be at most 128 characters" });
const color = z.string().regex(/^#[0-9a-fA-F]{6}$/, { error: 'must be a colour like "#3a7bd5"' });
const name = z.string({ error: "must be a string" }).max(200, { error: "must be at most 200 characters" });
const gainDb = z
  .number({ error: "must be a finite number of decibels" })
  .min(MIN_GAIN_DB, { error: `must be at least ${MIN_GAIN_DB} dB (use mute for silence)` })
  .max(MAX_GAIN_DB, { error: `must be at most +${MAX_GAIN_DB} dB` });
const nonNegativeBeat = z
  .number({ error: "must be a finite number of beats" })
  .min(0, { error: "must be >= 0 beats" });
const flag = z.boolean({ error: "must be true or false" });

export const encodingHashSchema = z
  .string({ error: "must be a string" })
  .regex(/^[0-9a-f]{32}$/, { error: "must be a content hash of 32 lowercase hex characters" });

export const regionSpecSchema = z.strictObject({
  bounds: z
    .array(z.int({ error: "must be whole canvas indices" }))
    .min(2, { error: "needs at least (t0, t1)" })
    .refine((b) => b.length % 2 === 0, { error: "must have an even number of entries (lo, hi pairs)" })
    .refine((b) => b.every((v, i) => i % 2 === 0 || v >= b[i - 1]!), {
      error: "each pair must have lo <= hi (half-open bounds)",
    }),
  period: z.int({ error: "must be a whole number of canvas frames" }).min(0, { error: "must be >= 0" }),
  is_output: flag,
  loss_weight: z.number({ error: "must be a finite number" }).min(0, { error: "must be >= 0" }),
  semantic_type: z.string().nullable(),
  semantic_embedding: z.array(z.number({ error: "must be finite numbers" })).nullable(),
  embedding_model: z.string({ error: "must be a string" }),
  default_attn: z.string({ error: "must be a string" }),
  carrier: z.enum(CARRIERS, { error: `must be one of ${CARRIERS.join(", ")}` }),
});

export const laneSchema = z.strictObject({
  id,
  name,
  color,
  gainDb,
  pan: z
    .number({ error: "must be a number" })
    .min(-1, { error: "must be >= -1" })
    .max(1, { error: "must be <= 1" }),
  mute: flag,
  solo: flag,
});

export const regionSchema = z.strictObject({
  id,
  name,
  color,
  laneId: id,
  encodingHash: encodingHashSchema,
  spec: regionSpecSchema,
  atBeat: nonNegativeBeat,
  durationBeats: z
    .number({ error: "must be a finite number of beats" })
    .gt(0, { error: "must be > 0 beats" }),
  offsetBeats: nonNegativeBeat,
  gainDb,
});

export const inferenceContextSchema = z.strictObject({
  temperature: z.number({ error: "must be a finite number" }).min(0, { error: "must be >= 0" }),
  topP: z
    .number({ error: "must be a number" })
    .gt(0, { error: "must be > 0" })
    .max(1, { error: "must be <= 1" }),
  seed: z
    .int({ error: "must be a whole number" })
    .min(0, { error: "must be >= 0" })
    .max(MAX_SEED, { error: `must be <= ${MAX_SEED} (an unsigned 32-bit integer)` }),
  style: z.union([z.null(), z.string(), z.array(z.number())], {
    error: "must be null, a text prompt, or an embedding vector (an array of finite numbers)",
  }),
});

export const headSchema = z
  .strictObject({
    id,
    name,
    color,
    positionBeat: nonNegativeBeat,
    rate: z
      .number({ error: "must be a finite number" })
      .gt(0, { error: "must be > 0" })
      .max(16, { error: "must be <= 16" }),
    loopStartBeat: nonNegativeBeat,
    loopEndBeat: nonNegativeBeat,
    loopEnabled: flag,
    gainDb,
    mute: flag,
    solo: flag,
    context: inferenceContextSchema,
  })
  .refine((head) => head.loopEndBeat > head.loopStartBeat, {
    path: ["loopEndBeat"],
    error: "must be greater than loopStartBeat",
  });

export const gridSchema = z.strictObject({
  beatsPerCanvasFrame: z
    .number({ error: "must be a finite number of beats" })
    .gt(0, { error: "must be > 0 beats" })
    .max(64, { error: "must be <= 64 beats" }),
});

export const tempoMapSchema = z.strictObject({
  tempos: z.array(
    z.strictObject({
      atTick: z.number({ error: "must be a number" }),
      bpm: z.number({ error: "must be a number" }),
    }),
  ),
  meters: z.array(
    z.strictObject({
      atTick: z.number({ error: "must be a number" }),
      numerator: z.number({ error: "must be a number" }),
      denominator: z.number({ error: "must be a number" }),
    }),
  ),
});

export const connectionSchema = z.strictObject({
  srcRegionId: id,
  dstRegionId: id,
  weight: z
    .number({ error: "must be a finite number" })
    .min(0, { error: "must be >= 0" })
    .max(MAX_CONNECTION_WEIGHT, { error: `must be <= ${MAX_CONNECTION_WEIGHT}` }),
  temporalFill: z.enum(["hold", "drop", "interpolate"], {
    error: 'must be "hold", "drop" or "interpolate"',
  }),
  interpolationOrder: z
    .int({ error: "must be a whole number" })
    .min(1, { error: "must be >= 1" })
    .max(MAX_INTERPOLATION_ORDER, { error: `must be <= ${MAX_INTERPOLATION_ORDER}` }),
});

export const documentSchema = z.strictObject({
  tempoMap: tempoMapSchema,
  grid: gridSchema,
  lanes: z.array(laneSchema),
  heads: z.array(headSchema),
  regions: z.array(regionSchema),
  /** Optional in files written before connections existed: missing = none. */
  connections: z.array(connectionSchema).default([]),
});

function formatPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

/** Parses `value` with `schema` or throws a DocumentError naming the first bad field under `prefix`. */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown, prefix: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.code === "unrecognized_keys") {
    const keys = issue.keys.map((k) => `"${k}"`).join(", ");
    return fail(
      formatPath(prefix, issue.path),
      `unknown field ${keys}: remove it (this build does not know it)`,
    );
  }
  return fail(formatPath(prefix, issue.path), issue.message);
}

function fail(path: string, problem: string): never {
  throw new DocumentError(path, problem);
}

/** Freezes a freshly parsed value in place, turning -0 into 0 (JSON cannot keep -0, so documents never hold it). */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const child = record[key];
      if (Object.is(child, -0)) record[key] = 0;
      else deepFreeze(child);
    }
    Object.freeze(value);
  }
  return value;
}

export function checkLane(value: unknown, prefix: string): Lane {
  return deepFreeze(parseWith(laneSchema, value, prefix));
}

/** The canvas's own RegionSpec rules (attention types, embeddings...), reported as a DocumentError. */
function checkSpecRules(spec: RegionSpec, path: string): void {
  try {
    validateRegionSpec(spec, path);
  } catch (error) {
    if (!(error instanceof CanvasError)) throw error;
    const split = error.message.indexOf(": ");
    if (split < 0) throw new DocumentError(path, error.message);
    throw new DocumentError(error.message.slice(0, split), error.message.slice(split + 2));
  }
}

export function checkRegion(value: unknown, prefix: string): Region {
  const region = parseWith(regionSchema, value, prefix);
  checkSpecRules(region.spec, `${prefix}.spec`);
  return deepFreeze(region);
}

export function checkHead(value: unknown, prefix: string): AttentionHead {
  return deepFreeze(parseWith(headSchema, value, prefix));
}

export function checkConnection(value: unknown, prefix: string): Connection {
  return deepFreeze(parseWith(connectionSchema, value, prefix));
}

export function checkGrid(value: unknown, prefix: string): CanvasGrid {
  return deepFreeze(parseWith(gridSchema, value, prefix));
}

export function checkTempoMap(map: TempoMap, prefix: string): TempoMap {
  try {
    return deepFreeze(validateTempoMap(map));
  } catch (error) {
    if (error instanceof TempoMapError)
      throw new DocumentError(`${prefix}.${error.path}`, error.message.slice(error.path.length + 2));
    throw error;
  }
}

/** A connection's own cross-entity rules: both regions exist, src is not dst, and the pair is not taken. */
export function checkConnectionReferences(
  document: Pick<ProjectDocument, "regions" | "connections">,
  conn: Connection,
  path: string,
  ignoreIndex = -1,
): void {
  const regionIds = new Set(document.regions.map((region) => region.id));
  for (const field of ["srcRegionId", "dstRegionId"] as const) {
    if (!regionIds.has(conn[field])) {
      fail(
        `${path}.${field}`,
        `no region has id "${conn[field]}": add that region first or connect an existing one`,
      );
    }
  }
  if (conn.srcRegionId === conn.dstRegionId) {
    fail(
      `${path}.dstRegionId`,
      `region "${conn.srcRegionId}" cannot read itself: a region already conditions on its own material`,
    );
  }
  const taken = document.connections.findIndex(
    (other, i) =>
      i !== ignoreIndex && other.srcRegionId === conn.srcRegionId && other.dstRegionId === conn.dstRegionId,
  );
  if (taken >= 0) {
    fail(
      path,
      `region "${conn.srcRegionId}" already reads "${conn.dstRegionId}" (connections[${taken}]): change that connection instead`,
    );
  }
}

/** Cross-entity rules: ids unique across lanes, heads and regions; every region's lane exists. */
export function checkReferences(document: ProjectDocument): void {
  const seen = new Map<string, string>();
  const claim = (entityId: string, path: string) => {
    const other = seen.get(entityId);
    if (other) fail(`${path}.id`, `id "${entityId}" is already used by ${other}: ids must be unique`);
    seen.set(entityId, path);
  };
  document.lanes.forEach((lane, i) => {
    claim(lane.id, `lanes[${i}]`);
  });
  document.heads.forEach((head, i) => {
    claim(head.id, `heads[${i}]`);
  });
  const laneIds = new Set(document.lanes.map((lane) => lane.id));
  document.regions.forEach((region, i) => {
    claim(region.id, `regions[${i}]`);
    if (!laneIds.has(region.laneId)) {
      fail(
        `regions[${i}].laneId`,
        `no lane has id "${region.laneId}": add that lane or move the region to one`,
      );
    }
  });
  document.connections.forEach((conn, i) => {
    checkConnectionReferences(document, conn, `connections[${i}]`, i);
  });
}

/** Validates a whole document (shape, tempo map, references) and returns it deep-frozen. */
export function checkDocument(value: unknown, prefix = ""): ProjectDocument {
  const parsed = parseWith(documentSchema, value, prefix);
  const document = deepFreeze(parsed) as ProjectDocument;
  checkTempoMap(document.tempoMap, prefix ? `${prefix}.tempoMap` : "tempoMap");
  document.regions.forEach((region, i) => {
    checkSpecRules(region.spec, `${prefix ? `${prefix}.` : ""}regions[${i}].spec`);
  });
  checkReferences(document);
  return document;
}
