/**
 * Today's numbers for a site: the sum of every shard's DayPartial for the current UTC day,
 * turned into the overview and performance answers of protocol/live.ts. A shard's partial for
 * another day (yesterday's, kept until that shard sends again) is left out, so totals restart
 * at midnight UTC without the hub having to do anything.
 */
import type { MetricCounts, Overview, Performance } from "../../protocol";
import type { DayMerge } from "../jobs/aggregation-job";
import { AGGREGATION_JOBS } from "../jobs/registered-jobs";
import { funnelWithRates } from "../shared/funnel";
import type { DayPartial } from "../shard-to-hub/shard-live-state";
import { addMetricCountsInto, emptyMetricCounts } from "../shared/metric-counts";
import { SKETCH_RELATIVE_ERROR } from "../shared/quantile-sketch";

export interface MergedDay {
  day: string;
  counts: MetricCounts;
  /** Each registered job's merge of the day (funnel, abandoned carts, top lists, vitals, keyed counts: jobs/). */
  jobs: DayMerge[];
}

/** Sums the partials of `day`; partials of other days are ignored. Never changes its input. */
export function mergeDayPartials(partials: Iterable<DayPartial>, day: string): MergedDay {
  const merged: MergedDay = {
    day,
    counts: emptyMetricCounts(),
    jobs: [],
  };
  for (const job of AGGREGATION_JOBS) {
    const merge = job.mergeDays?.();
    if (merge !== undefined) merged.jobs.push(merge);
  }
  for (const partial of partials) {
    if (partial.day !== day) continue;
    addMetricCountsInto(merged.counts, partial.counts);
    for (const merge of merged.jobs) merge.add(partial);
  }
  return merged;
}

/** The overview: the day's counters, then what each job shows (funnel, abandoned carts, top lists). */
export function overviewOf(site: string, merged: MergedDay, online: number): Overview {
  const overview: Overview = {
    site,
    day: merged.day,
    online,
    totals: merged.counts,
    // The built-in jobs' fields, in the order the live message has always had them; the jobs fill them in.
    funnel: funnelWithRates({ sessions: 0, product_views: 0, cart_adds: 0, checkouts: 0, purchases: 0 }),
    abandoned_carts: { sessions: 0, value: 0 },
    top_pages: [],
    top_referrers: [],
    top_products: [],
    jobs: {},
  };
  for (const merge of merged.jobs) merge.showInOverview?.(overview);
  return overview;
}

/** The performance answer: what the jobs show of the day's Web Vitals (jobs/web-vitals.ts). */
export function performanceOf(site: string, merged: MergedDay): Performance {
  const performance: Performance = { site, day: merged.day, relative_error: SKETCH_RELATIVE_ERROR, pages: [] };
  for (const merge of merged.jobs) merge.showInPerformance?.(performance);
  return performance;
}
