/**
 * A latency histogram in the HdrHistogram layout: values in microseconds, exact below 256 µs,
 * then 128 linear sub-buckets per power of two, so every recorded value is known to within
 * 1/128 (< 0.8 %) at any magnitude. Fixed memory (a few thousand counters) however many
 * samples a long load run records, and two histograms merge by adding counters.
 */
const SUB_BUCKETS = 256;
const HALF = SUB_BUCKETS / 2;
/** Values up to 2^40 µs (about 12 days) are recorded; larger ones are clamped. */
const MAX_SHIFT = 33;
const BUCKET_COUNT = SUB_BUCKETS + MAX_SHIFT * HALF;
const MAX_MICROSECONDS = 2 ** 40 - 1;

function indexOf(micros: number): number {
  if (micros < SUB_BUCKETS) return micros;
  const shift = Math.floor(Math.log2(micros)) - 7;
  // `micros >> shift` lies in [128, 256): the linear position inside its power of two.
  return SUB_BUCKETS + (shift - 1) * HALF + (Math.floor(micros / 2 ** shift) - HALF);
}

/** The middle of the value range that bucket `index` holds, µs. */
function bucketMidpoint(index: number): number {
  if (index < SUB_BUCKETS) return index;
  const shift = Math.floor((index - SUB_BUCKETS) / HALF) + 1;
  const position = ((index - SUB_BUCKETS) % HALF) + HALF;
  return position * 2 ** shift + (2 ** shift - 1) / 2;
}

export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKET_COUNT);
  private total = 0;
  private sum = 0;
  private maximum = 0;

  /** Records one latency in milliseconds (fractions welcome). */
  record(milliseconds: number): void {
    if (!Number.isFinite(milliseconds) || milliseconds < 0) return;
    const micros = Math.min(MAX_MICROSECONDS, Math.round(milliseconds * 1000));
    const index = indexOf(micros);
    this.counts[index] = (this.counts[index] ?? 0) + 1;
    this.total += 1;
    this.sum += milliseconds;
    if (milliseconds > this.maximum) this.maximum = milliseconds;
  }

  get count(): number {
    return this.total;
  }

  /** Mean of the recorded values, ms (exact, not bucketed). */
  get mean(): number {
    return this.total === 0 ? 0 : this.sum / this.total;
  }

  /** Largest recorded value, ms (exact). */
  get max(): number {
    return this.maximum;
  }

  /** The value at quantile `q` ∈ [0, 1], ms; 0 when empty. */
  quantile(q: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(Math.min(1, Math.max(0, q)) * this.total));
    let seen = 0;
    for (let index = 0; index < BUCKET_COUNT; index++) {
      seen += this.counts[index] ?? 0;
      if (seen >= rank) return Math.min(this.maximum, bucketMidpoint(index) / 1000);
    }
    return this.maximum;
  }

  /** Adds another histogram's samples to this one. */
  merge(other: LatencyHistogram): void {
    for (let index = 0; index < BUCKET_COUNT; index++)
      this.counts[index] = (this.counts[index] ?? 0) + (other.counts[index] ?? 0);
    this.total += other.total;
    this.sum += other.sum;
    this.maximum = Math.max(this.maximum, other.maximum);
  }

  summary(): LatencySummary {
    return {
      count: this.total,
      mean: this.mean,
      p50: this.quantile(0.5),
      p90: this.quantile(0.9),
      p99: this.quantile(0.99),
      max: this.maximum,
    };
  }
}
