// N-D sinusoidal positional encoding of a canvas grid (t, s0, s1, ...), computed with float32 rounding at each
// step (a port of canvas_engineering's SinusoidalPositionalEncodingND). Pure; any layer may call it.

/** Channels per axis: d_model // n for each axis, the remainder going to the last axis. */
export function channelAllocation(d_model: number, nAxes: number): number[] {
  const per = Math.floor(d_model / nAxes);
  const out = new Array<number>(nAxes).fill(per);
  out[nAxes - 1] = d_model - per * (nAxes - 1);
  return out;
}

/** One axis: length x d table, channel 2k = sin(pos * div_k), 2k+1 = cos(pos * div_k), div_k = exp(2k * -ln(10000) / d). */
export function sinusoidTable(length: number, d: number): Float32Array {
  const table = new Float32Array(length * d);
  if (d === 0) return table;
  const scale = Math.fround(-Math.log(10000) / d);
  const nFreq = Math.ceil(d / 2);
  const div = new Float32Array(nFreq);
  for (let k = 0; k < nFreq; k++) div[k] = Math.exp(Math.fround(2 * k * scale));
  for (let pos = 0; pos < length; pos++) {
    for (let k = 0; k < nFreq; k++) {
      const angle = Math.fround(pos * div[k]!);
      table[pos * d + 2 * k] = Math.sin(angle);
      if (2 * k + 1 < d) table[pos * d + 2 * k + 1] = Math.cos(angle);
    }
  }
  return table;
}

/**
 * The encoding of every position of a grid with dims (T, s0, s1, ...), row-major: position p occupies
 * [p * d_model, (p + 1) * d_model), channels laid out axis by axis in the order T, s0, s1, ...
 */
export function positionalEncoding(dims: readonly number[], d_model: number): Float32Array {
  const alloc = channelAllocation(d_model, dims.length);
  const tables = dims.map((length, axis) => sinusoidTable(length, alloc[axis]!));
  const offsets: number[] = [];
  let offset = 0;
  for (const width of alloc) {
    offsets.push(offset);
    offset += width;
  }
  const count = dims.reduce((a, b) => a * b, 1);
  const out = new Float32Array(count * d_model);
  const coord = new Array<number>(dims.length).fill(0);
  for (let p = 0; p < count; p++) {
    for (let axis = 0; axis < dims.length; axis++) {
      const width = alloc[axis]!;
      const src = coord[axis]! * width;
      out.set(tables[axis]!.subarray(src, src + width), p * d_model + offsets[axis]!);
    }
    for (let axis = dims.length - 1; axis >= 0; axis--) {
      coord[axis]!++;
      if (coord[axis]! < dims[axis]!) break;
      coord[axis] = 0;
    }
  }
  return out;
}
