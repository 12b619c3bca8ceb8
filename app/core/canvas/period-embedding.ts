// PeriodEmbedding: log-bucketed region update period -> a d_model vector (a port of canvas_engineering's
// PeriodEmbedding; the bucket formula follows the seed document, see docs/canvas.md). Pure; any layer may call it.
import { seededNormal } from "./rng";

export const PERIOD_N_BUCKETS = 16;
export const PERIOD_MAX_PERIOD = 10000;

/** Bucket of a period: 0 for period <= 1, else min(int(ln p / ln max(max_period, 2) * (n_buckets - 1)), n_buckets - 1). */
export function periodBucket(
  period: number,
  nBuckets = PERIOD_N_BUCKETS,
  maxPeriod = PERIOD_MAX_PERIOD,
): number {
  if (period <= 1) return 0;
  const logRatio = Math.log(period) / Math.log(Math.max(maxPeriod, 2));
  return Math.min(Math.trunc(logRatio * (nBuckets - 1)), nBuckets - 1);
}

export class PeriodEmbedding {
  readonly d_model: number;
  readonly nBuckets: number;
  readonly maxPeriod: number;
  /** nBuckets rows of d_model float32 values ~ N(0, 0.02), seeded by the name "period_embedding". */
  readonly table: Float32Array;

  constructor(d_model: number, nBuckets = PERIOD_N_BUCKETS, maxPeriod = PERIOD_MAX_PERIOD) {
    this.d_model = d_model;
    this.nBuckets = nBuckets;
    this.maxPeriod = maxPeriod;
    this.table = seededNormal("period_embedding", nBuckets * d_model, 0.02);
  }

  bucket(period: number): number {
    return periodBucket(period, this.nBuckets, this.maxPeriod);
  }

  /** The d_model vector for a period (a view into the table: do not write to it). */
  vector(period: number): Float32Array {
    const row = this.bucket(period);
    return this.table.subarray(row * this.d_model, (row + 1) * this.d_model);
  }
}
