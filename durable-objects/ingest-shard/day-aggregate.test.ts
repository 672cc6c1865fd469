import { describe, expect, it } from "vitest";
import { cartAdd, enrichedBatch, pageView, productView, purchase, vital } from "./enriched-fixture";
import {
  addBounceToDay,
  addClosedSessionToDay,
  addEventToDay,
  DAY_MAP_STORE_CAP,
  DAY_VITAL_PAGES_STORE_CAP,
  emptyDayAccumulator,
  toDayPartial,
} from "./day-aggregate";
import { dayPartialSchema, MAX_MAP_ENTRIES, MAX_VITAL_PAGES } from "../shard-to-hub/shard-live-state";
import { newSessionState, type StepsReached } from "./session-state";
import { jobMap } from "../jobs/job-maps";
import { topPagesJob } from "../jobs/top-pages";
import { topProductsJob } from "../jobs/top-products";
import { webVitalsJob } from "../jobs/web-vitals";

const none: StepsReached = { product_view: false, cart_add: false, checkout: false, purchase: false, referrer: false };
const t0 = Date.UTC(2026, 10, 23, 10);

describe("day aggregate", () => {
  it("counts the funnel per session step, referrers per session, bounces and abandoned carts", () => {
    const day = emptyDayAccumulator("2026-11-23");
    addEventToDay(
      day,
      pageView(t0, "/", "google.com"),
      { newVisitor: true, newSession: true },
      { ...none, referrer: true },
      "google.com",
    );
    addEventToDay(
      day,
      productView(t0 + 1, "sku-1", "Mug"),
      { newVisitor: false, newSession: false },
      { ...none, product_view: true },
      "google.com",
    );
    addEventToDay(
      day,
      cartAdd(t0 + 2, "sku-1", 10),
      { newVisitor: false, newSession: false },
      { ...none, cart_add: true },
      "google.com",
    );
    addEventToDay(day, cartAdd(t0 + 3, "sku-1", 10), { newVisitor: false, newSession: false }, none, "google.com");
    addEventToDay(day, pageView(t0 + 4, "/"), { newVisitor: true, newSession: true }, none, "");
    addEventToDay(
      day,
      purchase(t0 + 5, 10, "EUR", [{ product_id: "sku-1", price: 10, quantity: 1 }]),
      { newVisitor: false, newSession: false },
      { ...none, purchase: true },
      "",
    );
    addBounceToDay(day);
    // A session closing with 20.00 in its cart and no purchase.
    addClosedSessionToDay(day, { ...newSessionState("s-1", true, enrichedBatch("s", []), t0), cart_units: 200_000 });

    const partial = toDayPartial(day);
    expect(dayPartialSchema.safeParse(partial).success).toBe(true);
    expect(partial.counts).toMatchObject({
      events: 6,
      page_views: 2,
      visitors: 2,
      sessions: 2,
      bounces: 1,
      cart_adds: 2,
      purchases: 1,
      revenue: 10,
    });
    expect(partial.funnel).toEqual({ sessions: 2, product_views: 1, cart_adds: 1, checkouts: 0, purchases: 1 });
    expect(partial.abandoned_carts).toEqual({ sessions: 1, value: 20 });
    expect({ ...partial.referrers }).toEqual({ "google.com": 1 });
    expect({ ...partial.pages }).toEqual({ "/": 2 });
    expect(partial.products["sku-1"]).toEqual({
      name: "name of sku-1",
      views: 1,
      cart_adds: 2,
      purchases: 1,
      revenue: 10,
    });
  });

  it("stores twice what it reports, reports the largest 100 entries and 50 vital pages, and stays valid for the hub", () => {
    const day = emptyDayAccumulator("2026-11-23");
    const seen = { newVisitor: false, newSession: false };
    for (let page = 0; page < 500; page++) {
      // Page p gets (p % 7) + 1 views; pages 0..9 are much more popular.
      const views = page < 10 ? 1_000 : (page % 7) + 1;
      for (let view = 0; view < Math.min(views, 20); view++)
        addEventToDay(day, pageView(t0, `/p/${page}`), seen, none, "");
      addEventToDay(day, vital(t0, `/p/${page}`, "LCP", 1_000 + page), seen, none, "");
      addEventToDay(day, cartAdd(t0, `sku-${page}`, 1), seen, none, "");
    }
    expect(Object.keys(jobMap(day.maps, topPagesJob.day)).length).toBeLessThanOrEqual(DAY_MAP_STORE_CAP);
    expect(Object.keys(jobMap(day.maps, topProductsJob.day)).length).toBeLessThanOrEqual(DAY_MAP_STORE_CAP);
    expect(Object.keys(jobMap(day.maps, webVitalsJob.day)).length).toBeLessThanOrEqual(DAY_VITAL_PAGES_STORE_CAP);

    const partial = toDayPartial(day);
    expect(Object.keys(partial.pages)).toHaveLength(MAX_MAP_ENTRIES);
    expect(Object.keys(partial.products)).toHaveLength(MAX_MAP_ENTRIES);
    expect(Object.keys(partial.vitals)).toHaveLength(MAX_VITAL_PAGES);
    // The popular pages arrived first and were never evicted: their counts are exact.
    for (let page = 0; page < 10; page++) expect(partial.pages[`/p/${page}`]).toBe(20);
    // Counters are never capped.
    expect(partial.counts.cart_adds).toBe(500);
    expect(dayPartialSchema.safeParse(partial).success).toBe(true);
  });
});
