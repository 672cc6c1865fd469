/**
 * Which rows answer a history range: whole days from the daily rollup, whole hours (or
 * minutes) around them from the finer rollups, and only the ragged edges from raw rows.
 *
 * A range [from, to) is cut at the coarsest grain boundaries inside it, then the leftovers
 * on each side at the next finer grain, and so on, so every millisecond of the range is in
 * exactly one source and the rollups do almost all the work. Grains are epoch-aligned (a
 * UTC day is 86,400 s since the epoch), so a rollup period never straddles a cut.
 */

/** [from, to) in ms; empty when from >= to. */
export interface TimeSpan {
  from: number;
  to: number;
}

/** Every source gets at most two spans: one before and one after the coarser part it surrounds. */
export type SpanPair = readonly [TimeSpan, TimeSpan];

export interface RollupSegments {
  /** Spans read from the raw table. */
  raw: SpanPair;
  /** Spans per rollup grain, finest first; grains that fit nothing get empty spans. */
  rollups: readonly { grainSeconds: number; spans: SpanPair }[];
}

const ceilTo = (ms: number, grainMs: number) => Math.ceil(ms / grainMs) * grainMs;
const floorTo = (ms: number, grainMs: number) => Math.floor(ms / grainMs) * grainMs;

/**
 * Splits [from, to) over the raw table and the given rollup grains (seconds, each a multiple
 * of the previous one, finest first).
 */
export function planRollupSegments(from: number, to: number, grainsSeconds: readonly number[]): RollupSegments {
  const empty: TimeSpan = { from, to: from };
  const pairs: SpanPair[] = [[empty, empty], ...grainsSeconds.map((): SpanPair => [empty, empty])];
  let current: TimeSpan = { from, to };
  let level = 0;
  for (const [index, grain] of grainsSeconds.entries()) {
    const inner = { from: ceilTo(current.from, grain * 1000), to: floorTo(current.to, grain * 1000) };
    if (inner.from >= inner.to) break;
    // What the coarser grain cannot cover stays with the current (finer) source.
    pairs[level] = [
      { from: current.from, to: inner.from },
      { from: inner.to, to: current.to },
    ];
    current = inner;
    level = index + 1;
  }
  pairs[level] = [current, { from: current.to, to: current.to }];
  const [raw = [empty, empty], ...rollups] = pairs;
  return {
    raw,
    rollups: grainsSeconds.map((grainSeconds, index) => ({ grainSeconds, spans: rollups[index] ?? [empty, empty] })),
  };
}
