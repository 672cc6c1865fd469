/**
 * Adding MetricCounts. Every count a shard reports covers its own disjoint set of visitors
 * (routing by visitor), so the site's numbers are plain sums over shards.
 */
import { METRIC_COUNT_NAMES, type MetricCountName, type MetricCounts } from "../../protocol";

/** Every count of METRIC_COUNT_NAMES at 0. */
export function zeroCounts(): Record<MetricCountName, number> {
  const counts = {} as Record<MetricCountName, number>;
  for (const name of METRIC_COUNT_NAMES) counts[name] = 0;
  return counts;
}

export function emptyMetricCounts(): MetricCounts {
  return { ...zeroCounts(), revenue: 0, revenue_by_currency: {} };
}

/**
 * Money is rounded to 4 decimals after every addition, like ClickHouse's Decimal(18, 4), so a
 * sum over shards equals the sum ClickHouse reports instead of drifting by float error.
 */
export function roundMoney(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

/** Adds `source` into `target` (target changes). */
export function addMetricCountsInto(target: MetricCounts, source: MetricCounts): void {
  for (const name of METRIC_COUNT_NAMES) target[name] += source[name];
  target.revenue = roundMoney(target.revenue + source.revenue);
  for (const [currency, value] of Object.entries(source.revenue_by_currency)) {
    target.revenue_by_currency[currency] = roundMoney((target.revenue_by_currency[currency] ?? 0) + value);
  }
}

export function sumMetricCounts(parts: Iterable<MetricCounts>): MetricCounts {
  const total = emptyMetricCounts();
  for (const part of parts) addMetricCountsInto(total, part);
  return total;
}
