// Deterministic stand-ins for learned parameters (we have no training): normal(0, std) float32 vectors drawn
// from a PRNG seeded by the parameter's name. Pure; used by period-embedding.ts and spatiotemporal.ts.
// Scheme (docs/canvas.md): seed = FNV-1a 32-bit of "lc-canvas/1:" + name; stream = mulberry32; normal = Box-Muller.

export const PARAMETER_SEED_PREFIX = "lc-canvas/1:";

export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` float32 values ~ N(0, std), the same for the same parameter name on every machine. */
export function seededNormal(name: string, count: number, std: number): Float32Array {
  const next = mulberry32(fnv1a32(PARAMETER_SEED_PREFIX + name));
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const u1 = 1 - next();
    const u2 = next();
    const radius = Math.sqrt(-2 * Math.log(u1));
    out[i] = radius * Math.cos(2 * Math.PI * u2) * std;
    if (i + 1 < count) out[i + 1] = radius * Math.sin(2 * Math.PI * u2) * std;
  }
  return out;
}
