import { describe, expect, it } from "vitest";
import { addToSketch, emptySketch } from "../shared/quantile-sketch";
import { checkShardLiveState, InvalidShardLiveState } from "./check-shard-live-state";
import {
  MAX_MAP_ENTRIES,
  MAX_VITAL_PAGES,
  MAX_WINDOWS_PER_STATE,
  type ShardLiveState,
  shardLiveStateSchema,
} from "./shard-live-state";
import { counts, shardState, windowPartial } from "./shard-state-fixture";

function fullState(): ShardLiveState {
  const lcp = emptySketch();
  for (let i = 1; i <= 30; i++) addToSketch(lcp, i * 100);
  return shardState("shop", 2, 7, 1_763_900_000_000, {
    windows: [windowPartial(1_763_899_990_000, { page_views: 3, revenue: 9.5, revenue_by_currency: { EUR: 9.5 } })],
    today: {
      counts: counts({ page_views: 10, purchases: 1, revenue: 9.5, revenue_by_currency: { EUR: 9.5 } }),
      funnel: { sessions: 4, product_views: 3, cart_adds: 2, checkouts: 1, purchases: 1 },
      abandoned_carts: { sessions: 1, value: 12.25 },
      pages: { "/": 6, "/p/1": 4 },
      referrers: { "google.com": 2 },
      products: { "sku-1": { name: "One", views: 3, cart_adds: 2, purchases: 1, revenue: 9.5 } },
      vitals: { "/": { LCP: lcp, CLS: emptySketch() } },
    },
    online: 3,
  });
}

const many = <T>(count: number, value: (index: number) => T): Record<string, T> =>
  Object.fromEntries(Array.from({ length: count }, (_, index) => [`k${index}`, value(index)]));

/** Each turns a valid state into one the full schema refuses. */
const breakages: [string, (state: ShardLiveState) => void][] = [
  ["empty site", (state) => void (state.site = "")],
  ["negative seq", (state) => void (state.seq = -1)],
  ["fractional shard", (state) => void (state.shard = 1.5)],
  [
    "too many windows",
    (state) =>
      void (state.windows = Array.from({ length: MAX_WINDOWS_PER_STATE + 1 }, (_, index) =>
        windowPartial(index * 10_000, {}),
      )),
  ],
  [
    "window count as text",
    (state) => void ((state.windows[0]!.counts as unknown as Record<string, unknown>)["page_views"] = "3"),
  ],
  ["bad day", (state) => void (state.today.day = "23.11.2026")],
  ["negative online", (state) => void (state.online = -2)],
  ["too many pages", (state) => void (state.today.pages = many(MAX_MAP_ENTRIES + 1, () => 1))],
  ["too many referrers", (state) => void (state.today.referrers = many(MAX_MAP_ENTRIES + 1, () => 1))],
  [
    "too many products",
    (state) =>
      void (state.today.products = many(MAX_MAP_ENTRIES + 1, () => ({
        name: "",
        views: 1,
        cart_adds: 0,
        purchases: 0,
        revenue: 0,
      }))),
  ],
  [
    "too many vital pages",
    (state) => void (state.today.vitals = many(MAX_VITAL_PAGES + 1, () => ({ LCP: emptySketch() }))),
  ],
  ["unknown vital", (state) => void ((state.today.vitals["/"] as Record<string, unknown>)["FID"] = emptySketch())],
  [
    "product without name",
    (state) => void ((state.today.products["sku-1"] as unknown as Record<string, unknown>)["name"] = 5),
  ],
  [
    "revenue not a number",
    (state) => void ((state.today.counts as unknown as Record<string, unknown>)["revenue"] = null),
  ],
  ["funnel count negative", (state) => void (state.today.funnel.checkouts = -1)],
];

describe("checkShardLiveState", () => {
  it("accepts what the full schema accepts", () => {
    const state = fullState();
    expect(shardLiveStateSchema.safeParse(state).success).toBe(true);
    expect(checkShardLiveState(state)).toBe(state);
  });

  it.each(breakages)("refuses a state the full schema refuses: %s", (_name, breakState) => {
    const state = fullState();
    breakState(state);
    expect(shardLiveStateSchema.safeParse(state).success).toBe(false);
    expect(() => checkShardLiveState(state)).toThrow(InvalidShardLiveState);
  });
});
