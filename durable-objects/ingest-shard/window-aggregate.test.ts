import { describe, expect, it } from "vitest";
import { cartAdd, cartRemove, checkout, pageView, productView, purchase, vital } from "./enriched-fixture";
import { sketchQuantile } from "../shared/quantile-sketch";
import { parseWithSafeRecords } from "../shared/safe-record";
import { jobMap } from "../jobs/job-maps";
import { topPagesJob } from "../jobs/top-pages";
import { topProductsJob } from "../jobs/top-products";
import { webVitalsJob } from "../jobs/web-vitals";
import {
  addCountersInto,
  addEventToWindow,
  emptyCounters,
  emptyWindowAggregate,
  isZeroCounters,
  subtractCounters,
  toMetricCounts,
  WINDOW_MAP_CAP,
  type WindowAggregate,
} from "./window-aggregate";

const first = { newVisitor: true, newSession: true };
const again = { newVisitor: false, newSession: false };
// The built-in jobs' window maps (jobs/), under the names they are stored with.
const pagesOf = (window: WindowAggregate) => jobMap(window.maps, topPagesJob.window);
const productsOf = (window: WindowAggregate) => jobMap(window.maps, topProductsJob.window);
const vitalsOf = (window: WindowAggregate) => jobMap(window.maps, webVitalsJob.window);

describe("window aggregate", () => {
  it("counts events, page views, commerce and revenue per currency", () => {
    const window = emptyWindowAggregate();
    addEventToWindow(window, pageView(1, "/p/1"), first);
    addEventToWindow(window, pageView(2, "/p/1"), again);
    addEventToWindow(window, productView(3, "sku-1", "Mug"), again);
    addEventToWindow(window, cartAdd(4, "sku-1", 12.5, 2), again);
    addEventToWindow(window, cartRemove(5, "sku-1", 12.5, 1), again);
    addEventToWindow(window, checkout(6, 12.5), again);
    addEventToWindow(window, purchase(7, 0.1, "EUR", [{ product_id: "sku-1", price: 12.5, quantity: 1 }]), again);
    addEventToWindow(window, purchase(8, 0.2, "EUR"), again);
    addEventToWindow(window, purchase(9, 3, "USD"), again);
    addEventToWindow(window, vital(10, "/p/1", "LCP", 1800), again);

    const counts = toMetricCounts(window.counters);
    expect(counts).toMatchObject({
      events: 10,
      page_views: 2,
      visitors: 1,
      sessions: 1,
      cart_adds: 1,
      cart_removes: 1,
      checkouts: 1,
      purchases: 3,
    });
    // Money is summed in integer units: 0.1 + 0.2 is exactly 0.3.
    expect(counts.revenue_by_currency).toEqual({ EUR: 0.3, USD: 3 });
    expect(counts.revenue).toBe(3.3);
    expect(window.counters.cart_add_units).toBe(250_000);
    expect(window.counters.cart_remove_units).toBe(125_000);
    expect(pagesOf(window)["/p/1"]).toBe(2);
    expect(productsOf(window)["sku-1"]).toEqual({
      name: "name of sku-1",
      views: 1,
      cart_adds: 1,
      purchases: 1,
      revenue_units: 125_000,
    });
    expect(sketchQuantile(vitalsOf(window)["LCP"] ?? { zeros: 0, buckets: {}, count: 0 }, 0.75)).toBeCloseTo(1800, -2);
  });

  it("counts visitors and sessions only when the caller says they are new to the window", () => {
    const window = emptyWindowAggregate();
    addEventToWindow(window, pageView(1), { newVisitor: true, newSession: true });
    addEventToWindow(window, pageView(2), { newVisitor: false, newSession: true });
    addEventToWindow(window, pageView(3), { newVisitor: false, newSession: false });
    expect(window.counters.visitors).toBe(1);
    expect(window.counters.sessions).toBe(2);
  });

  it("keeps keys like __proto__ and constructor as plain entries, also after a JSON round trip", () => {
    const window = emptyWindowAggregate();
    addEventToWindow(window, cartAdd(1, "__proto__", 1), first);
    addEventToWindow(window, cartAdd(2, "constructor", 1), again);
    addEventToWindow(window, cartAdd(3, "constructor", 1), again);
    const revived = parseWithSafeRecords<WindowAggregate>(JSON.stringify(window));
    addEventToWindow(revived, cartAdd(4, "constructor", 1), again);
    expect(Object.keys(productsOf(revived)).sort()).toEqual(["__proto__", "constructor"]);
    expect(productsOf(revived)["constructor"]?.cart_adds).toBe(3);
    expect(productsOf(revived)["__proto__"]?.cart_adds).toBe(1);
  });

  it("bounds per-page counts, evicting the smallest entry for a new key", () => {
    const window = emptyWindowAggregate();
    addEventToWindow(window, pageView(0, "/popular"), first);
    addEventToWindow(window, pageView(0, "/popular"), again);
    for (let page = 0; page < WINDOW_MAP_CAP + 50; page++)
      addEventToWindow(window, pageView(page, `/p/${page}`), again);
    expect(Object.keys(pagesOf(window))).toHaveLength(WINDOW_MAP_CAP);
    expect(pagesOf(window)["/popular"]).toBe(2);
    // Counters are never capped.
    expect(window.counters.page_views).toBe(WINDOW_MAP_CAP + 52);
  });

  it("merges partials by addition and subtracts to the change since a part", () => {
    const a = emptyWindowAggregate();
    addEventToWindow(a, purchase(1, 10, "EUR"), first);
    const emitted = structuredClone(a.counters);
    addEventToWindow(a, purchase(2, 5, "EUR"), again);
    addEventToWindow(a, pageView(3), { newVisitor: false, newSession: true });
    const delta = subtractCounters(a.counters, emitted);
    expect(toMetricCounts(delta)).toMatchObject({
      events: 2,
      purchases: 1,
      page_views: 1,
      sessions: 1,
      visitors: 0,
      revenue_by_currency: { EUR: 5 },
    });
    const merged = emptyCounters();
    addCountersInto(merged, emitted);
    addCountersInto(merged, delta);
    expect(merged).toEqual(a.counters);
    expect(isZeroCounters(subtractCounters(a.counters, merged))).toBe(true);
  });
});
