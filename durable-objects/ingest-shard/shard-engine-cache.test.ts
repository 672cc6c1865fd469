/**
 * The ShardEngine's in-memory cache of parsed windows and days (shard-state-store.ts) over
 * real SQLite storage: whatever happens to the object (evicted every few batches, a
 * transaction that throws half-way, another engine writing the same storage), it reports
 * and stores exactly what an engine that reads everything from storage would.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { EnrichedBatch } from "../../protocol";
import { utcDay } from "../../common/utc-day";
import { DAY_MAP_STORE_CAP, DAY_VITAL_PAGES_STORE_CAP } from "./day-aggregate";
import {
  cartAdd,
  checkout,
  enrichedBatch,
  enrichedEvent,
  pageView,
  productView,
  purchase,
  vital,
} from "./enriched-fixture";
import type { ShardLiveState } from "../shard-to-hub/shard-live-state";
import { ShardEngine, type ShardEngineOptions } from "./shard-engine";
import { clickhouse, config, harness, IDLE_MS, shardStub, uniqueSite } from "./shard-test-harness";

/** A deterministic mixed stream: pages (more than the day keeps), products, referrers and vitals over several windows, with an idle gap. */
function stream(site: string, start: number): { at: number; batch: EnrichedBatch }[] {
  const batches: { at: number; batch: EnrichedBatch }[] = [];
  for (let index = 0; index < 48; index++) {
    const at = start + index * 1_700 + (index >= 32 ? IDLE_MS : 0);
    const visitor = `v${index % 7}`;
    const ts = at - 400;
    const sku = `sku-${(index * 5) % 11}`;
    batches.push({
      at,
      batch: enrichedBatch(
        site,
        [
          pageView(ts, `/p/${index % 13}`, index % 4 === 0 ? `ref-${index % 3}.example` : ""),
          productView(ts + 10, sku, `Product ${sku}`),
          cartAdd(ts + 20, sku, 3.5 + (index % 4), 1 + (index % 2)),
          vital(
            ts + 30,
            `/p/${index % 13}`,
            index % 2 === 0 ? "LCP" : "CLS",
            index % 2 === 0 ? 900 + index * 37 : 0.01 * index,
          ),
          // Late in the stream, many distinct pages with vitals: the day's capped page and vitals maps start evicting.
          ...(index >= 40
            ? Array.from({ length: 30 }, (_, page) => [
                pageView(ts + 60 + page, `/many/${index}/${page}`),
                vital(ts + 60 + page, `/many/${index}/${page}`, "LCP", 300 + 97 * page),
              ]).flat()
            : []),
          ...(index % 5 === 0 && index < 20
            ? [
                checkout(ts + 40, 9),
                purchase(ts + 50, 9, index % 10 === 0 ? "EUR" : "USD", [{ product_id: sku, price: 9, quantity: 1 }]),
              ]
            : []),
        ],
        { visitor_id: visitor, batch_id: `${site}-b${index}` },
      ),
    });
  }
  return batches;
}

/** What a shard reports, without what differs between two sites by design (site, seq, send time). */
function reported(engine: ShardEngine) {
  const live = engine.liveState();
  return { windows: live?.windows, today: live?.today, online: live?.online };
}

/** What a shard stores of its windows and days (the *_entries tables: their maps, one row per entry). */
function stored(site: string) {
  return runInDurableObject(shardStub(site), (_instance, state) => ({
    days: state.storage.sql
      .exec<{ day: string; state: string }>("SELECT day, state FROM days ORDER BY day")
      .toArray()
      .map((row) => ({ day: row.day, state: JSON.parse(row.state) as unknown })),
    dayEntries: state.storage.sql
      .exec<{ day: string; map: string; key: string; value: string }>(
        "SELECT day, map, key, value FROM day_entries ORDER BY day, map, key",
      )
      .toArray()
      .map((row) => ({ ...row, value: JSON.parse(row.value) as unknown })),
    windowEntries: state.storage.sql
      .exec<{ window_start: number; map: string; key: string; value: string }>(
        "SELECT window_start, map, key, value FROM window_entries ORDER BY window_start, map, key",
      )
      .toArray()
      .map((row) => ({ ...row, value: JSON.parse(row.value) as unknown })),
    windows: state.storage.sql
      .exec<{ start: number; state: string; needs_part: number }>(
        "SELECT start, state, needs_part FROM windows ORDER BY start",
      )
      .toArray()
      .map((row) => ({ start: row.start, needs_part: row.needs_part, state: JSON.parse(row.state) as unknown })),
  }));
}

/** One engine for the whole of `work`, as in a long-lived object (the harness makes a fresh one per call). */
function withOneEngine<R>(
  site: string,
  clock: { now: number },
  work: (engine: ShardEngine) => Promise<R>,
  overrides: Partial<ShardEngineOptions> = {},
): Promise<R> {
  return runInDurableObject(shardStub(site), async (_instance, state) => {
    let sessions = 0;
    const engine = new ShardEngine({
      storage: state.storage,
      settings: config,
      clickhouse,
      sendToHub: async () => undefined,
      now: () => clock.now,
      newSessionId: () => `s-${sessions++}`,
      ...overrides,
    });
    return work(engine);
  });
}

describe("ShardEngine state cache", () => {
  it("reports and stores the same state whether the object lives through the stream or is evicted after every batch", async () => {
    const kept = uniqueSite("cache-kept");
    const evicted = uniqueSite("cache-evicted");
    const start = harness(kept).clock.now;

    const keptClock = { now: start };
    const keptState = await withOneEngine(kept, keptClock, async (engine) => {
      for (const { at, batch } of stream(kept, start)) {
        keptClock.now = at;
        expect(await engine.ingest(batch)).toMatchObject({ status: "accepted" });
        // Alarms seal windows and close idle sessions: they change cached windows and days too.
        if (batch.batch_id.endsWith("5")) await engine.alarm();
      }
      const state = reported(engine);
      // The state tables hold the last checkpoint: write one so they hold everything.
      engine.checkpointNow();
      return state;
    });

    // The harness makes a new engine for every call: what an object evicted after every batch restarts with.
    const h = harness(evicted, start);
    let sessions = 0;
    const freshIds = { newSessionId: () => `s-${sessions++}` };
    for (const { at, batch } of stream(evicted, start)) {
      h.clock.now = at;
      expect(await h.run((engine) => engine.ingest(batch), freshIds)).toMatchObject({ status: "accepted" });
      if (batch.batch_id.endsWith("5")) await h.run((engine) => engine.alarm(), freshIds);
    }
    const evictedState = await h.run((engine) => reported(engine), freshIds);
    await h.run((engine) => engine.checkpointNow(), freshIds);

    expect(keptState.today?.counts.events).toBeGreaterThan(150);
    // Sessions closed by the alarm after the idle gap changed the day too.
    expect(keptState.today?.abandoned_carts.sessions).toBeGreaterThan(0);
    expect(evictedState).toEqual(keptState);
    const keptTables = await stored(kept);
    expect(keptTables.windows.length).toBeGreaterThan(3);
    expect(keptTables.dayEntries.filter((entry) => entry.map === "vitals").length).toBeGreaterThan(3);
    expect(keptTables.dayEntries.filter((entry) => entry.map === "pages").length).toBe(DAY_MAP_STORE_CAP);
    expect(keptTables.dayEntries.filter((entry) => entry.map === "vitals").length).toBe(DAY_VITAL_PAGES_STORE_CAP);
    expect(await stored(evicted)).toEqual(keptTables);
  });

  it("drops what a transaction changed in memory when it throws, so the next batch starts from storage", async () => {
    const site = uniqueSite("cache-throw");
    const clock = { now: harness(site).clock.now };
    const t = clock.now;
    const result = await withOneEngine(site, clock, async (engine) => {
      await engine.ingest(enrichedBatch(site, [pageView(t, "/a"), vital(t + 1, "/a", "LCP", 1_200)]));
      // A bug's batch: its first events change the cached window and day, then an invalid time throws.
      const broken = enrichedBatch(site, [
        pageView(t + 2, "/b"),
        purchase(t + 3, 50, "EUR"),
        enrichedEvent({ type: "page_view", ts: Number.NaN, path: "/nan" }),
      ]);
      await expect(engine.ingest(broken)).rejects.toThrow();
      await engine.ingest(enrichedBatch(site, [pageView(t + 4, "/c")], { visitor_id: "v-2" }));
      return engine.liveState();
    });
    const fromStorage = await withOneEngine(site, clock, async (engine) => engine.liveState());
    expect(result?.today.counts).toMatchObject({ events: 3, page_views: 2, purchases: 0, revenue: 0 });
    expect(result?.today.pages).toEqual({ "/a": 1, "/c": 1 });
    expect(result?.windows[0]?.counts).toMatchObject({ events: 3, page_views: 2, visitors: 2 });
    expect({ ...result, seq: 0 }).toEqual({ ...fromStorage, seq: 0 });
    expect((await withOneEngine(site, clock, async (engine) => engine.stats())).counters).toMatchObject({
      ingested_batches: 2,
      ingested_events: 3,
    });
  });

  it("notices another writer of the same storage and reads its changes instead of its own stale copy", async () => {
    const site = uniqueSite("cache-writers");
    const clock = { now: harness(site).clock.now };
    const t = clock.now;
    const today = await runInDurableObject(shardStub(site), async (_instance, state) => {
      const options = {
        storage: state.storage,
        settings: config,
        clickhouse,
        sendToHub: async () => undefined,
        now: () => clock.now,
      };
      const first = new ShardEngine(options);
      const second = new ShardEngine(options);
      await first.ingest(enrichedBatch(site, [pageView(t, "/")]));
      await second.ingest(enrichedBatch(site, [pageView(t + 1, "/")]));
      await first.ingest(enrichedBatch(site, [pageView(t + 2, "/")]));
      return [first.liveState(), second.liveState()] satisfies (ShardLiveState | null)[];
    });
    expect(today.map((state) => state?.today.counts.page_views)).toEqual([3, 3]);
    expect(today.map((state) => state?.windows.find((window) => window.start === t)?.counts.page_views)).toEqual([
      3, 3,
    ]);
  });

  it("reads a day and a window stored whole (schema v1) and moves their maps to the entry tables on the next write", async () => {
    const site = uniqueSite("cache-v1-day");
    const h = harness(site);
    const t = h.clock.now;
    const day = utcDay(t);
    await h.run((engine) => engine.ingest(enrichedBatch(site, [pageView(t, "/new")])));
    await h.run((engine) => engine.checkpointNow());
    // Rewrite the day the way schema v1 stored it: everything in one JSON row, no entries.
    await runInDurableObject(shardStub(site), (_instance, state) => {
      const sql = state.storage.sql;
      const core = JSON.parse(
        sql.exec<{ state: string }>("SELECT state FROM days WHERE day = ?", day).one().state,
      ) as Record<string, unknown>;
      const whole = {
        ...core,
        pages: { "/old": 4, "/new": 1 },
        referrers: { "old.example": 2 },
        products: {},
        vitals: {},
      };
      sql.exec("UPDATE days SET state = ? WHERE day = ?", JSON.stringify(whole), day);
      sql.exec("DELETE FROM day_entries WHERE day = ?", day);
      const window = JSON.parse(
        sql.exec<{ state: string }>("SELECT state FROM windows WHERE start = ?", t).one().state,
      ) as { total: Record<string, unknown> };
      window.total = { ...window.total, pages: { "/old": 4, "/new": 1 }, products: {}, vitals: {} };
      sql.exec("UPDATE windows SET state = ? WHERE start = ?", JSON.stringify(window), t);
      sql.exec("DELETE FROM window_entries WHERE window_start = ?", t);
    });
    await h.run((engine) => engine.ingest(enrichedBatch(site, [pageView(t + 1, "/new")])));
    await h.run((engine) => engine.checkpointNow());
    const today = await h.run((engine) => engine.liveState()?.today);
    expect(today?.pages).toEqual({ "/old": 4, "/new": 2 });
    expect(today?.referrers).toEqual({ "old.example": 2 });
    const tables = await stored(site);
    expect(tables.days.map((row) => Object.keys(row.state as object).sort())).toEqual([
      ["abandoned", "counters", "day", "funnel"],
    ]);
    expect(tables.dayEntries.map((entry) => [entry.map, entry.key, entry.value])).toEqual([
      ["pages", "/new", 2],
      ["pages", "/old", 4],
      ["referrers", "old.example", 2],
    ]);
    expect(tables.windows.map((row) => Object.keys((row.state as { total: object }).total))).toEqual([["counters"]]);
    expect(tables.windowEntries.map((entry) => [entry.window_start, entry.map, entry.key, entry.value])).toEqual([
      [t, "pages", "/new", 2],
      [t, "pages", "/old", 4],
    ]);
  });
});
