// Test helper: a deterministic, seeded mutator of byte strings for fuzzing importers: bit flips, byte
// overwrites, truncation, 32-bit length corruption (little- and big-endian), insertions, deletions and splices.

export class Rng {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let x = this.#state;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.#state = x;
    return x;
  }
  below(n: number): number {
    return n <= 0 ? 0 : this.next() % n;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }
}

const LENGTHS = [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0xffffffff, 0xfffffff0];

export function mutate(
  rng: Rng,
  seeds: readonly Uint8Array[],
  extraTokens: readonly string[] = [],
): Uint8Array {
  let bytes = Uint8Array.from(rng.pick(seeds));
  const rounds = 1 + rng.below(4);
  for (let r = 0; r < rounds && bytes.length > 0; r++) {
    const at = rng.below(bytes.length);
    switch (rng.below(8)) {
      case 0:
        bytes[at]! ^= 1 << rng.below(8);
        break;
      case 1:
        bytes[at] = rng.below(256);
        break;
      case 2:
        bytes = bytes.slice(0, rng.below(bytes.length));
        break;
      case 3: {
        const value = rng.below(3) === 0 ? rng.next() : rng.pick(LENGTHS);
        const littleEndian = rng.below(2) === 0;
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        if (at + 4 <= bytes.length) view.setUint32(at - (at % 2), value >>> 0, littleEndian);
        break;
      }
      case 4: {
        const insert = Uint8Array.from({ length: 1 + rng.below(16) }, () => rng.below(256));
        bytes = Uint8Array.from([...bytes.subarray(0, at), ...insert, ...bytes.subarray(at)]);
        break;
      }
      case 5:
        bytes = Uint8Array.from([...bytes.subarray(0, at), ...bytes.subarray(at + 1 + rng.below(32))]);
        break;
      case 6: {
        const other = rng.pick(seeds);
        const from = rng.below(other.length);
        const piece = other.subarray(from, from + 1 + rng.below(64));
        bytes = Uint8Array.from([...bytes.subarray(0, at), ...piece, ...bytes.subarray(at + rng.below(64))]);
        break;
      }
      default: {
        if (extraTokens.length === 0) break;
        const token = new TextEncoder().encode(rng.pick(extraTokens));
        bytes = Uint8Array.from([...bytes.subarray(0, at), ...token, ...bytes.subarray(at)]);
      }
    }
  }
  return bytes;
}
