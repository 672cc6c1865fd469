import { describe, expect, it } from "vitest";
import type { LiveFilteredAnswer } from "../../protocol/live-filtered";
import { chartSeries } from "./live-state";
import { liveViewOf, secondsBehind } from "./live-filtered";

const COUNTS = {
  events: 4,
  page_views: 2,
  visitors: 1,
  sessions: 1,
  bounces: 0,
  cart_adds: 1,
  cart_removes: 0,
  checkouts: 0,
  purchases: 1,
  revenue: 20,
  revenue_by_currency: { EUR: 20 },
};
const AT = 1_750_000_005_000;

const answer: LiveFilteredAnswer = {
  site: "shop",
  at: AT,
  source: "clickhouse",
  flush_max_age_ms: 2000,
  filters: ["channel:is:Email"],
  window_seconds: 10,
  time_zone: "Europe/Berlin",
  windows: [{ start: AT - 5000, end: AT + 5000, ...COUNTS }],
  totals: COUNTS,
  online: 1,
  overview: {
    site: "shop",
    day: "2025-06-15",
    online: 1,
    totals: COUNTS,
    funnel: {
      sessions: 1,
      product_views: 0,
      cart_adds: 0,
      checkouts: 0,
      purchases: 0,
      rates: { product_view: 0, cart_add: 0, checkout: 0, purchase: 0, overall: 0 },
    },
    abandoned_carts: { sessions: 0, value: 0 },
    top_pages: [{ path: "/", views: 2 }],
    top_referrers: [],
    top_products: [],
  },
  performance: { site: "shop", day: "2025-06-15", relative_error: 0.01, pages: [] },
};

describe("filtered live figures", () => {
  it("become the live panel's view, charted like the feed's, with the site's zone for the day", () => {
    const view = liveViewOf(answer);
    expect(view).toMatchObject({ site: "shop", at: AT, windowSeconds: 10, online: 1, timeZone: "Europe/Berlin" });
    expect(view.totals).toBe(COUNTS);
    const series = chartSeries(view);
    expect(series.pageViews.at(-1)).toBe(2);
    expect(series.x.at(-1)).toBe((AT - 5000) / 1000);
  });

  it("say how far behind they may be: the flush bound plus the answer's age, whole seconds up", () => {
    expect(secondsBehind(1000, 1300, 2000)).toBe(3);
    expect(secondsBehind(1000, 1000, 2000)).toBe(2);
    expect(secondsBehind(1000, 4100, 2000)).toBe(6);
    expect(secondsBehind(1000, 1000, 0)).toBe(1);
  });
});
