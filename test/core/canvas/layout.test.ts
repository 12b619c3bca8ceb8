import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CanvasError, CanvasLayout, REGION_SPEC_DEFAULTS, regionSpec } from "../../../app/core/canvas/index";
import { seedLayout } from "./seed-layout";

describe("CanvasLayout with the seed's example (T=16, H=32, W=32, d_model=768)", () => {
  const layout = seedLayout();

  it("has T*H*W positions and row-major strides", () => {
    expect(layout.numPositions).toBe(16 * 32 * 32);
    expect(layout.strides).toEqual([1024, 32, 1]);
    expect(layout.H).toBe(32);
    expect(layout.W).toBe(32);
    expect(layout.flatIndex(3, 5, 7)).toBe(3 * 32 * 32 + 5 * 32 + 7);
  });

  it("auto-wraps a raw bounds tuple as a RegionSpec with every default", () => {
    expect(layout.regionSpec("screen")).toEqual({ ...REGION_SPEC_DEFAULTS, bounds: [0, 16, 0, 24, 0, 24] });
    expect(layout.regionSpec("screen").carrier).toBe("deterministic");
    expect(layout.regionSpec("screen").embedding_model).toBe("openai/text-embedding-3-small");
    expect(layout.regionSpec("screen").default_attn).toBe("cross_attention");
    expect(layout.regionSpec("mouse").loss_weight).toBe(2.0);
    expect(layout.regionSpec("prompt").is_output).toBe(false);
  });

  it("maps thought (period 4) frames: real_frame(2)=8, canvas_frame(8)=2, canvas_frame(7)=null", () => {
    expect(layout.realFrame("thought", 2)).toBe(8);
    expect(layout.canvasFrame("thought", 8)).toBe(2);
    expect(layout.canvasFrame("thought", 7)).toBeNull();
    expect([0, 1, 2, 3].map((t) => layout.realFrame("thought", t))).toEqual([0, 4, 8, 12]);
    expect(layout.canvasFrame("thought", 12)).toBe(3);
    expect(layout.canvasFrame("thought", 16)).toBeNull(); // q = 4 is outside the 4 frames
  });

  it("uses floor division for negative real frames (-4 with period 4 -> q=-1 -> null)", () => {
    expect(layout.canvasFrame("thought", -4)).toBeNull();
    expect(layout.canvasFrame("thought", -3)).toBeNull();
    expect(layout.canvasFrame("screen", -1)).toBeNull();
    expect(layout.canvasFrame("screen", 0)).toBe(0);
  });

  it("returns null from canvas_frame for period 0", () => {
    const frozen = new CanvasLayout({
      T: 4,
      H: 1,
      W: 1,
      d_model: 2,
      regions: { c: regionSpec([0, 4, 0, 1, 0, 1], { period: 0 }) },
    });
    expect(frozen.canvasFrame("c", 0)).toBeNull();
    expect(frozen.realFrame("c", 3)).toBe(0);
  });

  it("gives region sizes, numel and indices", () => {
    expect(layout.regionSize("mouse")).toEqual([16, 2, 4]);
    expect(layout.regionNumel("mouse")).toBe(128);
    expect(layout.regionNumel("screen")).toBe(16 * 24 * 24);
    const prompt = layout.regionIndices("prompt");
    expect([...prompt]).toEqual([
      26 * 32,
      26 * 32 + 1,
      26 * 32 + 2,
      26 * 32 + 3,
      27 * 32,
      27 * 32 + 1,
      27 * 32 + 2,
      27 * 32 + 3,
    ]);
    expect(layout.regionTimesteps("thought")).toEqual([0, 1, 2, 3]);
    expect([...layout.regionIndicesAtT("thought", 2)].slice(0, 3)).toEqual([
      2 * 1024 + 28 * 32,
      2 * 1024 + 28 * 32 + 1,
      2 * 1024 + 28 * 32 + 2,
    ]);
    expect(layout.regionIndicesAtT("thought", 4).length).toBe(0);
    expect(layout.regionIndicesAtT("thought", -1).length).toBe(0);
  });

  it("weights the loss: mouse 2.0, prompt (is_output=false) 0, uncovered 0", () => {
    const w = layout.lossWeightMask();
    expect(w.length).toBe(16384);
    expect(w[layout.flatIndex(5, 24, 0)]).toBe(2);
    expect(w[layout.flatIndex(0, 26, 0)]).toBe(0); // prompt
    expect(w[layout.flatIndex(0, 0, 0)]).toBe(1); // screen
    expect(w[layout.flatIndex(1, 29, 7)]).toBe(1); // thought
    expect(w[layout.flatIndex(5, 29, 7)]).toBe(0); // thought ends at t=4
    expect(w[layout.flatIndex(0, 31, 31)]).toBe(0); // uncovered
    expect(w.reduce((a, b) => a + b, 0)).toBe(9216 * 1 + 128 * 2 + 128 * 1);
  });

  it("output_mask covers every grid position with t >= t_current", () => {
    expect(layout.outputMask().length).toBe(16384);
    const later = new CanvasLayout({ T: 4, H: 2, W: 3, d_model: 4, t_current: 3 });
    expect([...later.outputMask()]).toEqual([18, 19, 20, 21, 22, 23]);
    expect(new CanvasLayout({ T: 4, H: 2, W: 3, d_model: 4, t_current: 4 }).outputMask().length).toBe(0);
  });
});

describe("CanvasLayout details", () => {
  it("accumulates loss weights of overlapping output regions additively", () => {
    const layout = new CanvasLayout({
      T: 2,
      H: 2,
      W: 2,
      d_model: 4,
      regions: [
        ["a", regionSpec([0, 2, 0, 2, 0, 1], { loss_weight: 0.5 })],
        ["b", regionSpec([0, 1, 0, 1, 0, 2], { loss_weight: 1.5 })],
        ["c", regionSpec([0, 1, 0, 1, 0, 1], { is_output: false, loss_weight: 9 })],
      ],
    });
    expect([...layout.lossWeightMask()]).toEqual([2, 1.5, 0.5, 0, 0.5, 0, 0.5, 0]);
  });

  it("has strides (64,16,4,1) for spatial shape (4,4,4) and N-D region indices", () => {
    const layout = new CanvasLayout({
      T: 2,
      spatial_shape: [4, 4, 4],
      d_model: 8,
      regions: { r: [1, 2, 1, 2, 2, 3, 0, 2] },
    });
    expect(layout.strides).toEqual([64, 16, 4, 1]);
    expect(layout.numPositions).toBe(128);
    expect(layout.flatIndex(1, 1, 2, 3)).toBe(64 + 16 + 8 + 3);
    expect([...layout.regionIndices("r")]).toEqual([64 + 16 + 8, 64 + 16 + 8 + 1]);
    expect(layout.W).toBe(4);
    expect(new CanvasLayout({ T: 2, spatial_shape: [5], d_model: 2 }).W).toBeNull();
  });

  it("treats a missing H or W as 1", () => {
    expect(new CanvasLayout({ T: 2, H: 3, d_model: 2 }).spatial_shape).toEqual([3, 1]);
    expect(new CanvasLayout({ T: 2, W: 3, d_model: 2 }).spatial_shape).toEqual([1, 3]);
  });

  it("rejects both H/W and spatial_shape, an empty shape, bad bounds and bad specs, naming the field", () => {
    const bad = (init: ConstructorParameters<typeof CanvasLayout>[0], message: string | RegExp) =>
      expect(() => new CanvasLayout(init)).toThrow(message);
    bad(
      { T: 2, H: 2, W: 2, spatial_shape: [2, 2], d_model: 2 },
      /either as H\/W or as spatial_shape, not both/,
    );
    bad({ T: 2, d_model: 2 }, /spatial shape is empty/);
    bad({ T: 2, spatial_shape: [], d_model: 2 }, /spatial shape is empty/);
    bad({ T: 0, H: 1, W: 1, d_model: 2 }, /layout\.T: expected a positive integer/);
    bad(
      { T: 2, H: 1, W: 1, d_model: 2, regions: { r: [0, 2, 0, 1] } },
      /regions\.r\.bounds: expected 6 integers/,
    );
    bad(
      { T: 2, H: 1, W: 1, d_model: 2, regions: { r: [0, 3, 0, 1, 0, 1] } },
      /regions\.r\.bounds\[0\.\.1\].*<= 2/,
    );
    bad(
      { T: 2, H: 1, W: 1, d_model: 2, regions: { r: regionSpec([0, 1, 0, 1, 0, 1], { period: 1.5 }) } },
      /regions\.r\.period/,
    );
    bad(
      {
        T: 2,
        H: 1,
        W: 1,
        d_model: 2,
        regions: { r: regionSpec([0, 1, 0, 1, 0, 1], { carrier: "gas" as "memory" }) },
      },
      /regions\.r\.carrier: expected one of deterministic, diffusive, filter, memory, residual/,
    );
    bad({ T: 2, H: 1, W: 1, d_model: 2, t_current: 3 }, /layout\.t_current/);
    expect(() => seedLayout().regionSpec("nope")).toThrow(CanvasError);
    expect(() => seedLayout().regionSpec("nope")).toThrow(
      /unknown region "nope"; the layout has: screen, mouse, thought, prompt/,
    );
  });
});

const layoutArbitrary = fc
  .record({
    T: fc.integer({ min: 1, max: 5 }),
    shape: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }),
  })
  .map(({ T, shape }) => new CanvasLayout({ T, spatial_shape: shape, d_model: 2 }));

describe("CanvasLayout properties", () => {
  it("flat index is a bijection between coordinates and 0..N-1", () => {
    fc.assert(
      fc.property(layoutArbitrary, (layout) => {
        const seen = new Set<string>();
        for (let i = 0; i < layout.numPositions; i++) {
          const coord = layout.coordinates(i);
          const [t, ...s] = coord;
          expect(layout.flatIndex(t!, ...s)).toBe(i);
          coord.forEach((c, axis) => {
            expect(c).toBeGreaterThanOrEqual(0);
            expect(c).toBeLessThan([layout.T, ...layout.spatial_shape][axis]!);
          });
          seen.add(coord.join(","));
        }
        expect(seen.size).toBe(layout.numPositions);
      }),
    );
  });

  it("region indices are ascending, of size numel, and exactly the positions inside the bounds", () => {
    const withRegion = layoutArbitrary.chain((layout) => {
      const dims = [layout.T, ...layout.spatial_shape];
      const axis = (d: number) =>
        fc
          .tuple(fc.integer({ min: 0, max: d }), fc.integer({ min: 0, max: d }))
          .map(([a, b]) => [Math.min(a, b), Math.max(a, b)]);
      return fc.tuple(
        fc.constant(layout),
        fc.tuple(...dims.map(axis)).map((pairs) => pairs.flat()),
      );
    });
    fc.assert(
      fc.property(withRegion, ([base, bounds]) => {
        const layout = new CanvasLayout({
          T: base.T,
          spatial_shape: base.spatial_shape,
          d_model: 2,
          regions: { r: bounds },
        });
        const indices = layout.regionIndices("r");
        expect(indices.length).toBe(layout.regionNumel("r"));
        for (let i = 1; i < indices.length; i++) expect(indices[i]!).toBeGreaterThan(indices[i - 1]!);
        const inside: number[] = [];
        for (let p = 0; p < layout.numPositions; p++) {
          const c = layout.coordinates(p);
          if (c.every((x, axis) => x >= bounds[2 * axis]! && x < bounds[2 * axis + 1]!)) inside.push(p);
        }
        expect([...indices]).toEqual(inside);
        const byT = layout.regionTimesteps("r").flatMap((t) => [...layout.regionIndicesAtT("r", t)]);
        expect(byT).toEqual(inside);
      }),
    );
  });
});
