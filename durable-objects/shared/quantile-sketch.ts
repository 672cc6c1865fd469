/**
 * A mergeable quantile sketch with a fixed relative-error guarantee (DDSketch's log-bucket
 * mapping, without its collapsing): a value v > 0 lands in bucket ceil(log_γ v) with
 * γ = (1 + α) / (1 − α), and every bucket's representative is within α of every value in it.
 * Merging adds bucket counts, so shard sketches merge exactly into the hub's, in any order.
 *
 * Kept as a plain JSON object so it crosses Durable Object RPC and SQLite unchanged. Web
 * vitals span ~6 decades (CLS 0.001 … LCP 60 s), so with α = 1% a sketch has at most ~700
 * buckets and in practice a few dozen.
 */
export const SKETCH_RELATIVE_ERROR = 0.01;
const GAMMA = (1 + SKETCH_RELATIVE_ERROR) / (1 - SKETCH_RELATIVE_ERROR);
const LOG_GAMMA = Math.log(GAMMA);
/** Values at or below this are counted as zero (CLS is often exactly 0). */
const MIN_POSITIVE = 1e-6;

export interface QuantileSketch {
  /** Values ≤ MIN_POSITIVE. */
  zeros: number;
  /** Bucket index → count. */
  buckets: Record<string, number>;
  count: number;
}

export function emptySketch(): QuantileSketch {
  return { zeros: 0, buckets: {}, count: 0 };
}

export function addToSketch(sketch: QuantileSketch, value: number, times = 1): void {
  sketch.count += times;
  if (!(value > MIN_POSITIVE)) {
    sketch.zeros += times;
    return;
  }
  const index = String(Math.ceil(Math.log(value) / LOG_GAMMA));
  sketch.buckets[index] = (sketch.buckets[index] ?? 0) + times;
}

/** Adds `source` into `target` (target changes). */
export function mergeSketchInto(target: QuantileSketch, source: QuantileSketch): void {
  target.count += source.count;
  target.zeros += source.zeros;
  for (const [index, bucketCount] of Object.entries(source.buckets)) {
    target.buckets[index] = (target.buckets[index] ?? 0) + bucketCount;
  }
}

/**
 * The q-quantile (0 ≤ q ≤ 1), within SKETCH_RELATIVE_ERROR of the exact value of the same
 * rank (rank = floor(q · (count − 1)), the lower nearest rank); NaN for an empty sketch.
 */
export function sketchQuantile(sketch: QuantileSketch, q: number): number {
  if (sketch.count === 0) return Number.NaN;
  const rank = Math.floor(Math.min(Math.max(q, 0), 1) * (sketch.count - 1));
  if (rank < sketch.zeros) return 0;
  let seen = sketch.zeros;
  const indexes = Object.keys(sketch.buckets)
    .map(Number)
    .sort((a, b) => a - b);
  for (const index of indexes) {
    seen += sketch.buckets[String(index)] ?? 0;
    if (seen > rank) return (2 * GAMMA ** index) / (GAMMA + 1);
  }
  const last = indexes[indexes.length - 1] ?? 0;
  return (2 * GAMMA ** last) / (GAMMA + 1);
}
