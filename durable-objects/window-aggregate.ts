/**
 * Per-window partial aggregates of one shard, and the counters shared with the day totals.
 *
 * `WindowCounters` are the additive numbers that go to ClickHouse's window_metrics and the
 * live feed. Money is in integer units (money.ts). Visitors and sessions are exact distinct
 * counts: the caller keeps the (window, visitor) and (window, session) sets in SQLite and
 * says whether this event's visitor/session is new to the window, so a retried or late event
 * never counts them twice. Per-page and per-product maps are capped (capped-map.ts).
 */
import type { EnrichedEvent, MetricCounts, VitalMetric } from "../protocol";
import { incrementCapped, admitKey } from "./capped-map";
import { fromMoneyUnits, toMoneyUnits } from "./money";
import { addToSketch, type QuantileSketch, emptySketch } from "./quantile-sketch";
import { emptyRecord } from "./safe-record";

/** Distinct pages and products a window keeps (the window is short; this only bounds abuse). */
export const WINDOW_MAP_CAP = 100;

/** The custom event an app sends when a product page is viewed: `track("product_view", { product_id, name? })`. */
export const PRODUCT_VIEW_EVENT = "product_view";

export interface WindowCounters {
  events: number;
  page_views: number;
  visitors: number;
  sessions: number;
  bounces: number;
  cart_adds: number;
  cart_removes: number;
  /** Value added to / removed from carts, money units. */
  cart_add_units: number;
  cart_remove_units: number;
  checkouts: number;
  purchases: number;
  /** currency → purchase value, money units. */
  revenue_units: Record<string, number>;
}

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
}

/** Whether the event's visitor / session is new to the window (or day) it is added to. */
export interface Membership {
  newVisitor: boolean;
  newSession: boolean;
}

export function emptyCounters(): WindowCounters {
  return {
    events: 0,
    page_views: 0,
    visitors: 0,
    sessions: 0,
    bounces: 0,
    cart_adds: 0,
    cart_removes: 0,
    cart_add_units: 0,
    cart_remove_units: 0,
    checkouts: 0,
    purchases: 0,
    revenue_units: emptyRecord<number>(),
  };
}

export function emptyWindowAggregate(): WindowAggregate {
  return { counters: emptyCounters(), pages: emptyRecord(), products: emptyRecord(), vitals: emptyRecord() };
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
      counters.revenue_units[event.currency] = (counters.revenue_units[event.currency] ?? 0) + toMoneyUnits(event.value);
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
    return [{ product_id: String(id), name: typeof name === "string" ? name : "", views: 1, cart_adds: 0, purchases: 0, revenue_units: 0 }];
  }
  if (event.type === "cart" && event.action === "add" && event.product_id !== "") {
    return [{ product_id: event.product_id, name: event.product_name, views: 0, cart_adds: 1, purchases: 0, revenue_units: 0 }];
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

export function addEventToWindow(window: WindowAggregate, event: EnrichedEvent, membership: Membership): void {
  addEventToCounters(window.counters, event, membership);
  if (event.type === "page_view") incrementCapped(window.pages, event.path, 1, WINDOW_MAP_CAP);
  if (event.type === "vital") {
    const metric = event.metric as VitalMetric;
    const sketch = window.vitals[metric] ?? emptySketch();
    addToSketch(sketch, event.metric_value);
    window.vitals[metric] = sketch;
  }
  addProductTouches(window.products, productTouchesOf(event), WINDOW_MAP_CAP);
}

/** `total − emitted`: what changed since the last sealed part. Never negative (counters only grow). */
export function subtractCounters(total: WindowCounters, emitted: WindowCounters): WindowCounters {
  const revenue = emptyRecord<number>();
  for (const [currency, units] of Object.entries(total.revenue_units)) {
    const delta = units - (emitted.revenue_units[currency] ?? 0);
    if (delta !== 0) revenue[currency] = delta;
  }
  return {
    events: total.events - emitted.events,
    page_views: total.page_views - emitted.page_views,
    visitors: total.visitors - emitted.visitors,
    sessions: total.sessions - emitted.sessions,
    bounces: total.bounces - emitted.bounces,
    cart_adds: total.cart_adds - emitted.cart_adds,
    cart_removes: total.cart_removes - emitted.cart_removes,
    cart_add_units: total.cart_add_units - emitted.cart_add_units,
    cart_remove_units: total.cart_remove_units - emitted.cart_remove_units,
    checkouts: total.checkouts - emitted.checkouts,
    purchases: total.purchases - emitted.purchases,
    revenue_units: revenue,
  };
}

/** Adds `source` into `target` (target changes): how partial rows merge (SummingMergeTree, the hub). */
export function addCountersInto(target: WindowCounters, source: WindowCounters): void {
  target.events += source.events;
  target.page_views += source.page_views;
  target.visitors += source.visitors;
  target.sessions += source.sessions;
  target.bounces += source.bounces;
  target.cart_adds += source.cart_adds;
  target.cart_removes += source.cart_removes;
  target.cart_add_units += source.cart_add_units;
  target.cart_remove_units += source.cart_remove_units;
  target.checkouts += source.checkouts;
  target.purchases += source.purchases;
  for (const [currency, units] of Object.entries(source.revenue_units)) {
    target.revenue_units[currency] = (target.revenue_units[currency] ?? 0) + units;
  }
}

export function isZeroCounters(counters: WindowCounters): boolean {
  return (
    counters.events === 0 &&
    counters.page_views === 0 &&
    counters.visitors === 0 &&
    counters.sessions === 0 &&
    counters.bounces === 0 &&
    counters.cart_adds === 0 &&
    counters.cart_removes === 0 &&
    counters.cart_add_units === 0 &&
    counters.cart_remove_units === 0 &&
    counters.checkouts === 0 &&
    counters.purchases === 0 &&
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
  return {
    events: counters.events,
    page_views: counters.page_views,
    visitors: counters.visitors,
    sessions: counters.sessions,
    bounces: counters.bounces,
    cart_adds: counters.cart_adds,
    cart_removes: counters.cart_removes,
    checkouts: counters.checkouts,
    purchases: counters.purchases,
    revenue: fromMoneyUnits(revenueUnits),
    revenue_by_currency: byCurrency,
  };
}
