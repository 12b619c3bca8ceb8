// Test helper: windowed power spectrum (radix-2 FFT, 4-term Blackman-Harris window) to measure where a
// signal's energy is: the tone, its harmonics, aliases and noise.

function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let size = 2; size <= n; size <<= 1) {
    const angle = (-2 * Math.PI) / size;
    for (let start = 0; start < n; start += size) {
      for (let k = 0; k < size / 2; k++) {
        const wr = Math.cos(angle * k);
        const wi = Math.sin(angle * k);
        const a = start + k;
        const b = a + size / 2;
        const tr = re[b]! * wr - im[b]! * wi;
        const ti = re[b]! * wi + im[b]! * wr;
        re[b] = re[a]! - tr;
        im[b] = im[a]! - ti;
        re[a] = re[a]! + tr;
        im[a] = im[a]! + ti;
      }
    }
  }
}

/** Power per bin (0..n/2) of `n` samples (a power of two) taken from the middle of `signal`. */
export function powerSpectrum(signal: Float32Array, n: number): Float64Array {
  const offset = Math.floor((signal.length - n) / 2);
  if (offset < 0) throw new Error(`signal of ${signal.length} samples is shorter than ${n}`);
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  const a = [0.35875, 0.48829, 0.14128, 0.01168];
  for (let i = 0; i < n; i++) {
    const x = (2 * Math.PI * i) / (n - 1);
    const w = a[0]! - a[1]! * Math.cos(x) + a[2]! * Math.cos(2 * x) - a[3]! * Math.cos(3 * x);
    re[i] = signal[offset + i]! * w;
  }
  fft(re, im);
  const power = new Float64Array(n / 2 + 1);
  for (let k = 0; k <= n / 2; k++) power[k] = re[k]! ** 2 + im[k]! ** 2;
  return power;
}

export interface ToneAnalysis {
  /** Frequency of the strongest bin, Hz. */
  readonly peakHz: number;
  /** Energy outside the tone's main lobe relative to the tone, dB (aliasing + distortion + noise). */
  readonly residualDb: number;
  readonly totalPower: number;
}

export function analyseTone(
  signal: Float32Array,
  sampleRate: number,
  toneHz: number,
  n = 32768,
): ToneAnalysis {
  const power = powerSpectrum(signal, n);
  const binHz = sampleRate / n;
  let peak = 0;
  for (let k = 1; k < power.length; k++) if (power[k]! > power[peak]!) peak = k;
  const toneBin = Math.round(toneHz / binHz);
  let tone = 0;
  let rest = 0;
  let total = 0;
  for (let k = 0; k < power.length; k++) {
    total += power[k]!;
    if (Math.abs(k - toneBin) <= 6) tone += power[k]!;
    else rest += power[k]!;
  }
  return { peakHz: peak * binHz, residualDb: 10 * Math.log10(rest / tone), totalPower: total };
}

export function sine(frequencyHz: number, sampleRate: number, frames: number, amplitude = 0.5): Float32Array {
  return Float32Array.from(
    { length: frames },
    (_, i) => amplitude * Math.sin((2 * Math.PI * frequencyHz * i) / sampleRate),
  );
}

export function rms(signal: Float32Array, from = 0, to = signal.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += signal[i]! ** 2;
  return Math.sqrt(sum / Math.max(1, to - from));
}
