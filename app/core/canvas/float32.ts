// Float32 helpers for app/core/canvas: shortest decimal text of a float32 value (for JSON output).
// Pure functions; any module may call them.

/** The shortest decimal number that reads back as the same float32 (e.g. 0.1f prints as 0.1, not 0.10000000149). */
export function float32Shortest(value: number): number {
  const f = Math.fround(value);
  if (!Number.isFinite(f) || f === 0) return f;
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(f.toPrecision(digits));
    if (Math.fround(candidate) === f) return candidate;
  }
  return f;
}
