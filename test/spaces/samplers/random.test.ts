import { describe, expect, it } from "vitest";
import { SplitMix64, Xoshiro128 } from "../../../app/spaces/samplers/random";

describe("SplitMix64 and xoshiro128**", () => {
  it("match the reference outputs of their published algorithms", () => {
    const mix = new SplitMix64(0n);
    expect(mix.next()).toBe(0xe220a8397b1dcdafn);
    expect(mix.next()).toBe(0x6e789e6aa1b965f4n);
    const x = new Xoshiro128([1, 2, 3, 4]);
    expect([1, 2, 3, 4, 5, 6].map(() => x.nextUint32())).toEqual([
      11520, 0, 5927040, 70819200, 2031721883, 1637235492,
    ]);
  });

  it("gives the same stream for the same seed and different streams for different seeds", () => {
    const draw = (seed: number) => {
      const random = Xoshiro128.fromSeed(seed);
      return Array.from({ length: 8 }, () => random.nextFloat());
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    for (const value of draw(7)) expect(value >= 0 && value < 1).toBe(true);
  });

  it("is roughly uniform", () => {
    const random = Xoshiro128.fromSeed(1);
    const bins = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) bins[Math.floor(random.nextFloat() * 10)]! += 1;
    for (const count of bins) expect(Math.abs(count - 10_000)).toBeLessThan(500);
  });

  it("rejects seeds it cannot represent", () => {
    expect(() => Xoshiro128.fromSeed(-1)).toThrow(/seed must be a whole number/);
    expect(() => Xoshiro128.fromSeed(0.5)).toThrow(/seed must be a whole number/);
    expect(() => new Xoshiro128([0, 0, 0, 0])).toThrow(/all zero/);
  });
});
