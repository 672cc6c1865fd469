/**
 * Today's numbers for a site: the sum of every shard's DayPartial for the current UTC day,
 * turned into the overview and performance answers of protocol/live.ts. A shard's partial for
 * another day (yesterday's, kept until that shard sends again) is left out, so totals restart
 * at midnight UTC without the hub having to do anything.
 */
import type { MetricCounts, Overview, Performance, VitalMetric } from "../../protocol";
import { funnelWithRates, type FunnelSteps } from "../shared/funnel";
import type { DayPartial, ProductPartial } from "../shard-to-hub/shard-live-state";
import { addMetricCountsInto, emptyMetricCounts, roundMoney } from "../shared/metric-counts";
import {
  emptySketch,
  mergeSketchInto,
  SKETCH_RELATIVE_ERROR,
  sketchQuantile,
  type QuantileSketch,
} from "../shared/quantile-sketch";
import { KEYED_COUNT_JOBS } from "../jobs/registered-jobs";
import { addCountsByKeyInto, TOP_LIST_LIMIT, topEntries, topJobKeys } from "../shared/top-list";

export interface MergedDay {
  day: string;
  counts: MetricCounts;
  funnel: FunnelSteps;
  abandonedCarts: { sessions: number; value: number };
  pages: Map<string, number>;
  referrers: Map<string, number>;
  products: Map<string, ProductPartial>;
  vitals: Map<string, Map<VitalMetric, QuantileSketch>>;
  /** Keyed-count job name → key → count, summed (jobs/keyed-count-job.ts). */
  jobs: Map<string, Map<string, number>>;
}

/** Sums the partials of `day`; partials of other days are ignored. Never changes its input. */
export function mergeDayPartials(partials: Iterable<DayPartial>, day: string): MergedDay {
  const merged: MergedDay = {
    day,
    counts: emptyMetricCounts(),
    funnel: { sessions: 0, product_views: 0, cart_adds: 0, checkouts: 0, purchases: 0 },
    abandonedCarts: { sessions: 0, value: 0 },
    pages: new Map(),
    referrers: new Map(),
    products: new Map(),
    vitals: new Map(),
    jobs: new Map(KEYED_COUNT_JOBS.map((job) => [job.name, new Map<string, number>()])),
  };
  for (const partial of partials) {
    if (partial.day !== day) continue;
    addMetricCountsInto(merged.counts, partial.counts);
    merged.funnel.sessions += partial.funnel.sessions;
    merged.funnel.product_views += partial.funnel.product_views;
    merged.funnel.cart_adds += partial.funnel.cart_adds;
    merged.funnel.checkouts += partial.funnel.checkouts;
    merged.funnel.purchases += partial.funnel.purchases;
    merged.abandonedCarts.sessions += partial.abandoned_carts.sessions;
    merged.abandonedCarts.value = roundMoney(merged.abandonedCarts.value + partial.abandoned_carts.value);
    addCountsByKeyInto(merged.pages, partial.pages);
    addCountsByKeyInto(merged.referrers, partial.referrers);
    for (const [name, counts] of merged.jobs) {
      const shardCounts = partial.jobs?.[name];
      if (shardCounts !== undefined) addCountsByKeyInto(counts, shardCounts);
    }
    for (const [productId, product] of Object.entries(partial.products)) {
      const sum = merged.products.get(productId);
      if (sum === undefined) {
        merged.products.set(productId, { ...product });
        continue;
      }
      if (sum.name === "") sum.name = product.name;
      sum.views += product.views;
      sum.cart_adds += product.cart_adds;
      sum.purchases += product.purchases;
      sum.revenue = roundMoney(sum.revenue + product.revenue);
    }
    for (const [path, metrics] of Object.entries(partial.vitals)) {
      let pageSketches = merged.vitals.get(path);
      if (pageSketches === undefined) {
        pageSketches = new Map();
        merged.vitals.set(path, pageSketches);
      }
      for (const [metric, sketch] of Object.entries(metrics) as [VitalMetric, QuantileSketch | undefined][]) {
        if (sketch === undefined) continue;
        let target = pageSketches.get(metric);
        if (target === undefined) {
          target = emptySketch();
          pageSketches.set(metric, target);
        }
        mergeSketchInto(target, sketch);
      }
    }
  }
  return merged;
}

const byCountDescending = (a: number, b: number) => b - a;

/** Products rank by what the shop cares about most: purchases, then revenue, adds, views. */
const byProductImportance = (a: ProductPartial, b: ProductPartial) =>
  b.purchases - a.purchases || b.revenue - a.revenue || b.cart_adds - a.cart_adds || b.views - a.views;

export function overviewOf(site: string, merged: MergedDay, online: number): Overview {
  return {
    site,
    day: merged.day,
    online,
    totals: merged.counts,
    funnel: funnelWithRates(merged.funnel),
    abandoned_carts: merged.abandonedCarts,
    top_pages: topEntries(merged.pages, byCountDescending).map(([path, views]) => ({ path, views })),
    top_referrers: topEntries(merged.referrers, byCountDescending).map(([host, visits]) => ({ host, visits })),
    top_products: topEntries(merged.products, byProductImportance).map(([productId, product]) => ({
      product_id: productId,
      name: product.name,
      views: product.views,
      cart_adds: product.cart_adds,
      purchases: product.purchases,
      revenue: product.revenue,
    })),
    jobs: topJobKeys(merged.jobs),
  };
}

function vitalCount(sketches: Map<VitalMetric, QuantileSketch>): number {
  let total = 0;
  for (const sketch of sketches.values()) total += sketch.count;
  return total;
}

/** p75 of every metric of the pages with the most vital reports (≤ TOP_LIST_LIMIT pages). */
export function performanceOf(site: string, merged: MergedDay): Performance {
  const pages = topEntries(merged.vitals, (a, b) => vitalCount(b) - vitalCount(a), TOP_LIST_LIMIT);
  return {
    site,
    day: merged.day,
    relative_error: SKETCH_RELATIVE_ERROR,
    pages: pages
      .filter(([, sketches]) => vitalCount(sketches) > 0)
      .map(([path, sketches]) => {
        const vitals: Performance["pages"][number]["vitals"] = {};
        for (const [metric, sketch] of sketches) {
          if (sketch.count > 0) vitals[metric] = { p75: sketchQuantile(sketch, 0.75), count: sketch.count };
        }
        return { path, vitals };
      }),
  };
}
