import { describe, expect, it } from "vitest";
import { pageView, purchase } from "./enriched-fixture";
import { addCountersInto, addEventToWindow, emptyCounters, emptyWindowAggregate } from "./window-aggregate";
import {
  nextSealedPart,
  newWindowState,
  recordEmittedPart,
  windowMetricsRows,
  type WindowState,
} from "./window-sealing";

const windowMs = 10_000;

function windowWith(start: number): WindowState {
  return newWindowState(start, emptyWindowAggregate());
}

describe("window sealing", () => {
  it("emits nothing before the watermark passes the window's end", () => {
    const window = windowWith(10_000);
    addEventToWindow(window.total, pageView(10_001), { newVisitor: true, newSession: true });
    expect(nextSealedPart(window, windowMs, 19_999)).toBeNull();
    expect(nextSealedPart(window, windowMs, 20_000)).toMatchObject({ start: 10_000, part: 0 });
  });

  it("is idempotent: a second pass over a sealed window emits nothing", () => {
    const window = windowWith(0);
    addEventToWindow(window.total, pageView(1), { newVisitor: true, newSession: true });
    const part = nextSealedPart(window, windowMs, 50_000);
    if (part === null) throw new Error("expected a part");
    recordEmittedPart(window, part);
    expect(nextSealedPart(window, windowMs, 50_000)).toBeNull();
    expect(nextSealedPart(window, windowMs, 90_000)).toBeNull();
  });

  it("puts a late event into a new part holding only what changed, visitors only when new", () => {
    const window = windowWith(0);
    addEventToWindow(window.total, pageView(1), { newVisitor: true, newSession: true });
    addEventToWindow(window.total, purchase(2, 20, "EUR"), { newVisitor: false, newSession: false });
    const part0 = nextSealedPart(window, windowMs, 20_000);
    if (part0 === null) throw new Error("expected part 0");
    recordEmittedPart(window, part0);

    // Late: the same visitor again (not new), then a new visitor.
    addEventToWindow(window.total, pageView(3), { newVisitor: false, newSession: false });
    addEventToWindow(window.total, purchase(4, 5, "USD"), { newVisitor: true, newSession: true });
    const part1 = nextSealedPart(window, windowMs, 20_000);
    expect(part1?.part).toBe(1);
    expect(part1?.counters).toMatchObject({ events: 2, page_views: 1, visitors: 1, sessions: 1, purchases: 1 });
    expect({ ...part1?.counters.revenue_units }).toEqual({ USD: 50_000 });
    if (part1 === null) throw new Error("expected part 1");
    recordEmittedPart(window, part1);

    // A session closing as a bounce later: part 2 is just that.
    window.total.counters.bounces += 1;
    const part2 = nextSealedPart(window, windowMs, 20_000);
    expect(part2).toMatchObject({ part: 2, counters: { bounces: 1, events: 0, visitors: 0 } });
    if (part2 === null) throw new Error("expected part 2");

    // The parts add up to the window's total, as SummingMergeTree adds them up.
    const sum = emptyCounters();
    for (const part of [part0, part1, part2]) addCountersInto(sum, part.counters);
    expect(sum).toEqual(window.total.counters);
  });

  it("writes counters on the currency '' row and each currency's revenue on its own row", () => {
    const window = windowWith(1_732_350_000_000);
    addEventToWindow(window.total, pageView(1_732_350_000_001), { newVisitor: true, newSession: true });
    addEventToWindow(window.total, purchase(1_732_350_000_002, 12.5, "EUR"), { newVisitor: false, newSession: false });
    addEventToWindow(window.total, purchase(1_732_350_000_003, 7, "USD"), { newVisitor: false, newSession: false });
    const part = nextSealedPart(window, windowMs, 1_732_360_000_000);
    if (part === null) throw new Error("expected a part");
    const rows = windowMetricsRows("shop", 10, part);
    expect(rows).toEqual([
      expect.objectContaining({
        site: "shop",
        window_start: "2024-11-23 08:20:00",
        window_seconds: 10,
        currency: "",
        events: 3,
        page_views: 1,
        visitors: 1,
        sessions: 1,
        purchases: 2,
        revenue: 0,
      }),
      expect.objectContaining({ currency: "EUR", revenue: 12.5, events: 0, purchases: 0 }),
      expect.objectContaining({ currency: "USD", revenue: 7, events: 0 }),
    ]);
  });
});
