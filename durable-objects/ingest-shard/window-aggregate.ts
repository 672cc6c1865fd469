/**
 * Per-window partial aggregates of one shard, and the counters shared with the day totals.
 *
 * `WindowCounters` are the additive numbers that go to ClickHouse's window_metrics and the
 * live feed. Money is in integer units (money.ts). Visitors and sessions are exact distinct
 * counts: the caller keeps the (window, visitor) and (window, session) sets in SQLite and
 * says whether this event's visitor/session is new to the window, so a retried or late event
 * never counts them twice. Per-page and per-product maps are capped (capped-map.ts).
 */
import {
  METRIC_COUNT_NAMES,
  type EnrichedEvent,
  type MetricCountName,
  type MetricCounts,
  type VitalMetric,
} from "../../protocol";
import { incrementCapped, admitKey } from "../shared/capped-map";
import { addEventToJobCounts, emptyJobCounts, type JobCounts } from "../jobs/job-counts";
import { zeroCounts } from "../shared/metric-counts";
import { fromMoneyUnits, toMoneyUnits } from "../shared/money";
import { addToSketch, type QuantileSketch, emptySketch } from "../shared/quantile-sketch";
import { emptyRecord } from "../shared/safe-record";
import { MAX_MAP_ENTRIES } from "../shard-to-hub/shard-live-state";

/**
 * Distinct pages, products and job keys a window keeps (the window is short; this only bounds
 * abuse). Its job keys go to the hub, so this is the contract's cap.
 */
export const WINDOW_MAP_CAP = MAX_MAP_ENTRIES;

/** The custom event an app sends when a product page is viewed: `track("product_view", { product_id, name? })`. */
export const PRODUCT_VIEW_EVENT = "product_view";

/**
 * Counters a window or day keeps beyond the reported counts: value added to / removed from
 * carts, money units (they feed abandoned carts and top lists, not window_metrics).
 */
export const CART_UNIT_NAMES = ["cart_add_units", "cart_remove_units"] as const;
/** Every plain number of WindowCounters: what add, subtract and the zero check go over. */
export const WINDOW_COUNTER_NAMES = [...METRIC_COUNT_NAMES, ...CART_UNIT_NAMES] as const;
export type WindowCounterName = (typeof WINDOW_COUNTER_NAMES)[number];

export type WindowCounters = Record<WindowCounterName, number> & {
  /** currency → purchase value, money units. */
  revenue_units: Record<string, number>;
};

export interface ProductCounts {
  name: string;
  views: number;
  cart_adds: number;
  /** Items purchased (sum of quantities). */
  purchases: number;
  revenue_units: number;
}

export interface WindowAggregate {
  counters: WindowCounters;
  pages: Record<string, number>;
  products: Record<string, ProductCounts>;
  vitals: Partial<Record<VitalMetric, QuantileSketch>>;
  /** Keyed-count job name → key → events in this window (jobs/keyed-count-job.ts). */
  jobs: JobCounts;
}

/** Whether the event's visitor / session is new to the window (or day) it is added to. */
export interface Membership {
  newVisitor: boolean;
  newSession: boolean;
}

export function emptyCounters(): WindowCounters {
  const counters = { revenue_units: emptyRecord<number>() } as WindowCounters;
  for (const name of WINDOW_COUNTER_NAMES) counters[name] = 0;
  return counters;
}

export function emptyWindowAggregate(): WindowAggregate {
  return {
    counters: emptyCounters(),
    pages: emptyRecord(),
    products: emptyRecord(),
    vitals: emptyRecord(),
    jobs: emptyJobCounts(),
  };
}

/** Value a cart add/remove moves: its explicit value, else price × quantity. */
export function cartLineUnits(event: EnrichedEvent): number {
  if (event.value > 0) return toMoneyUnits(event.value);
  return toMoneyUnits(event.price) * Math.max(event.quantity, 1);
}

/** The event's own additive contribution (not visitors/sessions: those need membership). */
export function addEventToCounters(counters: WindowCounters, event: EnrichedEvent, membership: Membership): void {
  counters.events += 1;
  if (membership.newVisitor) counters.visitors += 1;
  if (membership.newSession) counters.sessions += 1;
  switch (event.type) {
    case "page_view":
      counters.page_views += 1;
      break;
    case "cart":
      if (event.action === "add") {
        counters.cart_adds += 1;
        counters.cart_add_units += cartLineUnits(event);
      } else if (event.action === "remove") {
        counters.cart_removes += 1;
        counters.cart_remove_units += cartLineUnits(event);
      } else if (event.action === "checkout") {
        counters.checkouts += 1;
      }
      break;
    case "purchase":
      counters.purchases += 1;
      counters.revenue_units[event.currency] =
        (counters.revenue_units[event.currency] ?? 0) + toMoneyUnits(event.value);
      break;
    case "vital":
    case "custom":
      break;
  }
}

export interface ProductTouch {
  product_id: string;
  name: string;
  views: number;
  cart_adds: number;
  purchases: number;
  revenue_units: number;
}

/** What the event does to per-product counts: a product view, a cart add, purchased items. */
export function productTouchesOf(event: EnrichedEvent): ProductTouch[] {
  if (event.type === "custom" && event.name === PRODUCT_VIEW_EVENT) {
    const id = event.props["product_id"];
    if (typeof id !== "string" && typeof id !== "number") return [];
    const name = event.props["name"];
    return [
      {
        product_id: String(id),
        name: typeof name === "string" ? name : "",
        views: 1,
        cart_adds: 0,
        purchases: 0,
        revenue_units: 0,
      },
    ];
  }
  if (event.type === "cart" && event.action === "add" && event.product_id !== "") {
    return [
      {
        product_id: event.product_id,
        name: event.product_name,
        views: 0,
        cart_adds: 1,
        purchases: 0,
        revenue_units: 0,
      },
    ];
  }
  if (event.type === "purchase") {
    return event.items.map((item) => ({
      product_id: item.product_id,
      name: item.name ?? "",
      views: 0,
      cart_adds: 0,
      purchases: item.quantity,
      revenue_units: toMoneyUnits(item.price) * item.quantity,
    }));
  }
  return [];
}

export function productWeight(product: ProductCounts): number {
  return product.views + product.cart_adds + product.purchases;
}

/** Adds product touches into a capped product map. */
export function addProductTouches(products: Record<string, ProductCounts>, touches: ProductTouch[], cap: number): void {
  for (const touch of touches) {
    if (!admitKey(products, touch.product_id, cap, productWeight)) continue;
    const product = products[touch.product_id] ?? { name: "", views: 0, cart_adds: 0, purchases: 0, revenue_units: 0 };
    if (touch.name !== "") product.name = touch.name;
    product.views += touch.views;
    product.cart_adds += touch.cart_adds;
    product.purchases += touch.purchases;
    product.revenue_units += touch.revenue_units;
    products[touch.product_id] = product;
  }
}

/** `sessionChannel`: the event's session's channel, for the keyed-count jobs (jobs/keyed-count-job.ts). */
export function addEventToWindow(
  window: WindowAggregate,
  event: EnrichedEvent,
  membership: Membership,
  sessionChannel = "",
): void {
  addEventToCounters(window.counters, event, membership);
  if (event.type === "page_view") incrementCapped(window.pages, event.path, 1, WINDOW_MAP_CAP);
  if (event.type === "vital") {
    const metric = event.metric as VitalMetric;
    const sketch = window.vitals[metric] ?? emptySketch();
    addToSketch(sketch, event.metric_value);
    window.vitals[metric] = sketch;
  }
  addProductTouches(window.products, productTouchesOf(event), WINDOW_MAP_CAP);
  addEventToJobCounts(window.jobs, event, WINDOW_MAP_CAP, { newSession: membership.newSession, sessionChannel });
}

/** `total − emitted`: what changed since the last sealed part. Never negative (counters only grow). */
export function subtractCounters(total: WindowCounters, emitted: WindowCounters): WindowCounters {
  const revenue = emptyRecord<number>();
  for (const [currency, units] of Object.entries(total.revenue_units)) {
    const delta = units - (emitted.revenue_units[currency] ?? 0);
    if (delta !== 0) revenue[currency] = delta;
  }
  const delta = { revenue_units: revenue } as WindowCounters;
  for (const name of WINDOW_COUNTER_NAMES) delta[name] = total[name] - emitted[name];
  return delta;
}

/** Adds `source` into `target` (target changes): how partial rows merge (SummingMergeTree, the hub). */
export function addCountersInto(target: WindowCounters, source: WindowCounters): void {
  for (const name of WINDOW_COUNTER_NAMES) target[name] += source[name];
  for (const [currency, units] of Object.entries(source.revenue_units)) {
    target.revenue_units[currency] = (target.revenue_units[currency] ?? 0) + units;
  }
}

export function isZeroCounters(counters: WindowCounters): boolean {
  return (
    WINDOW_COUNTER_NAMES.every((name) => counters[name] === 0) &&
    Object.values(counters.revenue_units).every((units) => units === 0)
  );
}

/** The live protocol's counts (money back in currency units). */
export function toMetricCounts(counters: WindowCounters): MetricCounts {
  const byCurrency = emptyRecord<number>();
  let revenueUnits = 0;
  for (const [currency, units] of Object.entries(counters.revenue_units)) {
    byCurrency[currency] = fromMoneyUnits(units);
    revenueUnits += units;
  }
  return { ...pickMetricCounts(counters), revenue: fromMoneyUnits(revenueUnits), revenue_by_currency: byCurrency };
}

/** The reported counts of `counters` (METRIC_COUNT_NAMES), without the cart units. */
export function pickMetricCounts(counters: WindowCounters): Record<MetricCountName, number> {
  const counts = zeroCounts();
  for (const name of METRIC_COUNT_NAMES) counts[name] = counters[name];
  return counts;
}
