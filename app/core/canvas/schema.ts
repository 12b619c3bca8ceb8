// Canvas schema JSON: read and write a layout + topology + metadata in canvas_engineering's schema format
// (extended with carrier, temporal_fill, interpolation_order, spatial_shape). Strict: unknown or malformed
// fields raise a CanvasError naming the field path. Pure (takes and returns text/values); the CLI does the I/O.
import { CanvasError } from "./errors";
import { CanvasLayout, type CanvasLayoutInit } from "./layout";
import {
  ATTENTION_TYPES,
  CARRIERS,
  type Carrier,
  REGION_SPEC_DEFAULTS,
  type RegionSpec,
  regionSpec,
  show,
  transferDistance,
} from "./region-spec";
import { CanvasTopology, type Connection, connection, TEMPORAL_FILLS, type TemporalFill } from "./topology";

export const SCHEMA_VERSION = "0.2.0";

export interface CanvasSchema {
  readonly schema_version: string;
  readonly layout: CanvasLayout;
  readonly topology: CanvasTopology | null;
  readonly metadata: Readonly<Record<string, string>>;
}

export function canvasSchema(
  layout: CanvasLayout,
  topology: CanvasTopology | null = null,
  metadata: Readonly<Record<string, string>> = {},
): CanvasSchema {
  return Object.freeze({
    schema_version: SCHEMA_VERSION,
    layout,
    topology,
    metadata: Object.freeze({ ...metadata }),
  });
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function object(value: unknown, path: string): Json {
  if (!isObject(value)) throw new CanvasError(`${path}: expected an object, got ${show(value)}`);
  return value;
}

function onlyKeys(value: Json, allowed: readonly string[], path: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new CanvasError(`${path}.${key}: unknown field; the allowed fields are ${allowed.join(", ")}`);
    }
  }
}

function integer(value: unknown, path: string, min: number | null, what: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || (min !== null && value < min)) {
    throw new CanvasError(`${path}: expected ${what}, got ${show(value)}`);
  }
  return value;
}

function finite(value: unknown, path: string): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new CanvasError(`${path}: expected a number, got ${show(value)}`);
  }
  return value;
}

function string(value: unknown, path: string): string {
  if (typeof value !== "string" || value === "") {
    throw new CanvasError(`${path}: expected a non-empty string, got ${show(value)}`);
  }
  return value;
}

function oneOf<T extends string>(value: unknown, choices: readonly T[], path: string): T {
  if (typeof value !== "string" || !(choices as readonly string[]).includes(value)) {
    throw new CanvasError(`${path}: expected one of ${choices.join(", ")}, got ${show(value)}`);
  }
  return value as T;
}

const REGION_FIELDS = [
  "bounds",
  "period",
  "is_output",
  "loss_weight",
  "semantic_type",
  "semantic_embedding",
  "embedding_model",
  "default_attn",
  "carrier",
] as const;

function readRegion(value: unknown, path: string): RegionSpec {
  const r = object(value, path);
  onlyKeys(r, REGION_FIELDS, path);
  if (!Array.isArray(r.bounds)) {
    throw new CanvasError(
      `${path}.bounds: expected an array of integers (t0, t1, h0, h1, w0, w1), got ${show(r.bounds)}`,
    );
  }
  const bounds = r.bounds.map((b, i) => integer(b, `${path}.bounds[${i}]`, 0, "a non-negative integer"));
  const fields: { -readonly [K in keyof Omit<RegionSpec, "bounds">]?: RegionSpec[K] } = {};
  if ("period" in r) fields.period = integer(r.period, `${path}.period`, 0, "a non-negative integer");
  if ("is_output" in r) {
    if (typeof r.is_output !== "boolean") {
      throw new CanvasError(`${path}.is_output: expected true or false, got ${show(r.is_output)}`);
    }
    fields.is_output = r.is_output;
  }
  if ("loss_weight" in r) fields.loss_weight = finite(r.loss_weight, `${path}.loss_weight`);
  if ("semantic_type" in r) {
    if (r.semantic_type !== null && typeof r.semantic_type !== "string") {
      throw new CanvasError(`${path}.semantic_type: expected a string or null, got ${show(r.semantic_type)}`);
    }
    fields.semantic_type = r.semantic_type;
  }
  if ("semantic_embedding" in r) {
    const e = r.semantic_embedding;
    if (e === null) fields.semantic_embedding = null;
    else if (Array.isArray(e) && e.length > 0) {
      fields.semantic_embedding = e.map((x, i) => finite(x, `${path}.semantic_embedding[${i}]`));
    } else {
      throw new CanvasError(
        `${path}.semantic_embedding: expected a non-empty array of numbers or null, got ${show(e)}`,
      );
    }
  }
  if ("embedding_model" in r) fields.embedding_model = string(r.embedding_model, `${path}.embedding_model`);
  if ("default_attn" in r)
    fields.default_attn = oneOf(r.default_attn, ATTENTION_TYPES, `${path}.default_attn`);
  if ("carrier" in r) fields.carrier = oneOf<Carrier>(r.carrier, CARRIERS, `${path}.carrier`);
  return regionSpec(bounds, fields);
}

const CONNECTION_FIELDS = [
  "src",
  "dst",
  "weight",
  "t_src",
  "t_dst",
  "fn",
  "temporal_fill",
  "interpolation_order",
] as const;

function readConnection(value: unknown, path: string, regions: ReadonlySet<string>): Connection {
  const c = object(value, path);
  onlyKeys(c, CONNECTION_FIELDS, path);
  const endpoint = (key: "src" | "dst") => {
    const name = string(c[key], `${path}.${key}`);
    if (!regions.has(name)) {
      throw new CanvasError(
        `${path}.${key}: unknown region ${show(name)}; declare it under "regions" or use one of: ${[...regions].join(", ")}`,
      );
    }
    return name;
  };
  const src = endpoint("src");
  const dst = endpoint("dst");
  const fields: { -readonly [K in keyof Omit<Connection, "src" | "dst">]?: Connection[K] } = {};
  if ("weight" in c) fields.weight = finite(c.weight, `${path}.weight`);
  if ("t_src" in c && c.t_src !== null)
    fields.t_src = integer(c.t_src, `${path}.t_src`, null, "an integer or null");
  if ("t_dst" in c && c.t_dst !== null)
    fields.t_dst = integer(c.t_dst, `${path}.t_dst`, null, "an integer or null");
  if ("fn" in c && c.fn !== null) fields.fn = oneOf(c.fn, ATTENTION_TYPES, `${path}.fn`);
  if ("temporal_fill" in c)
    fields.temporal_fill = oneOf<TemporalFill>(c.temporal_fill, TEMPORAL_FILLS, `${path}.temporal_fill`);
  if ("interpolation_order" in c) {
    fields.interpolation_order = integer(
      c.interpolation_order,
      `${path}.interpolation_order`,
      1,
      "a positive integer",
    );
  }
  return connection(src, dst, fields);
}

/** A schema from parsed JSON; throws CanvasError naming the first bad field. */
export function schemaFromJson(value: unknown): CanvasSchema {
  const d = object(value, "schema");
  onlyKeys(d, ["schema_version", "layout", "regions", "topology", "metadata"], "schema");
  const version = d.schema_version ?? SCHEMA_VERSION;
  if (typeof version !== "string" || !/^0\.\d+\.\d+$/.test(version)) {
    throw new CanvasError(
      `schema_version: expected a version string like "${SCHEMA_VERSION}", got ${show(version)}`,
    );
  }
  if (!("layout" in d)) throw new CanvasError('layout: missing; a schema needs "layout": {T, H, W, d_model}');
  const l = object(d.layout, "layout");
  onlyKeys(l, ["T", "H", "W", "spatial_shape", "d_model", "t_current"], "layout");
  const regionsJson = object(d.regions ?? {}, "regions");
  const regions = Object.entries(regionsJson).map(
    ([name, r]) => [name, readRegion(r, `regions.${name}`)] as const,
  );
  const init: { -readonly [K in keyof CanvasLayoutInit]: CanvasLayoutInit[K] } = {
    T: integer(l.T, "layout.T", 1, "a positive integer (canvas frames)"),
    d_model: integer(l.d_model, "layout.d_model", 1, "a positive integer"),
    regions,
  };
  if (l.H !== undefined && l.H !== null) init.H = integer(l.H, "layout.H", 1, "a positive integer");
  if (l.W !== undefined && l.W !== null) init.W = integer(l.W, "layout.W", 1, "a positive integer");
  if (l.spatial_shape !== undefined) {
    if (!Array.isArray(l.spatial_shape)) {
      throw new CanvasError(
        `layout.spatial_shape: expected an array of positive integers, got ${show(l.spatial_shape)}`,
      );
    }
    init.spatial_shape = l.spatial_shape.map((s, i) =>
      integer(s, `layout.spatial_shape[${i}]`, 1, "a positive integer"),
    );
  }
  if (l.t_current !== undefined)
    init.t_current = integer(l.t_current, "layout.t_current", 0, "a non-negative integer");
  const layout = new CanvasLayout(init);

  let topology: CanvasTopology | null = null;
  if (d.topology !== undefined && d.topology !== null) {
    if (!Array.isArray(d.topology)) {
      throw new CanvasError(`topology: expected an array of connections, got ${show(d.topology)}`);
    }
    const names = new Set(layout.regions.keys());
    topology = new CanvasTopology(d.topology.map((c, i) => readConnection(c, `topology[${i}]`, names)));
  }

  const metadata: Record<string, string> = {};
  if (d.metadata !== undefined) {
    for (const [key, v] of Object.entries(object(d.metadata, "metadata"))) {
      if (typeof v !== "string") throw new CanvasError(`metadata.${key}: expected a string, got ${show(v)}`);
      metadata[key] = v;
    }
  }
  return Object.freeze({ schema_version: version, layout, topology, metadata: Object.freeze(metadata) });
}

/** A schema from JSON text; `source` names the text in errors (e.g. a file path). */
export function parseSchema(text: string, source = "schema"): CanvasSchema {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CanvasError(`${source}: not valid JSON (${reason}); fix the syntax and try again`);
  }
  try {
    return schemaFromJson(value);
  } catch (error) {
    if (error instanceof CanvasError) throw new CanvasError(`${source}: ${error.message}`);
    throw error;
  }
}

/** The JSON value of a schema: region and connection fields only when they differ from the defaults. */
export function schemaToJson(schema: CanvasSchema): Json {
  const { layout } = schema;
  const regions: Json = {};
  for (const [name, spec] of layout.regions) {
    const r: Json = { bounds: [...spec.bounds] };
    const defaults = REGION_SPEC_DEFAULTS;
    if (spec.period !== defaults.period) r.period = spec.period;
    if (spec.is_output !== defaults.is_output) r.is_output = spec.is_output;
    if (spec.loss_weight !== defaults.loss_weight) r.loss_weight = spec.loss_weight;
    if (spec.semantic_type !== null) r.semantic_type = spec.semantic_type;
    if (spec.semantic_embedding !== null) r.semantic_embedding = [...spec.semantic_embedding];
    if (spec.embedding_model !== defaults.embedding_model) r.embedding_model = spec.embedding_model;
    if (spec.default_attn !== defaults.default_attn) r.default_attn = spec.default_attn;
    if (spec.carrier !== defaults.carrier) r.carrier = spec.carrier;
    regions[name] = r;
  }
  const layoutJson: Json =
    layout.spatial_shape.length === 2
      ? { T: layout.T, H: layout.H, W: layout.W, d_model: layout.d_model, t_current: layout.t_current }
      : {
          T: layout.T,
          spatial_shape: [...layout.spatial_shape],
          d_model: layout.d_model,
          t_current: layout.t_current,
        };
  const out: Json = { schema_version: schema.schema_version, layout: layoutJson, regions };
  if (schema.topology !== null) {
    out.topology = schema.topology.connections.map((c) => {
      const cd: Json = { src: c.src, dst: c.dst };
      if (c.weight !== 1) cd.weight = c.weight;
      if (c.t_src !== null) cd.t_src = c.t_src;
      if (c.t_dst !== null) cd.t_dst = c.t_dst;
      if (c.fn !== null) cd.fn = c.fn;
      if (c.temporal_fill !== "hold") cd.temporal_fill = c.temporal_fill;
      if (c.interpolation_order !== 1) cd.interpolation_order = c.interpolation_order;
      return cd;
    });
  }
  if (Object.keys(schema.metadata).length > 0) out.metadata = { ...schema.metadata };
  return out;
}

/** JSON text of a schema (2-space indent, trailing newline). */
export function serializeSchema(schema: CanvasSchema): string {
  return `${JSON.stringify(schemaToJson(schema), null, 2)}\n`;
}

/** Region pairs (a in `a`, b in `b`) with embeddings from the same model and transfer distance <= threshold, nearest first. */
export function compatibleRegions(
  a: CanvasSchema,
  b: CanvasSchema,
  threshold = 0.3,
): Array<[string, string, number]> {
  const pairs: Array<[string, string, number]> = [];
  for (const [nameA, specA] of a.layout.regions) {
    if (specA.semantic_embedding === null) continue;
    for (const [nameB, specB] of b.layout.regions) {
      if (specB.semantic_embedding === null || specA.embedding_model !== specB.embedding_model) continue;
      const distance = transferDistance(specA, specB);
      if (distance <= threshold) pairs.push([nameA, nameB, distance]);
    }
  }
  return pairs.sort((x, y) => x[2] - y[2]);
}
