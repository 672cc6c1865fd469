/**
 * One shard's totals for a UTC day: what the live dashboard shows as "today". Counters are
 * the window counters (exact visitors/sessions from the (day, visitor) and (day, session)
 * sets the caller keeps). Maps are bounded: the shard stores twice as many entries as it
 * reports (capped-map.ts), so the reported top entries are stable and exact while the tail
 * churns. `toDayPartial` produces the capped DayPartial of shard-live-state.ts.
 */
import type { EnrichedEvent, VitalMetric } from "../../protocol";
import { incrementCapped, admitKey, largestEntries } from "../shared/capped-map";
import { addEventToJobCounts, emptyJobCounts, largestJobCounts, type JobCounts } from "../jobs/job-counts";
import {
  type DayPartial,
  MAX_MAP_ENTRIES,
  MAX_VITAL_PAGES,
  type ProductPartial,
} from "../shard-to-hub/shard-live-state";
import { fromMoneyUnits } from "../shared/money";
import { addToSketch, emptySketch, type QuantileSketch } from "../shared/quantile-sketch";
import { emptyRecord } from "../shared/safe-record";
import type { StepsReached } from "./session-state";
import {
  addEventToCounters,
  addProductTouches,
  emptyCounters,
  productTouchesOf,
  productWeight,
  toMetricCounts,
  type Membership,
  type ProductCounts,
  type WindowCounters,
} from "./window-aggregate";

/** What the shard keeps, so the reported top stays stable (see capped-map.ts). */
export const DAY_MAP_STORE_CAP = 2 * MAX_MAP_ENTRIES;
export const DAY_VITAL_PAGES_STORE_CAP = 2 * MAX_VITAL_PAGES;

export interface PageVitals {
  samples: number;
  metrics: Partial<Record<VitalMetric, QuantileSketch>>;
}

export interface DayAccumulator {
  /** `YYYY-MM-DD`, UTC. */
  day: string;
  counters: WindowCounters;
  /** Sessions that reached each step (each session once per step); `sessions` is counters.sessions. */
  funnel: { product_views: number; cart_adds: number; checkouts: number; purchases: number };
  /** Sessions closed this day with a non-empty cart and no purchase, and the value left (money units). */
  abandoned: { sessions: number; value_units: number };
  pages: Record<string, number>;
  /** Referrer host → sessions that entered from it. */
  referrers: Record<string, number>;
  products: Record<string, ProductCounts>;
  vitals: Record<string, PageVitals>;
  /** Keyed-count job name → key → events (jobs/keyed-count-job.ts), capped like the maps above. */
  jobs: JobCounts;
}

export function emptyDayAccumulator(day: string): DayAccumulator {
  return {
    day,
    counters: emptyCounters(),
    funnel: { product_views: 0, cart_adds: 0, checkouts: 0, purchases: 0 },
    abandoned: { sessions: 0, value_units: 0 },
    pages: emptyRecord(),
    referrers: emptyRecord(),
    products: emptyRecord(),
    vitals: emptyRecord(),
    jobs: emptyJobCounts(),
  };
}

/**
 * Adds one event of a session. `reached` says which funnel steps the session reached for the
 * first time with it; `referrerHost` is the session's referrer when it just became known.
 */
export function addEventToDay(
  day: DayAccumulator,
  event: EnrichedEvent,
  membership: Membership,
  reached: StepsReached,
  referrerHost: string,
  sessionChannel = "",
): void {
  addEventToCounters(day.counters, event, membership);
  if (reached.product_view) day.funnel.product_views += 1;
  if (reached.cart_add) day.funnel.cart_adds += 1;
  if (reached.checkout) day.funnel.checkouts += 1;
  if (reached.purchase) day.funnel.purchases += 1;
  if (reached.referrer && referrerHost !== "") incrementCapped(day.referrers, referrerHost, 1, DAY_MAP_STORE_CAP);
  if (event.type === "page_view") incrementCapped(day.pages, event.path, 1, DAY_MAP_STORE_CAP);
  if (event.type === "vital") addVital(day, event.path, event.metric as VitalMetric, event.metric_value);
  addProductTouches(day.products, productTouchesOf(event), DAY_MAP_STORE_CAP);
  addEventToJobCounts(day.jobs, event, DAY_MAP_STORE_CAP, { newSession: membership.newSession, sessionChannel });
}

function addVital(day: DayAccumulator, path: string, metric: VitalMetric, value: number): void {
  if (!admitKey(day.vitals, path, DAY_VITAL_PAGES_STORE_CAP, (page) => page.samples)) return;
  const page = day.vitals[path] ?? { samples: 0, metrics: emptyRecord<QuantileSketch>() };
  const sketch = page.metrics[metric] ?? emptySketch();
  addToSketch(sketch, value);
  page.metrics[metric] = sketch;
  page.samples += 1;
  day.vitals[path] = page;
}

/** A session that started this day closed as a bounce. */
export function addBounceToDay(day: DayAccumulator): void {
  day.counters.bounces += 1;
}

/** A session closed this day with `cartUnits` in its cart and no purchase. */
export function addAbandonedCartToDay(day: DayAccumulator, cartUnits: number): void {
  day.abandoned.sessions += 1;
  day.abandoned.value_units += cartUnits;
}

function toProductPartial(product: ProductCounts): ProductPartial {
  return {
    name: product.name,
    views: product.views,
    cart_adds: product.cart_adds,
    purchases: product.purchases,
    revenue: fromMoneyUnits(product.revenue_units),
  };
}

/** The capped, absolute DayPartial the hub receives. */
export function toDayPartial(day: DayAccumulator): DayPartial {
  const products = emptyRecord<ProductPartial>();
  for (const [id, product] of Object.entries(largestEntries(day.products, MAX_MAP_ENTRIES, productWeight))) {
    products[id] = toProductPartial(product);
  }
  const vitals = emptyRecord<Partial<Record<VitalMetric, QuantileSketch>>>();
  for (const [path, page] of Object.entries(largestEntries(day.vitals, MAX_VITAL_PAGES, (entry) => entry.samples))) {
    vitals[path] = page.metrics;
  }
  return {
    day: day.day,
    counts: toMetricCounts(day.counters),
    funnel: { sessions: day.counters.sessions, ...day.funnel },
    abandoned_carts: { sessions: day.abandoned.sessions, value: fromMoneyUnits(day.abandoned.value_units) },
    pages: largestEntries(day.pages, MAX_MAP_ENTRIES, (views) => views),
    referrers: largestEntries(day.referrers, MAX_MAP_ENTRIES, (visits) => visits),
    products,
    vitals,
    jobs: largestJobCounts(day.jobs, MAX_MAP_ENTRIES),
  };
}
