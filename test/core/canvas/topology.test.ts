import { describe, expect, it } from "vitest";
import {
  CanvasLayout,
  CanvasTopology,
  type Connection,
  connection,
  regionSpec,
  type TemporalFill,
} from "../../../app/core/canvas/index";

// fast: period 1 on lane 0 for t = 0..7 (flat index 2t); slow: period 4 on lane 1 (flat index 2t + 1).
function fastSlow(slowFrames: number, slowStart = 0): CanvasLayout {
  return new CanvasLayout({
    T: 8,
    H: 2,
    W: 1,
    d_model: 4,
    regions: {
      fast: [0, 8, 0, 1, 0, 1],
      slow: regionSpec([slowStart, slowStart + slowFrames, 1, 2, 0, 1], { period: 4 }),
    },
  });
}
const fastAt = (t: number) => 2 * t;
const slowAt = (t: number) => 2 * t + 1;

function entries(topology: CanvasTopology, layout: CanvasLayout): Array<[number, number, number]> {
  return [...topology.toAttentionMask(layout).entries()];
}

function readSlow(fill: TemporalFill, fields: Partial<Connection> = {}): CanvasTopology {
  return new CanvasTopology([
    connection("fast", "slow", { t_src: 0, t_dst: 0, temporal_fill: fill, ...fields }),
  ]);
}

describe("temporal fill in real-time space: a period-1 region reads a period-4 region (real times 0 and 4)", () => {
  const layout = fastSlow(2);

  it("HOLD reads the most recent slow value", () => {
    expect(entries(readSlow("hold"), layout)).toEqual([
      [fastAt(0), slowAt(0), 1],
      [fastAt(1), slowAt(0), 1],
      [fastAt(2), slowAt(0), 1],
      [fastAt(3), slowAt(0), 1],
      [fastAt(4), slowAt(1), 1],
      [fastAt(5), slowAt(1), 1],
      [fastAt(6), slowAt(1), 1],
      [fastAt(7), slowAt(1), 1],
    ]);
  });

  it("DROP connects only where the slow region has a value", () => {
    expect(entries(readSlow("drop", { weight: 0.5 }), layout)).toEqual([
      [fastAt(0), slowAt(0), 0.5],
      [fastAt(4), slowAt(1), 0.5],
    ]);
  });

  it("INTERPOLATE (order 1) lerps between past and future, then holds past the last update", () => {
    expect(entries(readSlow("interpolate"), layout)).toEqual([
      [fastAt(0), slowAt(0), 1],
      [fastAt(1), slowAt(0), 0.75],
      [fastAt(1), slowAt(1), 0.25],
      [fastAt(2), slowAt(0), 0.5],
      [fastAt(2), slowAt(1), 0.5],
      [fastAt(3), slowAt(0), 0.25],
      [fastAt(3), slowAt(1), 0.75],
      [fastAt(4), slowAt(1), 1],
      [fastAt(5), slowAt(1), 1],
      [fastAt(6), slowAt(1), 1],
      [fastAt(7), slowAt(1), 1],
    ]);
  });

  it("combines overlapping connections by max, never by sum", () => {
    const topology = new CanvasTopology([
      connection("fast", "slow", { t_src: 0, t_dst: 0, weight: 0.3 }),
      connection("fast", "slow", { t_src: 0, t_dst: 0, temporal_fill: "interpolate" }),
    ]);
    const mask = topology.toAttentionMask(layout);
    expect(mask.weight(fastAt(1), slowAt(0))).toBe(0.75);
    expect(mask.weight(fastAt(3), slowAt(0))).toBe(Math.fround(0.3));
    expect(mask.weight(fastAt(3), slowAt(1))).toBe(0.75);
    expect(mask.weight(fastAt(6), slowAt(1))).toBe(1);
    expect(mask.weight(fastAt(6), slowAt(0))).toBe(0);
  });
});

describe("INTERPOLATE order 2: inverse-distance weighting over the 3 nearest slow updates (real times 0, 4, 8)", () => {
  const layout = fastSlow(3);
  const mask = readSlow("interpolate", { interpolation_order: 2, weight: 0.5 }).toAttentionMask(layout);

  it("at real time 1: distances 1, 3, 7 -> weights 441/499, 49/499, 9/499 (times 0.5)", () => {
    expect(mask.weight(fastAt(1), slowAt(0))).toBe(Math.fround((0.5 * 441) / 499));
    expect(mask.weight(fastAt(1), slowAt(1))).toBe(Math.fround((0.5 * 49) / 499));
    expect(mask.weight(fastAt(1), slowAt(2))).toBe(Math.fround((0.5 * 9) / 499));
  });

  it("at real time 6: distances 6, 2, 2 -> weights 1/19, 9/19, 9/19 (times 0.5)", () => {
    expect(mask.weight(fastAt(6), slowAt(0))).toBe(Math.fround(0.5 / 19));
    expect(mask.weight(fastAt(6), slowAt(1))).toBe(Math.fround((0.5 * 9) / 19));
    expect(mask.weight(fastAt(6), slowAt(2))).toBe(Math.fround((0.5 * 9) / 19));
  });

  it("an exact hit wins over interpolation (real time 4 reads only slow t=1)", () => {
    const { keys, weights } = mask.row(fastAt(4));
    expect([...keys]).toEqual([slowAt(1)]);
    expect([...weights]).toEqual([0.5]);
  });

  it("with order 1 only two anchors are used", () => {
    const lerp = readSlow("interpolate").toAttentionMask(layout);
    expect([...lerp.row(fastAt(6)).keys]).toEqual([slowAt(1), slowAt(2)]);
  });
});

describe("edges of the fill resolution", () => {
  it("keeps the real-time cache quirk: absolute canvas t x period (slow starting at t=1 sits at real 4, 8)", () => {
    const layout = fastSlow(2, 1);
    expect(layout.realFrame("slow", 0)).toBe(0); // region-relative, unlike the mask's cache
    expect(entries(readSlow("hold"), layout).slice(0, 2)).toEqual([
      [fastAt(4), slowAt(1), 1],
      [fastAt(5), slowAt(1), 1],
    ]);
    expect(entries(readSlow("interpolate"), layout)[0]).toEqual([fastAt(0), slowAt(1), 1]); // only a future anchor
  });

  it("a negative target has no past: HOLD gives nothing, INTERPOLATE uses the future", () => {
    const layout = fastSlow(2);
    const prev = (fill: TemporalFill) =>
      new CanvasTopology([connection("fast", "fast", { t_src: 0, t_dst: -1, temporal_fill: fill })]);
    expect(prev("hold").toAttentionMask(layout).row(fastAt(0)).keys.length).toBe(0);
    expect(prev("hold").toAttentionMask(layout).weight(fastAt(3), fastAt(2))).toBe(1);
    expect([...prev("interpolate").toAttentionMask(layout).row(fastAt(0)).keys]).toEqual([fastAt(0)]);
  });

  it("scales the target by the src period when t_src is set, and by 1 when it is not", () => {
    const layout = fastSlow(2);
    const withSrc = new CanvasTopology([connection("slow", "fast", { t_src: 0, t_dst: 0 })]);
    expect(entries(withSrc, layout)).toEqual([
      [slowAt(0), fastAt(0), 1],
      [slowAt(1), fastAt(4), 1],
    ]);
    const allSrc = new CanvasTopology([connection("slow", "fast", { t_dst: 0 })]).toAttentionMask(layout);
    expect([...allSrc.row(slowAt(1)).keys]).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map(fastAt));
  });

  it("t_src without t_dst pairs the src frame with every dst position", () => {
    const layout = fastSlow(2);
    const mask = new CanvasTopology([connection("fast", "slow", { t_src: -6 })]).toAttentionMask(layout);
    expect([...mask.row(fastAt(0)).keys]).toEqual([slowAt(0), slowAt(1)]);
    expect([...mask.row(fastAt(1)).keys]).toEqual([slowAt(0), slowAt(1)]);
    expect(mask.row(fastAt(2)).keys.length).toBe(0); // ref + t_src = 2 needs ref = 8 >= T
  });

  it("dense-in-time connections pair every src with every dst; unknown regions are skipped", () => {
    const layout = fastSlow(2);
    const topology = new CanvasTopology([
      connection("slow", "slow", { weight: 0.25 }),
      connection("ghost", "slow"),
    ]);
    expect(entries(topology, layout)).toEqual([
      [slowAt(0), slowAt(0), 0.25],
      [slowAt(0), slowAt(1), 0.25],
      [slowAt(1), slowAt(0), 0.25],
      [slowAt(1), slowAt(1), 0.25],
    ]);
  });
});

describe("CanvasTopology constructors and queries", () => {
  const pairs = (t: CanvasTopology) => t.connections.map((c) => `${c.src}>${c.dst}`);

  it("builds dense, isolated, hub_spoke and causal_chain", () => {
    expect(pairs(CanvasTopology.dense(["a", "b"]))).toEqual(["a>a", "a>b", "b>a", "b>b"]);
    expect(pairs(CanvasTopology.isolated(["a", "b"]))).toEqual(["a>a", "b>b"]);
    expect(pairs(CanvasTopology.hubSpoke("h", ["a", "b"]))).toEqual([
      "h>h",
      "a>a",
      "b>b",
      "h>a",
      "a>h",
      "h>b",
      "b>h",
    ]);
    expect(pairs(CanvasTopology.hubSpoke("h", ["a"], false))).toEqual(["h>h", "a>a", "h>a"]);
    expect(pairs(CanvasTopology.causalChain(["o", "p", "a"]))).toEqual(["o>o", "p>p", "a>a", "p>o", "a>p"]);
  });

  it("builds causal_temporal: same- and previous-frame self, previous-frame cross, all with the fill mode", () => {
    const t = CanvasTopology.causalTemporal(["a", "b"], null, "drop");
    expect(t.connections.map((c) => [c.src, c.dst, c.t_src, c.t_dst, c.temporal_fill])).toEqual([
      ["a", "a", 0, 0, "drop"],
      ["a", "a", 0, -1, "drop"],
      ["b", "b", 0, 0, "drop"],
      ["b", "b", 0, -1, "drop"],
      ["a", "b", 0, -1, "drop"],
      ["b", "a", 0, -1, "drop"],
    ]);
    const layout = new CanvasLayout({
      T: 3,
      H: 2,
      W: 1,
      d_model: 2,
      regions: { a: [0, 3, 0, 1, 0, 1], b: [0, 3, 1, 2, 0, 1] },
    });
    const mask = CanvasTopology.causalTemporal(["a", "b"]).toAttentionMask(layout);
    expect([...mask.row(0).keys]).toEqual([0]); // a at t=0: itself only
    expect([...mask.row(2).keys]).toEqual([0, 1, 2]); // a at t=1: a(0), b(0), a(1)
    expect([...mask.row(5).keys]).toEqual([2, 3, 5]); // b at t=2: a(1), b(1), b(2)
  });

  it("resolves fn: connection fn, then src default_attn, then cross_attention", () => {
    const layout = new CanvasLayout({
      T: 1,
      H: 2,
      W: 1,
      d_model: 2,
      regions: { a: regionSpec([0, 1, 0, 1, 0, 1], { default_attn: "perceiver" }), b: [0, 1, 1, 2, 0, 1] },
    });
    const t = new CanvasTopology([
      connection("a", "b"),
      connection("b", "a"),
      connection("a", "a", { fn: "mamba", weight: 0.5 }),
    ]);
    expect(t.attentionOps(layout)).toEqual([
      ["a", "b", 1, "perceiver"],
      ["b", "a", 1, "cross_attention"],
      ["a", "a", 0.5, "mamba"],
    ]);
    expect(t.resolveFn(t.connections[0]!)).toBe("cross_attention");
    expect(t.neighborsOf("a")).toEqual(["b", "a"]);
    expect(t.attendedBy("a")).toEqual(["b", "a"]);
    expect([...t.regions].sort()).toEqual(["a", "b"]);
  });

  it("gives block adjacency by max weight and a summary", () => {
    const t = new CanvasTopology([
      connection("a", "b", { weight: 0.2 }),
      connection("a", "b", { weight: 0.7, t_src: 0, t_dst: -1 }),
      connection("b", "a"),
      connection("a", "a", { t_src: 0, t_dst: 0, temporal_fill: "interpolate" }),
    ]);
    expect(t.toBlockAdjacency()).toEqual([
      { src: "a", dst: "b", weight: 0.7 },
      { src: "b", dst: "a", weight: 1 },
      { src: "a", dst: "a", weight: 1 },
    ]);
    expect(t.summary()).toBe(
      [
        "CanvasTopology (4 ops, 2 regions):",
        "  a ↺ self  (w=1.00)",
        "  a ↔ b  (w=0.70)",
        "  b ↔ a  (w=1.00)",
        "  [2 temporal constraints: hold=1, interpolate=1]",
      ].join("\n"),
    );
  });
});

describe("dense and additive masks", () => {
  it("to_additive_mask: 0 where attended, -inf elsewhere, uncovered rows attend their own position", () => {
    const layout = new CanvasLayout({ T: 1, H: 3, W: 1, d_model: 2, regions: { a: [0, 1, 0, 2, 0, 1] } });
    const t = new CanvasTopology([connection("a", "a", { weight: 0.5 })]);
    expect([...t.toAttentionMask(layout).toDense()]).toEqual([0.5, 0.5, 0, 0.5, 0.5, 0, 0, 0, 0]);
    const inf = Number.NEGATIVE_INFINITY;
    expect([...t.toAdditiveMask(layout)]).toEqual([0, 0, inf, 0, 0, inf, inf, inf, 0]);
  });

  it("keeps a seed-sized mask sparse: screen self-attention over 9216 positions without N x N storage", () => {
    const layout = new CanvasLayout({
      T: 16,
      H: 32,
      W: 32,
      d_model: 8,
      regions: { screen: [0, 16, 0, 24, 0, 24], mouse: [0, 16, 24, 26, 0, 4] },
    });
    const mask = CanvasTopology.causalTemporal(["screen", "mouse"]).toAttentionMask(layout);
    const q = layout.flatIndex(5, 24, 1);
    const row = mask.row(q);
    expect(row.keys.length).toBe(576 + 8 + 8); // screen at t=4, mouse at t=4 and t=5
    expect(() => mask.toDense()).toThrow(/too large for a dense copy/);
  });
});
