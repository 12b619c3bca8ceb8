// SpatiotemporalCanvas: the (B, N, d_model) float32 canvas tensor of a layout with positional encoding, empty
// token, per-region modality embeddings and period embeddings; create_empty / place / extract.
// A port of canvas_engineering's SpatiotemporalCanvas without training: parameters are seeded (see rng.ts).
// Pure; any layer may call it.
import { CanvasError } from "./errors";
import type { CanvasLayout } from "./layout";
import { PeriodEmbedding } from "./period-embedding";
import { positionalEncoding } from "./positional-encoding";
import { seededNormal } from "./rng";

/** A dense float32 tensor of shape (a, b, c), row-major. */
export interface Tensor3 {
  readonly data: Float32Array;
  readonly shape: readonly [number, number, number];
}

export function tensor3(shape: readonly [number, number, number], data?: Float32Array): Tensor3 {
  const size = shape[0] * shape[1] * shape[2];
  const buffer = data ?? new Float32Array(size);
  if (buffer.length !== size) {
    throw new CanvasError(`tensor: ${buffer.length} values do not fill shape (${shape.join(", ")})`);
  }
  return { data: buffer, shape: [shape[0], shape[1], shape[2]] };
}

export class SpatiotemporalCanvas {
  readonly layout: CanvasLayout;
  /** (N, d_model): the positional encoding of every position. */
  readonly positional: Float32Array;
  readonly emptyToken: Float32Array;
  readonly periodEmbedding: PeriodEmbedding;
  readonly #modality = new Map<string, Float32Array>();

  constructor(layout: CanvasLayout) {
    this.layout = layout;
    const d = layout.d_model;
    this.positional = positionalEncoding([layout.T, ...layout.spatial_shape], d);
    this.emptyToken = seededNormal("empty_token", d, 0.02);
    this.periodEmbedding = new PeriodEmbedding(d);
    for (const name of layout.regions.keys()) {
      this.#modality.set(name, seededNormal(`modality/${name}`, d, 0.02));
    }
  }

  /** The learned-parameter stand-in of a region (seeded by its name). */
  modalityEmbedding(region: string): Float32Array {
    this.layout.regionSpec(region);
    return this.#modality.get(region)!;
  }

  /** (B, N, d): empty token + positional encoding everywhere, plus each covering region's period embedding. */
  createEmpty(batch: number): Tensor3 {
    if (!Number.isInteger(batch) || batch < 1) {
      throw new CanvasError(`create_empty: batch size must be a positive integer, got ${batch}`);
    }
    const { numPositions: n, d_model: d } = this.layout;
    const base = new Float32Array(n * d);
    for (let p = 0; p < n; p++) {
      for (let c = 0; c < d; c++) base[p * d + c] = this.emptyToken[c]! + this.positional[p * d + c]!;
    }
    for (const [name, spec] of this.layout.regions) {
      const period = this.periodEmbedding.vector(spec.period);
      for (const p of this.layout.regionIndices(name)) {
        for (let c = 0; c < d; c++) base[p * d + c]! += period[c]!;
      }
    }
    const out = new Float32Array(batch * n * d);
    for (let b = 0; b < batch; b++) out.set(base, b * n * d);
    return tensor3([batch, n, d], out);
  }

  /**
   * A copy of `canvas` with the region's positions set (assignment, not addition) to
   * emb + modality embedding + period embedding. `emb` is (B, n_in, d): rows beyond the region's numel are
   * dropped, missing rows are zeros. Row i goes to regionIndices(region)[i].
   */
  place(canvas: Tensor3, emb: Tensor3, region: string): Tensor3 {
    const spec = this.layout.regionSpec(region);
    const indices = this.layout.regionIndices(region);
    this.#checkCanvas(canvas, "place");
    const [batch, n, d] = canvas.shape;
    if (emb.shape[0] !== batch || emb.shape[2] !== d) {
      throw new CanvasError(
        `place: embeddings of shape (${emb.shape.join(", ")}) do not fit a canvas of shape (${canvas.shape.join(", ")}); expected (${batch}, n, ${d})`,
      );
    }
    const nIn = emb.shape[1];
    const modality = this.#modality.get(region)!;
    const period = this.periodEmbedding.vector(spec.period);
    const out = new Float32Array(canvas.data);
    for (let b = 0; b < batch; b++) {
      for (let i = 0; i < indices.length; i++) {
        const dst = (b * n + indices[i]!) * d;
        const src = (b * nIn + i) * d;
        for (let c = 0; c < d; c++) {
          const value = i < nIn ? emb.data[src + c]! : 0;
          out[dst + c] = Math.fround(value + modality[c]!) + period[c]!;
        }
      }
    }
    return tensor3([batch, n, d], out);
  }

  /** (B, numel, d): the region's rows in regionIndices order. */
  extract(canvas: Tensor3, region: string): Tensor3 {
    const indices = this.layout.regionIndices(region);
    this.#checkCanvas(canvas, "extract");
    const [batch, n, d] = canvas.shape;
    const out = new Float32Array(batch * indices.length * d);
    for (let b = 0; b < batch; b++) {
      for (let i = 0; i < indices.length; i++) {
        const src = (b * n + indices[i]!) * d;
        out.set(canvas.data.subarray(src, src + d), (b * indices.length + i) * d);
      }
    }
    return tensor3([batch, indices.length, d], out);
  }

  #checkCanvas(canvas: Tensor3, op: string): void {
    const { numPositions: n, d_model: d } = this.layout;
    if (canvas.shape[1] !== n || canvas.shape[2] !== d) {
      throw new CanvasError(
        `${op}: canvas of shape (${canvas.shape.join(", ")}) is not of this layout; expected (B, ${n}, ${d})`,
      );
    }
  }
}
