// Differential test: the block-sparse AttentionMask against a plain N x N transcription of canvas-semantics.md 2.7
// (linear scans over real time, dense Float32Array), on random layouts and topologies.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CanvasLayout,
  CanvasTopology,
  type Connection,
  connection,
  regionSpec,
  TEMPORAL_FILLS,
} from "../../../app/core/canvas/index";

function referenceMask(layout: CanvasLayout, connections: readonly Connection[]): Float32Array {
  const n = layout.numPositions;
  const mask = new Float32Array(n * n);
  const set = (qs: ArrayLike<number>, ks: ArrayLike<number>, w: number) => {
    for (let i = 0; i < qs.length; i++) {
      for (let j = 0; j < ks.length; j++) {
        const at = qs[i]! * n + ks[j]!;
        mask[at] = Math.max(mask[at]!, w);
      }
    }
  };
  const real = new Map<string, Map<number, Int32Array>>();
  let maxRealT = 0;
  for (const [name, spec] of layout.regions) {
    const m = new Map<number, Int32Array>();
    for (const t of layout.regionTimesteps(name)) {
      m.set(t * spec.period, layout.regionIndicesAtT(name, t));
      maxRealT = Math.max(maxRealT, t * spec.period + 1);
    }
    real.set(name, m);
  }
  if (maxRealT === 0) maxRealT = layout.T;
  const has = (m: Map<number, Int32Array>, t: number) => (m.get(t)?.length ?? 0) > 0;
  for (const c of connections) {
    if (!layout.regions.has(c.src) || !layout.regions.has(c.dst)) continue;
    if (c.t_src === null && c.t_dst === null) {
      set(layout.regionIndices(c.src), layout.regionIndices(c.dst), c.weight);
      continue;
    }
    for (let ref = 0; ref < layout.T; ref++) {
      const src =
        c.t_src === null ? layout.regionIndices(c.src) : layout.regionIndicesAtT(c.src, ref + c.t_src);
      if (src.length === 0) continue;
      if (c.t_dst === null) {
        set(src, layout.regionIndices(c.dst), c.weight);
        continue;
      }
      const m = real.get(c.dst)!;
      const target = (ref + c.t_dst) * (c.t_src === null ? 1 : layout.regionSpec(c.src).period);
      if (has(m, target)) {
        set(src, m.get(target)!, c.weight);
        continue;
      }
      let past: number | null = null;
      for (let t = target - 1; t >= 0; t--) {
        if (has(m, t)) {
          past = t;
          break;
        }
      }
      let future: number | null = null;
      for (let t = target + 1; t < maxRealT; t++) {
        if (has(m, t)) {
          future = t;
          break;
        }
      }
      if (c.temporal_fill === "hold" && past !== null) set(src, m.get(past)!, c.weight);
      if (c.temporal_fill === "interpolate" && c.interpolation_order <= 1) {
        if (past !== null && future !== null) {
          const span = future - past;
          set(src, m.get(past)!, ((future - target) / span) * c.weight);
          set(src, m.get(future)!, ((target - past) / span) * c.weight);
        } else if (past !== null) set(src, m.get(past)!, c.weight);
        else if (future !== null) set(src, m.get(future)!, c.weight);
      }
      if (c.temporal_fill === "interpolate" && c.interpolation_order > 1) {
        const anchors: Array<[number, number]> = [];
        for (let t = 0; t < maxRealT; t++)
          if (has(m, t) && t !== target) anchors.push([t, Math.abs(t - target)]);
        anchors.sort((a, b) => a[1] - b[1] || a[0] - b[0]);
        const used = anchors.slice(0, c.interpolation_order + 1);
        const total = used.reduce((s, [, d]) => s + 1 / d ** c.interpolation_order, 0);
        if (used.length > 0 && total >= 1e-12) {
          for (const [t, d] of used) set(src, m.get(t)!, (1 / d ** c.interpolation_order / total) * c.weight);
        }
      }
    }
  }
  return mask;
}

const scenario = fc
  .record({
    T: fc.integer({ min: 2, max: 9 }),
    H: fc.integer({ min: 1, max: 3 }),
    W: fc.integer({ min: 1, max: 2 }),
  })
  .chain(({ T, H, W }) => {
    // Mostly non-empty extents, sometimes empty ones.
    const axis = (d: number) =>
      fc.oneof(
        {
          weight: 9,
          arbitrary: fc
            .integer({ min: 0, max: d - 1 })
            .chain((lo) => fc.tuple(fc.constant(lo), fc.integer({ min: lo + 1, max: d }))),
        },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: d }).map((x): [number, number] => [x, x]) },
      );
    const region = fc.record({
      bounds: fc.tuple(axis(T), axis(H), axis(W)).map((p) => p.flat()),
      period: fc.integer({ min: 0, max: 5 }),
    });
    const names = ["a", "b", "c"];
    const offset = fc.option(fc.integer({ min: -3, max: 3 }), { nil: null, freq: 4 });
    const conn = fc.record({
      src: fc.constantFrom(...names, "ghost"),
      dst: fc.constantFrom(...names),
      weight: fc.constantFrom(1, 0.5, 0.3, 2, 0, -1),
      t_src: offset,
      t_dst: offset,
      temporal_fill: fc.constantFrom(...TEMPORAL_FILLS),
      interpolation_order: fc.integer({ min: 1, max: 3 }),
    });
    return fc.record({
      layout: fc.array(region, { minLength: 3, maxLength: 3 }).map(
        (regions) =>
          new CanvasLayout({
            T,
            H,
            W,
            d_model: 2,
            regions: regions.map((r, i) => [names[i]!, regionSpec(r.bounds, { period: r.period })] as const),
          }),
      ),
      connections: fc
        .array(conn, { minLength: 1, maxLength: 8 })
        .map((cs) => cs.map(({ src, dst, ...rest }) => connection(src, dst, rest))),
    });
  });

describe("AttentionMask matches a dense reference", () => {
  it("on random layouts (periods 0..5, overlaps, empty regions) and random connections", () => {
    fc.assert(
      fc.property(scenario, ({ layout, connections }) => {
        const mask = new CanvasTopology(connections).toAttentionMask(layout);
        const want = referenceMask(layout, connections);
        expect(mask.toDense()).toEqual(want);
        const n = layout.numPositions;
        for (let q = 0; q < n; q++) {
          for (let k = 0; k < n; k++) expect(mask.weight(q, k)).toBe(want[q * n + k]);
        }
        expect(mask.nonZeroCount()).toBe(want.filter((w) => w > 0).length);
      }),
      { numRuns: 300 },
    );
  });
});
