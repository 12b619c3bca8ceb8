// CanvasTopology: connections between regions (src queries attend dst keys), their temporal fill modes, and
// compilation to an attention mask resolved in real-time space (a port of canvas_engineering's connectivity).
// Pure; any layer may call it. The mask is kept sparse as blocks (query set x key set, weight), combined by max.
import { CanvasError } from "./errors";
import type { CanvasLayout } from "./layout";

export const TEMPORAL_FILLS = ["drop", "hold", "interpolate"] as const;
/** drop: no connection; hold: most recent past value (default); interpolate: blend of surrounding values. */
export type TemporalFill = (typeof TEMPORAL_FILLS)[number];

export interface Connection {
  /** Region whose positions are the queries. */
  readonly src: string;
  /** Region whose positions are the keys/values. */
  readonly dst: string;
  readonly weight: number;
  /** Canvas-frame offset of the queries from the reference frame; null = all frames. */
  readonly t_src: number | null;
  /** Canvas-frame offset of the keys from the reference frame; null = all frames. */
  readonly t_dst: number | null;
  /** Attention function; null = the src region's default_attn. */
  readonly fn: string | null;
  readonly temporal_fill: TemporalFill;
  readonly interpolation_order: number;
}

export const CONNECTION_DEFAULTS: Omit<Connection, "src" | "dst"> = Object.freeze({
  weight: 1.0,
  t_src: null,
  t_dst: null,
  fn: null,
  temporal_fill: "hold",
  interpolation_order: 1,
});

export function connection(
  src: string,
  dst: string,
  fields: Partial<Omit<Connection, "src" | "dst">> = {},
): Connection {
  return Object.freeze({ ...CONNECTION_DEFAULTS, ...fields, src, dst });
}

/** One rectangle of the mask: every query attends every key with `weight` (float32). Keys are ascending. */
export interface MaskBlock {
  readonly queries: Int32Array;
  readonly keys: Int32Array;
  readonly weight: number;
}

/** Past-to-future sorted real times of a region that hold positions, with their indices. */
export interface RealTimeCache {
  readonly times: number[];
  readonly indices: Map<number, Int32Array>;
}

type Resolved = Array<readonly [Int32Array, number]>;

function containsSorted(values: Int32Array, x: number): boolean {
  let lo = 0;
  let hi = values.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = values[mid]!;
    if (v === x) return true;
    if (v < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

function nearestPast(cache: RealTimeCache, target: number): number | null {
  let best: number | null = null;
  for (const t of cache.times) {
    if (t >= 0 && t <= target - 1) best = t;
    else if (t > target - 1) break;
  }
  return best;
}

function nearestFuture(cache: RealTimeCache, target: number, maxRealT: number): number | null {
  for (const t of cache.times) if (t >= target + 1 && t < maxRealT) return t;
  return null;
}

/** dst positions and weights for a temporal connection at real time `target` (exact hit wins in every mode). */
export function resolveTemporalFill(
  conn: Connection,
  cache: RealTimeCache,
  target: number,
  maxRealT: number,
): Resolved {
  const exact = cache.indices.get(target);
  if (exact !== undefined && exact.length > 0) return [[exact, conn.weight]];
  const at = (t: number) => cache.indices.get(t)!;
  switch (conn.temporal_fill) {
    case "drop":
      return [];
    case "hold": {
      const past = nearestPast(cache, target);
      return past === null ? [] : [[at(past), conn.weight]];
    }
    case "interpolate": {
      if (conn.interpolation_order <= 1) {
        const past = nearestPast(cache, target);
        const future = nearestFuture(cache, target, maxRealT);
        if (past !== null && future !== null) {
          const pastD = target - past;
          const futureD = future - target;
          const span = pastD + futureD;
          return [
            [at(past), (futureD / span) * conn.weight],
            [at(future), (pastD / span) * conn.weight],
          ];
        }
        if (past !== null) return [[at(past), conn.weight]];
        if (future !== null) return [[at(future), conn.weight]];
        return [];
      }
      const order = conn.interpolation_order;
      const anchors = cache.times
        .map((t) => [t, Math.abs(t - target)] as const)
        .filter(([, d]) => d > 0)
        .sort((a, b) => a[1] - b[1])
        .slice(0, order + 1);
      if (anchors.length === 0) return [];
      const raw = anchors.map(([, d]) => 1 / d ** order);
      const total = raw.reduce((a, b) => a + b, 0);
      if (total < 1e-12) return [];
      return anchors.map(([t], i) => [at(t), (raw[i]! / total) * conn.weight] as const);
    }
  }
}

export class AttentionMask {
  readonly numPositions: number;
  readonly blocks: readonly MaskBlock[];
  readonly #rowStart: Int32Array;
  readonly #rowBlocks: Int32Array;
  #scratch: Float32Array | null = null;
  #seen: Uint8Array | null = null;

  constructor(numPositions: number, blocks: readonly MaskBlock[]) {
    this.numPositions = numPositions;
    this.blocks = blocks.filter((b) => b.weight > 0 && b.queries.length > 0 && b.keys.length > 0);
    const counts = new Int32Array(numPositions + 1);
    for (const block of this.blocks) for (const q of block.queries) counts[q + 1]!++;
    for (let i = 0; i < numPositions; i++) counts[i + 1]! += counts[i]!;
    this.#rowStart = counts;
    const fill = counts.slice(0, numPositions);
    this.#rowBlocks = new Int32Array(counts[numPositions]!);
    this.blocks.forEach((block, id) => {
      for (const q of block.queries) this.#rowBlocks[fill[q]!++] = id;
    });
  }

  /** The keys query `q` attends (ascending) with their weights (max over blocks). */
  row(q: number): { keys: Int32Array; weights: Float32Array } {
    this.#scratch ??= new Float32Array(this.numPositions);
    this.#seen ??= new Uint8Array(this.numPositions);
    const scratch = this.#scratch;
    const seen = this.#seen;
    const touched: number[] = [];
    for (let i = this.#rowStart[q]!; i < this.#rowStart[q + 1]!; i++) {
      const block = this.blocks[this.#rowBlocks[i]!]!;
      for (const k of block.keys) {
        if (seen[k] === 0) {
          seen[k] = 1;
          scratch[k] = block.weight;
          touched.push(k);
        } else if (block.weight > scratch[k]!) {
          scratch[k] = block.weight;
        }
      }
    }
    const keys = Int32Array.from(touched).sort();
    const weights = new Float32Array(keys.length);
    keys.forEach((k, i) => {
      weights[i] = scratch[k]!;
      seen[k] = 0;
      scratch[k] = 0;
    });
    return { keys, weights };
  }

  /** mask[q, k]: 0 when q does not attend k. */
  weight(q: number, k: number): number {
    let best = 0;
    for (let i = this.#rowStart[q]!; i < this.#rowStart[q + 1]!; i++) {
      const block = this.blocks[this.#rowBlocks[i]!]!;
      if (block.weight > best && containsSorted(block.keys, k)) best = block.weight;
    }
    return best;
  }

  /** Every non-zero entry as [query, key, weight], sorted by query then key. */
  *entries(): Generator<[number, number, number]> {
    for (let q = 0; q < this.numPositions; q++) {
      if (this.#rowStart[q] === this.#rowStart[q + 1]) continue;
      const { keys, weights } = this.row(q);
      for (let i = 0; i < keys.length; i++) yield [q, keys[i]!, weights[i]!];
    }
  }

  nonZeroCount(): number {
    let count = 0;
    for (let q = 0; q < this.numPositions; q++) {
      if (this.#rowStart[q] !== this.#rowStart[q + 1]) count += this.row(q).keys.length;
    }
    return count;
  }

  /** Dense (N x N) row-major copy; refuses above 2^26 entries (256 MB): use row() instead. */
  toDense(): Float32Array {
    const n = this.numPositions;
    if (n * n > 2 ** 26) {
      throw new CanvasError(`attention mask: ${n} x ${n} is too large for a dense copy; read it row by row`);
    }
    const out = new Float32Array(n * n);
    for (let q = 0; q < n; q++) {
      const { keys, weights } = this.row(q);
      keys.forEach((k, i) => {
        out[q * n + k] = weights[i]!;
      });
    }
    return out;
  }

  /** Dense additive mask: 0 where attended, -Infinity elsewhere; rows attending nothing get 0 on the diagonal. */
  toAdditiveDense(): Float32Array {
    const n = this.numPositions;
    const out = this.toDense();
    for (let q = 0; q < n; q++) {
      let any = false;
      for (let k = 0; k < n; k++) {
        if (out[q * n + k]! > 0) {
          out[q * n + k] = 0;
          any = true;
        } else {
          out[q * n + k] = Number.NEGATIVE_INFINITY;
        }
      }
      if (!any) out[q * n + q] = 0;
    }
    return out;
  }
}

export interface BlockAdjacency {
  readonly src: string;
  readonly dst: string;
  readonly weight: number;
}

export class CanvasTopology {
  readonly connections: readonly Connection[];

  constructor(connections: readonly Connection[] = []) {
    this.connections = Object.freeze([...connections]);
  }

  /** Every region attends every region, itself included. */
  static dense(regions: readonly string[]): CanvasTopology {
    return new CanvasTopology(regions.flatMap((s) => regions.map((d) => connection(s, d))));
  }

  /** Each region attends only itself. */
  static isolated(regions: readonly string[]): CanvasTopology {
    return new CanvasTopology(regions.map((r) => connection(r, r)));
  }

  /** Self-loops, hub -> each spoke, and (bidirectional) each spoke -> hub. */
  static hubSpoke(hub: string, spokes: readonly string[], bidirectional = true): CanvasTopology {
    const conns = [hub, ...spokes].map((r) => connection(r, r));
    for (const spoke of spokes) {
      conns.push(connection(hub, spoke));
      if (bidirectional) conns.push(connection(spoke, hub));
    }
    return new CanvasTopology(conns);
  }

  /** Self-loops and regions[i] -> regions[i - 1]. */
  static causalChain(regions: readonly string[]): CanvasTopology {
    const conns = regions.map((r) => connection(r, r));
    for (let i = 1; i < regions.length; i++) conns.push(connection(regions[i]!, regions[i - 1]!));
    return new CanvasTopology(conns);
  }

  /** Per region: same-frame and previous-frame self-attention; per ordered pair s != d: s reads d's previous frame. */
  static causalTemporal(
    regions: readonly string[],
    _layout: CanvasLayout | null = null,
    temporalFill: TemporalFill = "hold",
  ): CanvasTopology {
    const conns: Connection[] = [];
    for (const r of regions) {
      conns.push(connection(r, r, { t_src: 0, t_dst: 0, temporal_fill: temporalFill }));
      conns.push(connection(r, r, { t_src: 0, t_dst: -1, temporal_fill: temporalFill }));
    }
    for (const s of regions) {
      for (const d of regions) {
        if (s !== d) conns.push(connection(s, d, { t_src: 0, t_dst: -1, temporal_fill: temporalFill }));
      }
    }
    return new CanvasTopology(conns);
  }

  /** All region names that connections mention. */
  get regions(): Set<string> {
    return new Set(this.connections.flatMap((c) => [c.src, c.dst]));
  }

  get hasTemporalConstraints(): boolean {
    return this.connections.some((c) => c.t_src !== null || c.t_dst !== null);
  }

  /** connection.fn, else the src region's default_attn (when the layout has it), else "cross_attention". */
  resolveFn(conn: Connection, layout: CanvasLayout | null = null): string {
    if (conn.fn !== null) return conn.fn;
    const spec = layout?.regions.get(conn.src);
    return spec !== undefined ? spec.default_attn : "cross_attention";
  }

  /** [src, dst, weight, fn] per connection, in order. */
  attentionOps(layout: CanvasLayout | null = null): Array<[string, string, number, string]> {
    return this.connections.map((c) => [c.src, c.dst, c.weight, this.resolveFn(c, layout)]);
  }

  /** The regions `region` attends to (as queries). */
  neighborsOf(region: string): string[] {
    return this.connections.filter((c) => c.src === region).map((c) => c.dst);
  }

  /** The regions that attend to `region` (it is their keys/values). */
  attendedBy(region: string): string[] {
    return this.connections.filter((c) => c.dst === region).map((c) => c.src);
  }

  /** Region-level adjacency: one entry per (src, dst) in first-seen order with the max weight. */
  toBlockAdjacency(): BlockAdjacency[] {
    const byPair = new Map<string, { src: string; dst: string; weight: number }>();
    for (const c of this.connections) {
      const key = JSON.stringify([c.src, c.dst]);
      const seen = byPair.get(key);
      if (seen === undefined) byPair.set(key, { src: c.src, dst: c.dst, weight: Math.max(0, c.weight) });
      else seen.weight = Math.max(seen.weight, c.weight);
    }
    return [...byPair.values()];
  }

  /** One line per (src, dst) pair sorted by name ("↺ self", "↔", "→") and a count of temporal fill modes. */
  summary(): string {
    const adjacency = this.toBlockAdjacency();
    const pairs = new Set(adjacency.map((a) => JSON.stringify([a.src, a.dst])));
    const lines = [`CanvasTopology (${this.connections.length} ops, ${this.regions.size} regions):`];
    const sorted = [...adjacency].sort((a, b) =>
      a.src === b.src ? (a.dst < b.dst ? -1 : a.dst > b.dst ? 1 : 0) : a.src < b.src ? -1 : 1,
    );
    for (const { src, dst, weight } of sorted) {
      if (src === dst) lines.push(`  ${src} ↺ self  (w=${weight.toFixed(2)})`);
      else {
        const arrow = pairs.has(JSON.stringify([dst, src])) ? "↔" : "→";
        lines.push(`  ${src} ${arrow} ${dst}  (w=${weight.toFixed(2)})`);
      }
    }
    if (this.hasTemporalConstraints) {
      const temporal = this.connections.filter((c) => c.t_src !== null || c.t_dst !== null);
      const counts = new Map<string, number>();
      for (const c of temporal) counts.set(c.temporal_fill, (counts.get(c.temporal_fill) ?? 0) + 1);
      const fills = [...counts.entries()]
        .sort((a, b) => (a[0] < b[0] ? -1 : 1))
        .map(([f, n]) => `${f}=${n}`)
        .join(", ");
      lines.push(`  [${temporal.length} temporal constraints: ${fills}]`);
    }
    return lines.join("\n");
  }

  /**
   * The (N x N) mask: entry [q, k] > 0 when query q attends key k, valued by the connection weight
   * (fractional for interpolation), combined by max. Temporal fill is resolved in real-time space: a region's
   * canvas frame t (absolute) sits at real time t * its period. Connections naming unknown regions are skipped.
   */
  toAttentionMask(layout: CanvasLayout): AttentionMask {
    const T = layout.T;
    const frameCache = new Map<string, Map<number, Int32Array>>();
    const realCache = new Map<string, RealTimeCache>();
    let maxRealT = 0;
    for (const [name, spec] of layout.regions) {
      const frames = new Map<number, Int32Array>();
      const byReal = new Map<number, Int32Array>();
      for (const t of layout.regionTimesteps(name)) {
        const indices = layout.regionIndicesAtT(name, t);
        frames.set(t, indices);
        const realT = t * spec.period;
        byReal.set(realT, indices);
        if (realT + 1 > maxRealT) maxRealT = realT + 1;
      }
      frameCache.set(name, frames);
      const times = [...byReal.entries()]
        .filter(([, indices]) => indices.length > 0)
        .map(([t]) => t)
        .sort((a, b) => a - b);
      realCache.set(name, { times, indices: byReal });
    }
    if (maxRealT === 0) maxRealT = T;

    const blocks: MaskBlock[] = [];
    const push = (queries: Int32Array, keys: Int32Array, weight: number) => {
      const w = Math.fround(weight);
      if (w > 0 && queries.length > 0 && keys.length > 0) blocks.push({ queries, keys, weight: w });
    };
    const empty = new Int32Array(0);
    for (const conn of this.connections) {
      if (!layout.regions.has(conn.src) || !layout.regions.has(conn.dst)) continue;
      const srcAll = layout.regionIndices(conn.src);
      const dstAll = layout.regionIndices(conn.dst);
      const srcFrames = frameCache.get(conn.src)!;
      if (conn.t_src === null && conn.t_dst === null) {
        push(srcAll, dstAll, conn.weight);
      } else if (conn.t_dst !== null) {
        const dstReal = realCache.get(conn.dst)!;
        for (let ref = 0; ref < T; ref++) {
          let queries: Int32Array;
          let srcPeriod: number;
          if (conn.t_src !== null) {
            queries = srcFrames.get(ref + conn.t_src) ?? empty;
            srcPeriod = layout.regionSpec(conn.src).period;
          } else {
            queries = srcAll;
            srcPeriod = 1;
          }
          if (queries.length === 0) continue;
          const targetReal = (ref + conn.t_dst) * srcPeriod;
          for (const [keys, w] of resolveTemporalFill(conn, dstReal, targetReal, maxRealT))
            push(queries, keys, w);
        }
      } else {
        for (let ref = 0; ref < T; ref++) {
          push(srcFrames.get(ref + (conn.t_src as number)) ?? empty, dstAll, conn.weight);
        }
      }
    }
    return new AttentionMask(layout.numPositions, blocks);
  }

  /** Dense additive form of toAttentionMask: 0 = attend, -Infinity = blocked, empty rows self-attend. */
  toAdditiveMask(layout: CanvasLayout): Float32Array {
    return this.toAttentionMask(layout).toAdditiveDense();
  }
}
