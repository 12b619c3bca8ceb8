// The sampler contract: a tool that draws new encodings given conditioning material and an inference context.
// Owned by app/spaces/samplers; implemented by each sampler (markov.ts first), called by the engine host, the
// lookahead renderer (generative regions) and the CLI. Pure types plus the context checks every sampler shares.
import type { MidiSequence } from "../midi/sequence";

/** Same context and seed, same result (see docs/samplers.md). */
export interface InferenceContext {
  /** 0 = always the most likely choice; 1 = the model's own distribution; higher = flatter. */
  readonly temperature: number;
  /** Nucleus filtering: keep the most likely choices whose probabilities sum to at least this (0 < top_p <= 1). */
  readonly top_p: number;
  /** Integer in 0..2^53-1. */
  readonly seed: number;
  /** A style embedding or label; recorded, and used by samplers that understand it. */
  readonly style?: readonly number[] | string;
}

export interface SampleRequest {
  /** Material to learn from and continue (history); the last sequence is the one continued. */
  readonly conditioning: readonly MidiSequence[];
  readonly context: InferenceContext;
  /** Length of the material to generate, in quarter-note beats. */
  readonly spanBeats: number;
}

export interface Sampler {
  /** Tool name recorded in lineage, e.g. "markov.v1". */
  readonly name: string;
  /** Parameters that, with the request, determine the result (recorded in lineage). */
  readonly params: Readonly<Record<string, unknown>>;
  sample(request: SampleRequest): MidiSequence;
}

export class SamplerInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SamplerInputError";
  }
}

export function checkContext(context: InferenceContext): void {
  const { temperature, top_p, seed } = context;
  if (!(Number.isFinite(temperature) && temperature >= 0)) {
    throw new SamplerInputError(
      `temperature is ${temperature}; use a number >= 0 (0 = most likely, 1 = as learned)`,
    );
  }
  if (!(Number.isFinite(top_p) && top_p > 0 && top_p <= 1)) {
    throw new SamplerInputError(`top_p is ${top_p}; use a number in (0, 1] (1 = no filtering)`);
  }
  if (!(Number.isSafeInteger(seed) && seed >= 0)) {
    throw new SamplerInputError(`seed is ${seed}; use a whole number from 0 to ${Number.MAX_SAFE_INTEGER}`);
  }
}

/**
 * Reshapes weights by temperature (p^(1/T), T = 0: argmax) and nucleus filtering, then draws an index with `u`
 * in [0, 1). `weights` must be ordered most likely first, ties in a fixed order; returns an index into it.
 */
export function drawIndex(weights: readonly number[], temperature: number, topP: number, u: number): number {
  if (weights.length === 0) throw new RangeError("nothing to draw from");
  if (temperature === 0 || weights.length === 1) return 0;
  const total = weights.reduce((sum, w) => sum + w, 0);
  const logMax = Math.log(weights[0]! / total);
  const shaped = weights.map((w) => Math.exp((Math.log(w / total) - logMax) / temperature));
  const shapedTotal = shaped.reduce((sum, w) => sum + w, 0);
  let kept = 0;
  let cumulative = 0;
  while (kept < shaped.length) {
    cumulative += shaped[kept]! / shapedTotal;
    kept += 1;
    if (cumulative >= topP) break;
  }
  const keptTotal = shaped.slice(0, kept).reduce((sum, w) => sum + w, 0);
  let target = u * keptTotal;
  for (let i = 0; i < kept; i++) {
    target -= shaped[i]!;
    if (target < 0) return i;
  }
  return kept - 1;
}
