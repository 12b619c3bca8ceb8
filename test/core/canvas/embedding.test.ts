import { describe, expect, it } from "vitest";
import {
  CanvasLayout,
  canvasSchema,
  channelAllocation,
  compatibleRegions,
  PeriodEmbedding,
  periodBucket,
  positionalEncoding,
  regionSpec,
  SpatiotemporalCanvas,
  seededNormal,
  tensor3,
  transferDistance,
} from "../../../app/core/canvas/index";
import { seedLayout } from "./seed-layout";

describe("PeriodEmbedding.bucket (the seed's formula)", () => {
  it("maps period 1 -> 0 and 576 -> 10", () => {
    const pe = new PeriodEmbedding(256, 16);
    expect(pe.bucket(1)).toBe(0);
    expect(pe.bucket(576)).toBe(10);
  });

  it("follows min(int(ln p / ln 10000 * 15), 15) for p > 1 and 0 below", () => {
    expect([0, 1, 2, 4, 16, 4608, 10000, 1e6].map((p) => periodBucket(p))).toEqual([
      0, 0, 1, 2, 4, 13, 15, 15,
    ]);
    // The library's code adds 1 (576 -> 11); the seed document, which we follow, does not.
    expect(Math.trunc((Math.log(576) / Math.log(10000)) * 15) + 1).toBe(11);
    expect(periodBucket(100, 8, 1)).toBe(7); // max_period guarded to 2, clamped to n_buckets - 1
  });

  it("gives a deterministic d_model vector per bucket", () => {
    const a = new PeriodEmbedding(8);
    const b = new PeriodEmbedding(8);
    expect(a.vector(4)).toEqual(b.vector(4));
    expect(a.vector(4)).toEqual(a.vector(5)); // same bucket 2
    expect(a.vector(4)).not.toEqual(a.vector(16));
    expect(a.vector(4).length).toBe(8);
  });
});

describe("seeded parameters", () => {
  it("are N(0, std) and the same for the same name", () => {
    const x = seededNormal("probe", 100_000, 0.02);
    const mean = x.reduce((a, b) => a + b, 0) / x.length;
    const std = Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length);
    expect(Math.abs(mean)).toBeLessThan(0.001);
    expect(std).toBeGreaterThan(0.0195);
    expect(std).toBeLessThan(0.0205);
    expect(seededNormal("probe", 5, 0.02)).toEqual(x.subarray(0, 5));
    expect(seededNormal("other", 5, 0.02)).not.toEqual(x.subarray(0, 5));
  });
});

describe("N-D sinusoidal positional encoding", () => {
  const expected1d = (pos: number, d: number): number[] => {
    const out: number[] = [];
    for (let c = 0; c < d; c++) {
      const k = Math.floor(c / 2);
      const angle = pos * Math.exp((2 * k * -Math.log(10000)) / d);
      out.push(c % 2 === 0 ? Math.sin(angle) : Math.cos(angle));
    }
    return out;
  };

  it("allocates d_model // n channels per axis, remainder to the last", () => {
    expect(channelAllocation(768, 3)).toEqual([256, 256, 256]);
    expect(channelAllocation(10, 3)).toEqual([3, 3, 4]);
    expect(channelAllocation(8, 4)).toEqual([2, 2, 2, 2]);
    expect(channelAllocation(2, 3)).toEqual([0, 0, 2]);
  });

  it("interleaves sin/cos per frequency, axis by axis (T, H, W)", () => {
    const pe = positionalEncoding([4, 3, 2], 12);
    const p = 3 * 6 + 2 * 2 + 1; // (t=3, h=2, w=1)
    const want = [...expected1d(3, 4), ...expected1d(2, 4), ...expected1d(1, 4)];
    const got = [...pe.subarray(p * 12, p * 12 + 12)];
    got.forEach((v, i) => {
      expect(v).toBeCloseTo(want[i]!, 6);
    });
    expect(got[0]).toBe(Math.fround(Math.sin(3)));
    expect(got[1]).toBe(Math.fround(Math.cos(3)));
  });

  it("ends an odd-width axis with a sin channel and handles N-D grids", () => {
    const pe = positionalEncoding([2, 5, 5], 10); // widths 3, 3, 4
    const p = 1 * 25 + 4 * 5 + 3;
    const want = [...expected1d(1, 3), ...expected1d(4, 3), ...expected1d(3, 4)];
    [...pe.subarray(p * 10, p * 10 + 10)].forEach((v, i) => {
      expect(v).toBeCloseTo(want[i]!, 6);
    });
    expect(want[2]).toBeCloseTo(Math.sin(1 * Math.exp((2 * -Math.log(10000)) / 3)), 12);
    const pe4 = positionalEncoding([2, 4, 4, 4], 8);
    const q = 1 * 64 + 3 * 16 + 2 * 4 + 1;
    const want4 = [...expected1d(1, 2), ...expected1d(3, 2), ...expected1d(2, 2), ...expected1d(1, 2)];
    [...pe4.subarray(q * 8, q * 8 + 8)].forEach((v, i) => {
      expect(v).toBeCloseTo(want4[i]!, 6);
    });
  });
});

describe("SpatiotemporalCanvas", () => {
  it("create_empty(4) on the seed layout has shape (4, T*H*W, d_model) = (4, 16384, 768) with the right sums", () => {
    const layout = seedLayout();
    const canvas = new SpatiotemporalCanvas(layout);
    const batch = canvas.createEmpty(4);
    expect(batch.shape).toEqual([4, 16384, 768]);
    expect(batch.data.length).toBe(4 * 16384 * 768);
    const d = 768;
    const at = (b: number, p: number, c: number) => batch.data[(b * 16384 + p) * d + c]!;
    const pe = canvas.positional;
    const uncovered = layout.flatIndex(9, 31, 31);
    const screen = layout.flatIndex(2, 3, 4);
    const thought = layout.flatIndex(3, 30, 7);
    for (const c of [0, 255, 256, 767]) {
      const base = Math.fround(canvas.emptyToken[c]! + pe[uncovered * d + c]!);
      expect(at(0, uncovered, c)).toBe(base);
      expect(at(3, uncovered, c)).toBe(base);
      expect(at(1, screen, c)).toBe(
        Math.fround(
          Math.fround(canvas.emptyToken[c]! + pe[screen * d + c]!) + canvas.periodEmbedding.vector(1)[c]!,
        ),
      );
      expect(at(2, thought, c)).toBe(
        Math.fround(
          Math.fround(canvas.emptyToken[c]! + pe[thought * d + c]!) + canvas.periodEmbedding.vector(4)[c]!,
        ),
      );
    }
  });

  const small = new CanvasLayout({
    T: 2,
    H: 2,
    W: 2,
    d_model: 3,
    regions: { a: regionSpec([0, 2, 0, 1, 0, 2], { period: 16 }), b: [1, 2, 0, 2, 1, 2] },
  });

  it("adds a period embedding once per covering region (overlaps get it twice)", () => {
    const canvas = new SpatiotemporalCanvas(small);
    const batch = canvas.createEmpty(1);
    const overlap = small.flatIndex(1, 0, 1); // in a and b
    const c = 2;
    const start = Math.fround(canvas.emptyToken[c]! + canvas.positional[overlap * 3 + c]!);
    const afterA = Math.fround(start + canvas.periodEmbedding.vector(16)[c]!);
    expect(batch.data[overlap * 3 + c]).toBe(Math.fround(afterA + canvas.periodEmbedding.vector(1)[c]!));
  });

  it("place assigns emb + modality + period (truncating extra rows) and extract reads them back in order", () => {
    const canvas = new SpatiotemporalCanvas(small);
    const empty = canvas.createEmpty(2);
    const before = Float32Array.from(empty.data);
    const emb = tensor3(
      [2, 6, 3],
      Float32Array.from({ length: 36 }, (_, i) => i / 8),
    );
    const placed = canvas.place(empty, emb, "a");
    expect(empty.data).toEqual(before); // a copy, not in place
    const out = canvas.extract(placed, "a");
    expect(out.shape).toEqual([2, 4, 3]);
    const mod = canvas.modalityEmbedding("a");
    const per = canvas.periodEmbedding.vector(16);
    for (let b = 0; b < 2; b++) {
      for (let i = 0; i < 4; i++) {
        for (let c = 0; c < 3; c++) {
          const e = emb.data[(b * 6 + i) * 3 + c]!;
          expect(out.data[(b * 4 + i) * 3 + c]).toBe(Math.fround(Math.fround(e + mod[c]!) + per[c]!));
        }
      }
    }
    const outside = small.flatIndex(0, 1, 0);
    expect(placed.data.subarray(outside * 3, outside * 3 + 3)).toEqual(
      empty.data.subarray(outside * 3, outside * 3 + 3),
    );
  });

  it("place zero-pads missing rows", () => {
    const canvas = new SpatiotemporalCanvas(small);
    const placed = canvas.place(canvas.createEmpty(1), tensor3([1, 1, 3], Float32Array.of(1, 2, 3)), "b");
    const rows = canvas.extract(placed, "b");
    const mod = canvas.modalityEmbedding("b");
    const per = canvas.periodEmbedding.vector(1);
    expect(rows.data[0]).toBe(Math.fround(Math.fround(1 + mod[0]!) + per[0]!));
    expect(rows.data[3]).toBe(Math.fround(Math.fround(0 + mod[0]!) + per[0]!));
    expect(() => canvas.place(canvas.createEmpty(1), tensor3([2, 1, 3]), "b")).toThrow(/do not fit a canvas/);
    expect(() => canvas.extract(canvas.createEmpty(1), "zzz")).toThrow(/unknown region "zzz"/);
  });

  it("seeds each region's modality embedding by its name, independent of the other regions", () => {
    const other = new CanvasLayout({ T: 1, H: 1, W: 1, d_model: 3, regions: { b: [0, 1, 0, 1, 0, 1] } });
    expect(new SpatiotemporalCanvas(other).modalityEmbedding("b")).toEqual(
      new SpatiotemporalCanvas(small).modalityEmbedding("b"),
    );
    expect(new SpatiotemporalCanvas(small).modalityEmbedding("a")).not.toEqual(
      new SpatiotemporalCanvas(small).modalityEmbedding("b"),
    );
  });
});

describe("transfer distance", () => {
  const spec = (e: number[] | null, model?: string) =>
    regionSpec(
      [0, 1, 0, 1, 0, 1],
      model === undefined ? { semantic_embedding: e } : { semantic_embedding: e, embedding_model: model },
    );

  it("is 1 - cosine similarity in [0, 2]", () => {
    expect(transferDistance(spec([1, 0]), spec([2, 0]))).toBeCloseTo(0, 7);
    expect(transferDistance(spec([1, 0]), spec([0, 3]))).toBeCloseTo(1, 7);
    expect(transferDistance(spec([1, 0]), spec([-1, 0]))).toBeCloseTo(2, 7);
    expect(transferDistance(spec([1, 1]), spec([1, 0]))).toBeCloseTo(1 - Math.SQRT1_2, 6);
  });

  it("refuses missing embeddings, different models and different dimensions", () => {
    expect(() => transferDistance(spec(null), spec([1]))).toThrow(/semantic_embedding on both/);
    expect(() => transferDistance(spec([1]), spec([1], "other"))).toThrow(/embedding model mismatch/);
    expect(() => transferDistance(spec([1]), spec([1, 2]))).toThrow(/dimension mismatch \(1 vs 2\)/);
  });

  it("finds compatible regions across schemas, nearest first", () => {
    const mk = (regions: Record<string, ReturnType<typeof spec>>) =>
      canvasSchema(new CanvasLayout({ T: 1, H: 1, W: 1, d_model: 2, regions }));
    const a = mk({ x: spec([1, 0]), y: spec([0, 1]), z: spec(null) });
    const b = mk({ p: spec([1, 0.1]), q: spec([1, 0], "other"), r: spec([0, 1]) });
    const pairs = compatibleRegions(a, b, 0.3);
    expect(pairs.map(([s, t]) => `${s}-${t}`)).toEqual(["y-r", "x-p"]);
    expect(pairs[1]![2]).toBeCloseTo(1 - 1 / Math.sqrt(1.01), 6);
  });
});
