import { describe, expect, it } from "vitest";
import { METRIC_COUNT_NAMES } from "../../protocol";
import { cartAdd, checkout, pageView, purchase, vital } from "../ingest-shard/enriched-fixture";
import { addEventToCounters, emptyCounters, WINDOW_COUNTER_NAMES } from "../ingest-shard/window-aggregate";
import { cartRemove, productView } from "../ingest-shard/enriched-fixture";
import { EVENT_COUNTER_RULES, SESSION_COUNTER_NAMES } from "./event-counters";

describe("event counters", () => {
  it("gives every counter name exactly one rule: an event rule or a session counter", () => {
    const ruled = [...Object.keys(EVENT_COUNTER_RULES), ...SESSION_COUNTER_NAMES].sort();
    expect(ruled).toEqual([...WINDOW_COUNTER_NAMES].sort());
    for (const name of METRIC_COUNT_NAMES) expect(ruled).toContain(name);
  });

  it("counts each event by the rules, revenue by currency", () => {
    const counters = emptyCounters();
    const first = { newVisitor: true, newSession: true };
    const again = { newVisitor: false, newSession: false };
    addEventToCounters(counters, pageView(1), first);
    addEventToCounters(counters, cartAdd(2, "sku-1", 2.5, 2), again);
    addEventToCounters(counters, cartRemove(3, "sku-1", 2.5), again);
    addEventToCounters(counters, productView(3, "sku-1"), again);
    addEventToCounters(counters, checkout(3, 5), again);
    addEventToCounters(counters, purchase(4, 5, "EUR"), again);
    addEventToCounters(counters, vital(5, "/", "LCP", 900), { newVisitor: false, newSession: true });
    expect({ ...counters, revenue_units: { ...counters.revenue_units } }).toEqual({
      revenue_units: { EUR: 50_000 },
      events: 7,
      page_views: 1,
      visitors: 1,
      sessions: 2,
      bounces: 0,
      cart_adds: 1,
      cart_removes: 1,
      checkouts: 1,
      purchases: 1,
      cart_add_units: 50_000,
      cart_remove_units: 25_000,
    });
  });
});
