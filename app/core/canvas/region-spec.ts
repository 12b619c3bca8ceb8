// RegionSpec: how one named region of a CanvasLayout behaves (a faithful port of canvas_engineering's RegionSpec).
// Pure data, no I/O. Owned by app/core/canvas; the project document stores RegionSpecs on its regions.

export const CARRIERS = ["deterministic", "diffusive", "filter", "memory", "residual"] as const;
export type Carrier = (typeof CARRIERS)[number];

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
