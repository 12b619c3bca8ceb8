// RegionSpec: how one named region of a CanvasLayout behaves (a faithful port of canvas_engineering's RegionSpec).
// Pure data, no I/O. Owned by app/core/canvas; the project document stores RegionSpecs on its regions.
import { CanvasError } from "./errors";

export const CARRIERS = ["deterministic", "diffusive", "filter", "memory", "residual"] as const;
export type Carrier = (typeof CARRIERS)[number];

/** Declared attention functions (the schema declares intent; an executor decides how to run it). */
export const ATTENTION_TYPES = [
  "cross_attention",
  "linear_attention",
  "cosine_attention",
  "sigmoid_attention",
  "gated",
  "perceiver",
  "pooling",
  "copy",
  "mamba",
  "rwkv",
  "hyena",
  "sparse_attention",
  "local_attention",
  "none",
  "random_fixed",
  "mixture",
  "cogvideox",
] as const;
export type AttentionType = (typeof ATTENTION_TYPES)[number];

/** Half-open bounds (t0, t1, s0_lo, s0_hi, s1_lo, s1_hi, ...): 2 + 2 * (number of spatial dims) integers. */
export type Bounds = readonly number[];

export interface RegionSpec {
  readonly bounds: Bounds;
  /** Canvas frames per real-world update (1 = every frame). */
  readonly period: number;
  /** True: realized by sampling (generative); false: conditioning input. */
  readonly is_output: boolean;
  readonly loss_weight: number;
  readonly semantic_type: string | null;
  readonly semantic_embedding: readonly number[] | null;
  readonly embedding_model: string;
  readonly default_attn: string;
  readonly carrier: Carrier;
}

export const REGION_SPEC_DEFAULTS: Omit<RegionSpec, "bounds"> = Object.freeze({
  period: 1,
  is_output: true,
  loss_weight: 1.0,
  semantic_type: null,
  semantic_embedding: null,
  embedding_model: "openai/text-embedding-3-small",
  default_attn: "cross_attention",
  carrier: "deterministic",
});

/** A RegionSpec from bounds plus any non-default fields (the seed's `RegionSpec(bounds=..., ...)`). */
export function regionSpec(bounds: Bounds, fields: Partial<Omit<RegionSpec, "bounds">> = {}): RegionSpec {
  return Object.freeze({ ...REGION_SPEC_DEFAULTS, ...fields, bounds: Object.freeze([...bounds]) });
}

export function isCarrier(value: unknown): value is Carrier {
  return typeof value === "string" && (CARRIERS as readonly string[]).includes(value);
}

/**
 * Checks the value ranges of a spec (not the bounds against a grid: CanvasLayout does that).
 * `path` prefixes error messages, e.g. `regions.thought`.
 */
export function validateRegionSpec(spec: RegionSpec, path: string): void {
  if (!Number.isInteger(spec.period) || spec.period < 0) {
    throw new CanvasError(
      `${path}.period: expected a non-negative integer (canvas frames per update), got ${show(spec.period)}`,
    );
  }
  if (typeof spec.is_output !== "boolean") {
    throw new CanvasError(`${path}.is_output: expected true or false, got ${show(spec.is_output)}`);
  }
  if (!Number.isFinite(spec.loss_weight)) {
    throw new CanvasError(`${path}.loss_weight: expected a finite number, got ${show(spec.loss_weight)}`);
  }
  if (spec.semantic_type !== null && typeof spec.semantic_type !== "string") {
    throw new CanvasError(
      `${path}.semantic_type: expected a string or null, got ${show(spec.semantic_type)}`,
    );
  }
  if (spec.semantic_embedding !== null) {
    if (!Array.isArray(spec.semantic_embedding) || spec.semantic_embedding.length === 0) {
      throw new CanvasError(
        `${path}.semantic_embedding: expected a non-empty array of numbers or null, got ${show(spec.semantic_embedding)}`,
      );
    }
    spec.semantic_embedding.forEach((x, i) => {
      if (!Number.isFinite(x)) {
        throw new CanvasError(`${path}.semantic_embedding[${i}]: expected a finite number, got ${show(x)}`);
      }
    });
  }
  if (typeof spec.embedding_model !== "string" || spec.embedding_model === "") {
    throw new CanvasError(
      `${path}.embedding_model: expected a non-empty string, got ${show(spec.embedding_model)}`,
    );
  }
  if (
    typeof spec.default_attn !== "string" ||
    !(ATTENTION_TYPES as readonly string[]).includes(spec.default_attn)
  ) {
    throw new CanvasError(
      `${path}.default_attn: expected one of ${ATTENTION_TYPES.join(", ")}, got ${show(spec.default_attn)}`,
    );
  }
  if (!isCarrier(spec.carrier)) {
    throw new CanvasError(
      `${path}.carrier: expected one of ${CARRIERS.join(", ")}, got ${show(spec.carrier)}`,
    );
  }
}

/**
 * Cosine distance 1 - cos(a, b) between two regions' semantic embeddings, in [0, 2] (float32 inputs).
 * Throws when an embedding is missing, the embedding models differ, or the dimensions differ.
 */
export function transferDistance(a: RegionSpec, b: RegionSpec): number {
  if (a.semantic_embedding === null || b.semantic_embedding === null) {
    throw new CanvasError(
      "transfer distance needs semantic_embedding on both regions; set it on the region specs",
    );
  }
  if (a.embedding_model !== b.embedding_model) {
    throw new CanvasError(
      `transfer distance: embedding model mismatch (${show(a.embedding_model)} vs ${show(b.embedding_model)}); ` +
        "it is only meaningful within one embedding space",
    );
  }
  const va = a.semantic_embedding;
  const vb = b.semantic_embedding;
  if (va.length !== vb.length) {
    throw new CanvasError(`transfer distance: embedding dimension mismatch (${va.length} vs ${vb.length})`);
  }
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < va.length; i++) {
    const x = Math.fround(va[i]!);
    const y = Math.fround(vb[i]!);
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  const eps = 1e-8;
  const cos = dot / Math.max(Math.sqrt(na) * Math.sqrt(nb), eps);
  return 1 - Math.fround(cos);
}

export function show(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
