import { describe, expect, it } from "vitest";
import { InvalidShardLiveState } from "../shard-to-hub/check-shard-live-state";
import { MAX_HUB_WINDOWS, MAX_MAP_ENTRIES, type ShardLiveDelta } from "../shard-to-hub/shard-live-state";
import { MergedShards, ONLINE_STALE_MS } from "./merged-shards";
import {
  asDelta,
  counts,
  shardState,
  TEST_WINDOW_MS,
  windowPartial,
  windowStart,
} from "../shard-to-hub/shard-state-fixture";

const NOW = Date.UTC(2026, 10, 20, 12, 0, 3);
const W0 = windowStart(NOW);

function hub(): MergedShards {
  return new MergedShards(TEST_WINDOW_MS);
}

describe("MergedShards merge", () => {
  it("sums each window over shards and keeps the latest partial per shard", () => {
    const state = hub();
    state.apply(
      shardState("s", 0, 1, NOW, { windows: [windowPartial(W0, { page_views: 2, visitors: 1, revenue: 0.1 })] }),
      NOW,
    );
    state.apply(
      shardState("s", 1, 1, NOW, { windows: [windowPartial(W0, { page_views: 3, visitors: 2, revenue: 0.2 })] }),
      NOW,
    );
    // Shard 0 again: absolute values replace its earlier partial, they do not add to it.
    state.apply(
      shardState("s", 0, 2, NOW, { windows: [windowPartial(W0, { page_views: 4, visitors: 1, revenue: 0.1 })] }),
      NOW,
    );
    const [window] = state.recentWindows(10);
    expect(window).toMatchObject({ start: W0, end: W0 + TEST_WINDOW_MS, page_views: 7, visitors: 3, revenue: 0.3 });
  });

  it("ignores a repeated or older state for the shard's totals, judging windows one by one", () => {
    const state = hub();
    const newer = shardState("s", 0, 5, NOW, {
      windows: [windowPartial(W0, { page_views: 10 })],
      today: { counts: counts({ page_views: 10 }) },
    });
    const older = shardState("s", 0, 4, NOW, {
      windows: [windowPartial(W0, { page_views: 8 }), windowPartial(W0 - TEST_WINDOW_MS, { page_views: 5 })],
      today: { counts: counts({ page_views: 8 }) },
    });
    expect(state.apply(newer, NOW).shardUpdated).toBe(true);
    const late = state.apply(older, NOW);
    // The older state lost to the newer one where both speak, but its other window is news.
    expect(late.shardUpdated).toBe(false);
    expect(late.acceptedWindows.map((partial) => partial.start)).toEqual([W0 - TEST_WINDOW_MS]);
    expect(state.overview("s", NOW).totals.page_views).toBe(10);
    expect(state.recentWindows(2).map((window) => window.page_views)).toEqual([10, 5]);
    const repeat = state.apply(newer, NOW);
    expect(repeat).toMatchObject({ shardUpdated: false, acceptedWindows: [] });
  });

  it("counts only today's partials, so totals restart at midnight UTC", () => {
    const state = hub();
    const beforeMidnight = Date.UTC(2026, 10, 20, 23, 59, 59);
    const afterMidnight = beforeMidnight + 2_000;
    state.apply(
      shardState("s", 0, 1, beforeMidnight, { today: { counts: counts({ page_views: 100 }) } }),
      beforeMidnight,
    );
    state.apply(
      shardState("s", 1, 1, beforeMidnight, { today: { counts: counts({ page_views: 50 }) } }),
      beforeMidnight,
    );
    expect(state.overview("s", beforeMidnight)).toMatchObject({ day: "2026-11-20", totals: { page_views: 150 } });
    expect(state.overview("s", afterMidnight)).toMatchObject({ day: "2026-11-21", totals: { page_views: 0 } });
    state.apply(shardState("s", 1, 2, afterMidnight, { today: { counts: counts({ page_views: 1 }) } }), afterMidnight);
    expect(state.overview("s", afterMidnight).totals.page_views).toBe(1);
    // A shard whose clock is still on yesterday is ignored, not added to today.
    state.apply(
      shardState("s", 0, 2, afterMidnight, { today: { day: "2026-11-20", counts: counts({ page_views: 101 }) } }),
      afterMidnight,
    );
    expect(state.overview("s", afterMidnight).totals.page_views).toBe(1);
  });

  it("drops the online count of a shard not heard from for five minutes", () => {
    const state = hub();
    state.apply(shardState("s", 0, 1, NOW, { online: 7 }), NOW);
    state.apply(shardState("s", 1, 1, NOW - ONLINE_STALE_MS - 1, { online: 3 }), NOW);
    expect(state.online(NOW)).toBe(7);
    expect(state.online(NOW + ONLINE_STALE_MS + 1)).toBe(0);
  });

  it("keeps at most MAX_HUB_WINDOWS recent windows and ignores partials older than them", () => {
    const state = hub();
    const windows = Array.from({ length: MAX_HUB_WINDOWS + 40 }, (_, index) =>
      windowPartial(W0 - index * TEST_WINDOW_MS, { page_views: 1 }),
    );
    const result = state.apply(shardState("s", 0, 1, NOW, { windows }), NOW);
    expect(state.windowCount).toBe(MAX_HUB_WINDOWS);
    expect(result.acceptedWindows).toHaveLength(MAX_HUB_WINDOWS);
    expect(result.dropBefore).toBe(W0 - (MAX_HUB_WINDOWS - 1) * TEST_WINDOW_MS);
    // Time moves on five windows: the five oldest leave, the new one arrives.
    const later = NOW + 5 * TEST_WINDOW_MS;
    state.apply(
      shardState("s", 0, 2, later, { windows: [windowPartial(windowStart(later), { page_views: 1 })] }),
      later,
    );
    expect(state.windowCount).toBe(MAX_HUB_WINDOWS - 5 + 1);
    expect(state.recentWindows(1)[0]?.start).toBe(windowStart(later));
    // Future-dated windows cannot push the count past the bound either.
    const future = Array.from({ length: 50 }, (_, index) =>
      windowPartial(W0 + (index + 10) * TEST_WINDOW_MS, { page_views: 1 }),
    );
    state.apply(shardState("s", 1, 1, later, { windows: future }), later);
    expect(state.recentWindows(1)[0]?.start).toBe(W0 + 59 * TEST_WINDOW_MS);
    expect(state.windowCount).toBe(MAX_HUB_WINDOWS);
  });

  it("restored from its parts reports the same numbers", () => {
    const state = hub();
    const shards = [];
    const windows = [];
    for (let shard = 0; shard < 4; shard++) {
      const sent = shardState("s", shard, 1, NOW, {
        windows: [
          windowPartial(W0, { page_views: shard + 1 }),
          windowPartial(W0 - TEST_WINDOW_MS, { sessions: shard }),
        ],
        today: { counts: counts({ page_views: 10 * shard }), pages: { "/": shard + 1 } },
        online: shard,
      });
      const result = state.apply(sent, NOW);
      shards.push({ shard, seq: sent.seq, at: sent.at, online: sent.online, today: sent.today });
      windows.push(...result.acceptedWindows.map((partial) => ({ shard, seq: sent.seq, partial })));
    }
    const restored = MergedShards.restore(TEST_WINDOW_MS, shards, windows);
    expect(restored.recentWindows(10)).toEqual(state.recentWindows(10));
    expect(restored.dayViews("s", NOW)).toEqual(state.dayViews("s", NOW));
  });
});

describe("MergedShards day deltas", () => {
  const base = () =>
    shardState("s", 0, 5, NOW, {
      today: { counts: counts({ page_views: 3 }), pages: { "/a": 2, "/b": 1 }, jobs: { custom_events: { x: 1 } } },
    });
  const delta = (baseSeq: number, seq: number, maps: ShardLiveDelta["today_delta"]["maps"]): ShardLiveDelta =>
    asDelta(shardState("s", 0, seq, NOW, { today: { counts: counts({ page_views: 4 }) } }), baseSeq, maps);

  it("applies a delta to the base it was built against: changed keys set, removed keys gone, the rest kept", () => {
    const state = hub();
    state.apply(base(), NOW);
    const result = state.apply(
      delta(5, 6, {
        pages: { set: { "/c": 1 }, removed: ["/b"] },
        "jobs.custom_events": { set: { x: 2 }, removed: [] },
      }),
      NOW,
    );
    expect(result.shardUpdated).toBe(true);
    expect(result.record?.seq).toBe(6);
    expect(result.record?.today).toMatchObject({
      counts: { page_views: 4 },
      pages: { "/a": 2, "/c": 1 },
      jobs: { custom_events: { x: 2 } },
    });
    expect(result.record?.today.pages).not.toHaveProperty("/b");
  });

  it("refuses a delta built on another base (none, older, repeated, another day), changing nothing but its windows", () => {
    const state = hub();
    // No base at all (a hub that lost its storage): refused, its windows still taken.
    const noBase = { ...delta(5, 6, {}), windows: [windowPartial(W0, { page_views: 1 })] };
    const refused = state.apply(noBase, NOW);
    expect(refused).toMatchObject({ shardUpdated: false });
    expect(refused.acceptedWindows).toHaveLength(1);
    expect(state.hasShard(0)).toBe(false);
    state.apply(base(), NOW);
    const before = state.dayViews("s", NOW);
    expect(state.apply(delta(4, 6, { pages: { set: { "/z": 9 }, removed: [] } }), NOW).shardUpdated).toBe(false);
    expect(state.apply(delta(5, 6, { pages: { set: { "/z": 9 }, removed: [] } }), NOW).shardUpdated).toBe(true);
    // The same delta again: its base is gone, so it changes nothing (absolute values: harmless anyway).
    expect(state.apply(delta(5, 6, { pages: { set: { "/z": 1 }, removed: [] } }), NOW).shardUpdated).toBe(false);
    const otherDay = delta(6, 7, {});
    otherDay.today_delta.day = "2000-01-01";
    expect(state.apply(otherDay, NOW).shardUpdated).toBe(false);
    expect(state.dayViews("s", NOW).overview.top_pages).toEqual([
      { path: "/z", views: 9 },
      ...before.overview.top_pages,
    ]);
  });

  it("refuses a delta whose result would pass a map's cap, leaving the base as it was", () => {
    const state = hub();
    const full = base();
    full.today.pages = Object.fromEntries(Array.from({ length: MAX_MAP_ENTRIES }, (_, index) => [`/p${index}`, 1]));
    state.apply(full, NOW);
    const before = state.dayViews("s", NOW);
    expect(() => state.apply(delta(5, 6, { pages: { set: { "/one-more": 5 }, removed: [] } }), NOW)).toThrow(
      InvalidShardLiveState,
    );
    expect(state.dayViews("s", NOW)).toEqual(before);
    // Replacing one (removed + set) stays within the cap.
    expect(state.apply(delta(5, 6, { pages: { set: { "/one-more": 5 }, removed: ["/p0"] } }), NOW).shardUpdated).toBe(
      true,
    );
  });
});
