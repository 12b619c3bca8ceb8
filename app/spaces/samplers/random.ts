// Seeded pseudo-random numbers for samplers: SplitMix64 expands a seed into the state of xoshiro128**
// (Blackman and Vigna). Same seed, same stream on every platform. Pure; any sampler may use it.

const MASK64 = (1n << 64n) - 1n;

/** SplitMix64: a 64-bit generator used here to spread a seed over a larger state. */
export class SplitMix64 {
  #state: bigint;

  constructor(seed: bigint) {
    this.#state = seed & MASK64;
  }

  next(): bigint {
    this.#state = (this.#state + 0x9e3779b97f4a7c15n) & MASK64;
    let z = this.#state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
    return z ^ (z >> 31n);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** xoshiro128**: 32-bit outputs, period 2^128 - 1. */
export class Xoshiro128 {
  readonly #s: Uint32Array;

  /** From an explicit state (four 32-bit words, not all zero). */
  constructor(state: readonly [number, number, number, number]) {
    if (state.every((word) => word >>> 0 === 0))
      throw new RangeError("xoshiro128** state must not be all zero");
    this.#s = Uint32Array.from(state);
  }

  /** From a seed: an integer in 0..2^53-1 (a number) or any 64-bit value (a bigint). */
  static fromSeed(seed: number | bigint): Xoshiro128 {
    if (typeof seed === "number" && !(Number.isSafeInteger(seed) && seed >= 0)) {
      throw new RangeError(`seed must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER}, got ${seed}`);
    }
    const mix = new SplitMix64(BigInt(seed));
    const a = mix.next();
    const b = mix.next();
    return new Xoshiro128([
      Number(a & 0xffffffffn),
      Number(a >> 32n),
      Number(b & 0xffffffffn),
      Number(b >> 32n),
    ]);
  }

  nextUint32(): number {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2] = s[2]! ^ s[0]!;
    s[3] = s[3]! ^ s[1]!;
    s[1] = s[1]! ^ s[2]!;
    s[0] = s[0]! ^ s[3]!;
    s[2] = s[2]! ^ t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const high = this.nextUint32() >>> 5;
    const low = this.nextUint32() >>> 6;
    return (high * 67108864 + low) / 9007199254740992;
  }
}
