// CanvasLayout: the canvas grid (T canvas frames by a spatial shape) and its named regions, with index
// arithmetic, masks and the real-time <-> canvas-frame mapping (a port of canvas_engineering's CanvasLayout).
// Pure and immutable; any layer may call it.
import { CanvasError } from "./errors";
import { type Bounds, type RegionSpec, regionSpec, show, validateRegionSpec } from "./region-spec";

/** A region as given: a full RegionSpec, or raw bounds that auto-wrap as RegionSpec with defaults. */
export type RegionInput = RegionSpec | Bounds;

export interface CanvasLayoutInit {
  readonly T: number;
  readonly d_model: number;
  /** Either H/W (2-D, a missing one counts as 1) or spatial_shape (any number of dims), not both. */
  readonly H?: number;
  readonly W?: number;
  readonly spatial_shape?: readonly number[];
  /** Regions in order (the order is kept: it decides summation order and JSON output). */
  readonly regions?: Readonly<Record<string, RegionInput>> | Iterable<readonly [string, RegionInput]>;
  /** Canvas frames t >= t_current are the future (output). */
  readonly t_current?: number;
}

function isSpec(region: RegionInput): region is RegionSpec {
  return !Array.isArray(region);
}

function regionEntries(regions: CanvasLayoutInit["regions"]): Array<readonly [string, RegionInput]> {
  if (regions === undefined) return [];
  if (Symbol.iterator in regions) return [...(regions as Iterable<readonly [string, RegionInput]>)];
  return Object.entries(regions as Record<string, RegionInput>);
}

function requireInteger(value: unknown, path: string, min: number, what: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw new CanvasError(`${path}: expected ${what}, got ${show(value)}`);
  }
  return value;
}

export class CanvasLayout {
  readonly T: number;
  readonly d_model: number;
  readonly spatial_shape: readonly number[];
  readonly t_current: number;
  readonly regions: ReadonlyMap<string, RegionSpec>;
  /** Row-major strides of (t, s0, s1, ...): (prod S, prod S[1:], ..., 1). */
  readonly strides: readonly number[];
  readonly numPositions: number;
  readonly #indexCache = new Map<string, Int32Array>();

  constructor(init: CanvasLayoutInit) {
    this.T = requireInteger(init.T, "layout.T", 1, "a positive integer (canvas frames)");
    this.d_model = requireInteger(init.d_model, "layout.d_model", 1, "a positive integer");
    const hasHW = init.H !== undefined || init.W !== undefined;
    if (hasHW && init.spatial_shape !== undefined) {
      throw new CanvasError("layout: give the spatial shape either as H/W or as spatial_shape, not both");
    }
    let shape: readonly unknown[];
    if (hasHW) {
      shape = [init.H ?? 1, init.W ?? 1];
    } else {
      if (init.spatial_shape !== undefined && !Array.isArray(init.spatial_shape)) {
        throw new CanvasError(
          `layout.spatial_shape: expected an array of positive integers, got ${show(init.spatial_shape)}`,
        );
      }
      shape = init.spatial_shape ?? [];
    }
    if (shape.length === 0) {
      throw new CanvasError("layout: the spatial shape is empty; give H and W, or a non-empty spatial_shape");
    }
    const fieldName = (i: number) =>
      hasHW ? (i === 0 ? "layout.H" : "layout.W") : `layout.spatial_shape[${i}]`;
    this.spatial_shape = Object.freeze(
      shape.map((d, i) => requireInteger(d, fieldName(i), 1, "a positive integer")),
    );
    const t_current = init.t_current ?? 0;
    if (
      typeof t_current !== "number" ||
      !Number.isInteger(t_current) ||
      t_current < 0 ||
      t_current > this.T
    ) {
      throw new CanvasError(
        `layout.t_current: expected an integer from 0 to T=${this.T}, got ${show(t_current)}`,
      );
    }
    this.t_current = t_current;

    const dims = [this.T, ...this.spatial_shape];
    const strides = new Array<number>(dims.length);
    let stride = 1;
    for (let i = dims.length - 1; i >= 0; i--) {
      strides[i] = stride;
      stride *= dims[i]!;
    }
    this.strides = Object.freeze(strides);
    this.numPositions = stride;
    if (!Number.isSafeInteger(stride) || stride > 0x7fffffff) {
      throw new CanvasError(
        `layout: ${stride} positions is too many (limit 2^31-1); use a smaller T or spatial shape`,
      );
    }

    const regions = new Map<string, RegionSpec>();
    for (const [name, region] of regionEntries(init.regions)) {
      const path = `regions.${name}`;
      if (typeof name !== "string" || name === "")
        throw new CanvasError("regions: a region name is empty; name it");
      if (regions.has(name))
        throw new CanvasError(`${path}: the region is declared twice; give each region one name`);
      const spec = isSpec(region) ? regionSpec(region.bounds, region) : regionSpec(region);
      validateRegionSpec(spec, path);
      this.#checkBounds(spec.bounds, `${path}.bounds`);
      regions.set(name, spec);
    }
    this.regions = regions;
  }

  #checkBounds(bounds: Bounds, path: string): void {
    const n = this.spatial_shape.length;
    if (!Array.isArray(bounds) || bounds.length !== 2 + 2 * n) {
      throw new CanvasError(
        `${path}: expected ${2 + 2 * n} integers (t0, t1${n >= 1 ? ", h0, h1" : ""}${n >= 2 ? ", w0, w1" : ""}${n > 2 ? ", ..." : ""}) for a ${n}-D spatial shape, got ${show(bounds)}`,
      );
    }
    const dims = [this.T, ...this.spatial_shape];
    for (let axis = 0; axis < dims.length; axis++) {
      const lo = bounds[2 * axis];
      const hi = bounds[2 * axis + 1];
      const limit = dims[axis]!;
      if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo! < 0 || lo! > hi! || hi! > limit) {
        throw new CanvasError(
          `${path}[${2 * axis}..${2 * axis + 1}]: expected integers 0 <= lo <= hi <= ${limit} for axis ${axis === 0 ? "t" : `s${axis - 1}`}, got ${show([lo, hi])}; keep regions inside the grid`,
        );
      }
    }
  }

  get H(): number {
    return this.spatial_shape[0]!;
  }

  /** The second spatial dim, or null for a 1-D spatial shape. */
  get W(): number | null {
    return this.spatial_shape[1] ?? null;
  }

  regionNames(): string[] {
    return [...this.regions.keys()];
  }

  regionSpec(name: string): RegionSpec {
    const spec = this.regions.get(name);
    if (spec === undefined) {
      throw new CanvasError(
        `unknown region ${show(name)}; the layout has: ${this.regionNames().join(", ") || "(no regions)"}`,
      );
    }
    return spec;
  }

  /** Row-major flat index of (t, s0, s1, ...). */
  flatIndex(t: number, ...spatial: number[]): number {
    let index = t * this.strides[0]!;
    for (let i = 0; i < spatial.length; i++) index += spatial[i]! * this.strides[i + 1]!;
    return index;
  }

  /** The coordinates (t, s0, s1, ...) of a flat index (inverse of flatIndex). */
  coordinates(index: number): number[] {
    const out: number[] = [];
    let rest = index;
    for (const stride of this.strides) {
      out.push(Math.floor(rest / stride));
      rest %= stride;
    }
    return out;
  }

  /** Extent per axis: (t1 - t0, s0_hi - s0_lo, ...). */
  regionSize(name: string): number[] {
    const b = this.regionSpec(name).bounds;
    const size: number[] = [];
    for (let axis = 0; 2 * axis + 1 < b.length; axis++) size.push(b[2 * axis + 1]! - b[2 * axis]!);
    return size;
  }

  regionNumel(name: string): number {
    return this.regionSize(name).reduce((a, b) => a * b, 1);
  }

  /** Flat indices of the region, ordered by t, then s0, ..., last spatial dim fastest (ascending). */
  regionIndices(name: string): Int32Array {
    const cached = this.#indexCache.get(name);
    if (cached !== undefined) return cached;
    const b = this.regionSpec(name).bounds;
    const out = new Int32Array(this.regionNumel(name));
    let k = 0;
    for (let t = b[0]!; t < b[1]!; t++) k = this.#fillSpatial(out, k, b, t);
    this.#indexCache.set(name, out);
    return out;
  }

  /** Flat indices of the region at absolute canvas frame `tAbs`; empty when tAbs is outside [t0, t1). */
  regionIndicesAtT(name: string, tAbs: number): Int32Array {
    const b = this.regionSpec(name).bounds;
    if (!(tAbs >= b[0]! && tAbs < b[1]!)) return new Int32Array(0);
    const numel = this.regionNumel(name) / (b[1]! - b[0]!);
    const out = new Int32Array(numel);
    this.#fillSpatial(out, 0, b, tAbs);
    return out;
  }

  #fillSpatial(out: Int32Array, start: number, b: Bounds, t: number): number {
    const n = this.spatial_shape.length;
    const coord = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      if (b[2 + 2 * i]! >= b[3 + 2 * i]!) return start;
      coord[i] = b[2 + 2 * i]!;
    }
    let k = start;
    for (;;) {
      let index = t * this.strides[0]!;
      for (let i = 0; i < n; i++) index += coord[i]! * this.strides[i + 1]!;
      out[k++] = index;
      let axis = n - 1;
      while (axis >= 0) {
        coord[axis]!++;
        if (coord[axis]! < b[3 + 2 * axis]!) break;
        coord[axis] = b[2 + 2 * axis]!;
        axis--;
      }
      if (axis < 0) return k;
    }
  }

  /** Absolute canvas frames covered by the region: t0 .. t1-1. */
  regionTimesteps(name: string): number[] {
    const b = this.regionSpec(name).bounds;
    const out: number[] = [];
    for (let t = b[0]!; t < b[1]!; t++) out.push(t);
    return out;
  }

  /** Flat indices of all grid positions (not only regions) with t >= t_current: the future, to be generated. */
  outputMask(): Int32Array {
    const start = this.t_current * this.strides[0]!;
    const out = new Int32Array(this.numPositions - start);
    for (let i = 0; i < out.length; i++) out[i] = start + i;
    return out;
  }

  /** Per position: sum of loss_weight over the is_output regions covering it (float32), 0 elsewhere. */
  lossWeightMask(): Float32Array {
    const weights = new Float32Array(this.numPositions);
    for (const [name, spec] of this.regions) {
      if (!spec.is_output) continue;
      for (const index of this.regionIndices(name)) weights[index]! += spec.loss_weight;
    }
    return weights;
  }

  /** Real-world frame of the region's canvas frame `canvasT` (relative to the region's start): canvasT * period. */
  realFrame(name: string, canvasT: number): number {
    return canvasT * this.regionSpec(name).period;
  }

  /**
   * Canvas frame (relative to the region's start) of real-world frame `realT`, or null when the region's
   * period is 0, realT is not on the period grid, or the frame lies outside the region. Floor division.
   */
  canvasFrame(name: string, realT: number): number | null {
    const spec = this.regionSpec(name);
    const period = spec.period;
    if (period === 0) return null;
    const q = Math.floor(realT / period);
    const r = realT - q * period;
    if (r !== 0) return null;
    if (q < 0 || q >= spec.bounds[1]! - spec.bounds[0]!) return null;
    return q;
  }
}
