// Level conversions shared by the mixer, the renderer and projections. Pure; any layer may call it.

/** Decibels to a linear gain (0 dB = 1); -Infinity dB is silence. */
export function dbToGain(gainDb: number): number {
  if (gainDb === Number.NEGATIVE_INFINITY) return 0;
  return 10 ** (gainDb / 20);
}
