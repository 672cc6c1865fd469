/**
 * Adding MetricCounts. Every count a shard reports covers its own disjoint set of visitors
 * (routing by visitor), so the site's numbers are plain sums over shards.
 */
import type { MetricCounts } from "../protocol";

export function emptyMetricCounts(): MetricCounts {
  return {
    events: 0,
    page_views: 0,
    visitors: 0,
    sessions: 0,
    bounces: 0,
    cart_adds: 0,
    cart_removes: 0,
    checkouts: 0,
    purchases: 0,
    revenue: 0,
    revenue_by_currency: {},
  };
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
  target.events += source.events;
  target.page_views += source.page_views;
  target.visitors += source.visitors;
  target.sessions += source.sessions;
  target.bounces += source.bounces;
  target.cart_adds += source.cart_adds;
  target.cart_removes += source.cart_removes;
  target.checkouts += source.checkouts;
  target.purchases += source.purchases;
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
