import { describe, expect, it } from "vitest";
import type { LiveMessage, MetricCounts, WindowMetrics } from "../../protocol/live";
import { LiveState, MAX_LIVE_WINDOWS, chartSeries, eventsPerSecond } from "./live-state";

const ZERO: MetricCounts = {
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
const WINDOW_MS = 10_000;
const T0 = 1_750_000_000_000;

function window(start: number, counts: Partial<MetricCounts> = {}): WindowMetrics {
  return { ...ZERO, ...counts, start, end: start + WINDOW_MS };
}

function message(type: "snapshot" | "update", windows: WindowMetrics[], at = T0, site = "demo"): LiveMessage {
  const funnel = {
    sessions: 0,
    product_views: 0,
    cart_adds: 0,
    checkouts: 0,
    purchases: 0,
    rates: { product_view: 0, cart_add: 0, checkout: 0, purchase: 0, overall: 0 },
  };
  return {
    type,
    site,
    at,
    window_seconds: 10,
    windows,
    totals: ZERO,
    online: 3,
    overview: {
      site,
      day: "2025-06-15",
      online: 3,
      totals: ZERO,
      funnel,
      abandoned_carts: { sessions: 0, value: 0 },
      top_pages: [],
      top_referrers: [],
      top_products: [],
    },
    performance: { site, day: "2025-06-15", relative_error: 0.01, pages: [] },
  };
}

describe("LiveState", () => {
  it("keeps a snapshot's windows newest first and overwrites changed windows from updates", () => {
    const state = new LiveState();
    state.apply(
      message("snapshot", [window(T0 - WINDOW_MS, { page_views: 1 }), window(T0 - 2 * WINDOW_MS, { page_views: 2 })]),
    );
    const view = state.apply(
      message("update", [window(T0, { page_views: 5 }), window(T0 - WINDOW_MS, { page_views: 4 })]),
    );
    expect(view.windows.map((w) => [w.start, w.page_views])).toEqual([
      [T0, 5],
      [T0 - WINDOW_MS, 4],
      [T0 - 2 * WINDOW_MS, 2],
    ]);
  });

  it("replaces everything on a new snapshot (a reconnect resynchronises)", () => {
    const state = new LiveState();
    state.apply(message("snapshot", [window(T0 - 5 * WINDOW_MS, { page_views: 9 })]));
    const view = state.apply(message("snapshot", [window(T0, { page_views: 1 })]));
    expect(view.windows.map((w) => w.start)).toEqual([T0]);
  });

  it("forgets the windows of another site even on an update", () => {
    const state = new LiveState();
    state.apply(message("snapshot", [window(T0 - WINDOW_MS)], T0, "a"));
    expect(state.apply(message("update", [window(T0)], T0, "b")).windows.map((w) => w.start)).toEqual([T0]);
  });

  it("keeps at most MAX_LIVE_WINDOWS windows, dropping the oldest", () => {
    const state = new LiveState();
    state.apply(
      message(
        "snapshot",
        Array.from({ length: MAX_LIVE_WINDOWS }, (_, index) => window(T0 - index * WINDOW_MS)),
      ),
    );
    const view = state.apply(message("update", [window(T0 + WINDOW_MS), window(T0 + 2 * WINDOW_MS)]));
    expect(view.windows).toHaveLength(MAX_LIVE_WINDOWS);
    expect(view.windows[0]?.start).toBe(T0 + 2 * WINDOW_MS);
    expect(view.windows.at(-1)?.start).toBe(T0 - (MAX_LIVE_WINDOWS - 3) * WINDOW_MS);
  });
});

describe("eventsPerSecond", () => {
  it("divides the last minute's events by the time they cover", () => {
    const windows = [window(T0, { events: 10 }), window(T0 - WINDOW_MS, { events: 20 })];
    // From the older window's start to `at`: 15 s.
    expect(eventsPerSecond({ windows, at: T0 + 5000, windowSeconds: 10 })).toBe(2);
  });

  it("ignores windows older than a minute and is 0 without windows", () => {
    expect(eventsPerSecond({ windows: [window(T0 - 120_000, { events: 100 })], at: T0, windowSeconds: 10 })).toBe(0);
    expect(eventsPerSecond({ windows: [], at: T0, windowSeconds: 10 })).toBe(0);
  });
});

describe("chartSeries", () => {
  it("lays windows on an even time axis ending at the current window, zeros where none was active", () => {
    const series = chartSeries(
      {
        windows: [
          window(T0, { page_views: 3, visitors: 2 }),
          window(T0 - 2 * WINDOW_MS, { page_views: 1, visitors: 1 }),
        ],
        at: T0 + 4000,
        windowSeconds: 10,
      },
      4,
    );
    expect(series.x).toEqual([T0 - 3 * WINDOW_MS, T0 - 2 * WINDOW_MS, T0 - WINDOW_MS, T0].map((ms) => ms / 1000));
    expect(series.pageViews).toEqual([0, 1, 0, 3]);
    expect(series.visitors).toEqual([0, 1, 0, 2]);
  });
});
