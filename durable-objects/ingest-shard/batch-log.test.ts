/**
 * The shard's durability model (shard-engine.ts): a batch is durable as its batch_log row (and
 * its event rows) before the answer; the state tables hold the last checkpoint; a new engine
 * replays the log after it. Over real SQLite storage, with engines built afresh as a restarted
 * object would be.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { cartAdd, enrichedBatch, pageView } from "./enriched-fixture";
import {
  clickhouse,
  config,
  harness,
  IDLE_MS,
  shardStub,
  uniqueSite,
  unreachableClickHouse,
} from "./shard-test-harness";
import { ManualClock } from "./manual-clock-harness";
import { SEEN_BATCH_RETENTION_MS, ShardEngine } from "./shard-engine";

function tables(site: string) {
  return runInDurableObject(shardStub(site), (_instance, state) => {
    const sql = state.storage.sql;
    const count = (query: string) => sql.exec<{ n: number }>(query).one().n;
    return {
      logged: count("SELECT count(*) AS n FROM batch_log"),
      replayable: count("SELECT count(*) AS n FROM batch_log WHERE entry IS NOT NULL"),
      pendingEvents: count("SELECT count(*) AS n FROM pending_events"),
      pendingSessions: count("SELECT count(*) AS n FROM pending_sessions"),
      windows: count("SELECT count(*) AS n FROM windows"),
      days: count("SELECT count(*) AS n FROM days"),
      sessions: count("SELECT count(*) AS n FROM open_sessions"),
    };
  });
}

describe("IngestShard batch log and checkpoints", () => {
  it("stores a batch as its log row and event rows, no state rows, until the alarm checkpoints", async () => {
    const site = uniqueSite("log");
    const h = harness(site);
    const t = h.clock.now;
    await h.run((engine) => engine.ingest(enrichedBatch(site, [pageView(t, "/"), cartAdd(t + 1, "sku", 5)])));
    expect(await tables(site)).toEqual({
      logged: 1,
      replayable: 1,
      pendingEvents: 2,
      pendingSessions: 0,
      windows: 0,
      days: 0,
      sessions: 0,
    });
    // A new engine (a restarted object) has the batch from the log alone.
    const replayed = await h.run((engine) => engine.liveState());
    expect(replayed?.today.counts).toMatchObject({ events: 2, page_views: 1, cart_adds: 1, visitors: 1 });

    await h.run((engine) => engine.alarm());
    expect(await tables(site)).toMatchObject({ logged: 1, replayable: 0, windows: 1, days: 1, sessions: 1 });
    expect((await h.run((engine) => engine.liveState()))?.today).toEqual(replayed?.today);
  });

  it("still loads when a deploy shortened the session timeout and the log replays into more sessions", async () => {
    const site = uniqueSite("log-settings");
    const h = harness(site);
    const t = h.clock.now;
    // Two page views of one visitor ten minutes apart: one session under the configured timeout.
    const gap = 10 * 60_000;
    expect(gap).toBeLessThan(IDLE_MS);
    await h.run((engine) =>
      engine.ingest(enrichedBatch(site, [pageView(t, "/a"), pageView(t + gap, "/b")], { visitor_id: "v1" })),
    );
    // Restarted with a 5-minute timeout, the replay splits them into two sessions: the log has one id.
    const shorter = { settings: { ...config, sessionIdleMinutes: 5 } };
    const replayed = await h.run((engine) => engine.liveState(), shorter);
    expect(replayed?.today.counts).toMatchObject({ events: 2, page_views: 2, visitors: 1 });
    // Loads the same way again (the minted id depends on the batch alone), and takes new batches.
    expect((await h.run((engine) => engine.liveState(), shorter))?.today).toEqual(replayed?.today);
    const next = await h.run(
      (engine) => engine.ingest(enrichedBatch(site, [pageView(t + gap + 1000, "/c")], { visitor_id: "v2" })),
      shorter,
    );
    expect(next.status).toBe("accepted");
  });

  it("gives a replayed batch the session ids it had and emits a closed session once", async () => {
    const site = uniqueSite("log-sessions");
    const h = harness(site);
    const t = h.clock.now;
    let next = 0;
    const ids = { newSessionId: () => `live-${next++}` };
    await h.run((engine) => engine.ingest(enrichedBatch(site, [pageView(t, "/a")], { visitor_id: "v1" })), ids);
    await h.run((engine) => engine.alarm(), ids);
    await h.run((engine) => engine.ingest(enrichedBatch(site, [pageView(t + 10, "/b")], { visitor_id: "v2" })), ids);
    // Replays the second batch with a generator that would give other ids: the logged one wins.
    const other = { newSessionId: () => "never-used" };
    h.clock.now = t + IDLE_MS + 60_000;
    await h.run((engine) => engine.alarm(), other);
    await h.run((engine) => engine.alarm(), other);
    for (let pass = 0; pass < 5 && (await tables(site)).pendingSessions > 0; pass++) {
      h.clock.now += 5_000;
      await h.run((engine) => engine.alarm(), other);
    }
    expect(await tables(site)).toMatchObject({ sessions: 0, pendingSessions: 0 });
    const rows = await clickhouse.query<{ session_id: string }>(
      "SELECT session_id FROM sessions WHERE site = {site:String} ORDER BY session_id",
      { site },
    );
    expect(rows.map((row) => row.session_id)).toEqual(["live-0", "live-1"]);
    const stats = await h.run((engine) => engine.stats(), other);
    expect(stats.counters).toMatchObject({ sessions_closed: 2, ingested_batches: 2, flushed_rows_sessions: 2 });
  });

  it("replays the log under the settings it was accepted under when a deploy lengthened the session timeout", async () => {
    const site = uniqueSite("log-longer-idle");
    const h = harness(site);
    const t = h.clock.now;
    let next = 0;
    const ids = { newSessionId: () => `live-${next++}` };
    await h.run((engine) => engine.ingest(enrichedBatch(site, [pageView(t, "/a")], { visitor_id: "v1" })), ids);
    await h.run((engine) => engine.alarm(), ids);
    // Back after 40 minutes: a new session, and the first one (a bounce) is closed and emitted.
    const back = t + IDLE_MS + 10 * 60_000;
    h.clock.now = back;
    await h.run((engine) => engine.ingest(enrichedBatch(site, [pageView(back, "/b")], { visitor_id: "v1" })), ids);
    const before = await h.run((engine) => engine.liveState(), ids);
    expect(before?.today.counts).toMatchObject({ sessions: 2, bounces: 1 });
    // Crash before the next checkpoint; the new deploy has a 60-minute timeout, under which the
    // two page views would be one session (and live-0 would be closed a second time).
    const longer = { settings: { ...config, sessionIdleMinutes: 60 }, newSessionId: () => "never-used" };
    const replayed = await h.run((engine) => engine.liveState(), longer);
    expect(replayed?.today).toEqual(before?.today);
    h.clock.now = back + 2 * 60 * 60_000;
    for (let pass = 0; pass < 6; pass++) {
      await h.run((engine) => engine.alarm(), longer);
      h.clock.now += 5_000;
    }
    expect(await tables(site)).toMatchObject({ sessions: 0, pendingSessions: 0 });
    const rows = await clickhouse.query<{ session_id: string; events: number | string }>(
      "SELECT session_id, events FROM sessions WHERE site = {site:String} ORDER BY session_id",
      { site },
    );
    expect(rows.map((row) => [row.session_id, Number(row.events)])).toEqual([
      ["live-0", 1],
      ["live-1", 1],
    ]);
  });

  it("emits the old windows at their size and the new ones at theirs when a deploy changed WINDOW_SECONDS", async () => {
    const site = uniqueSite("log-window-size");
    const h = harness(site);
    const t = h.clock.now;
    await h.run((engine) => engine.ingest(enrichedBatch(site, [pageView(t, "/a")], { visitor_id: "v1" })));
    await h.run((engine) => engine.alarm());
    await h.run((engine) => engine.ingest(enrichedBatch(site, [pageView(t + 1, "/b")], { visitor_id: "v2" })));
    // Crash before the next checkpoint; the new deploy has windows three times as long.
    const wider = { settings: { ...config, windowSeconds: config.windowSeconds * 3 } };
    const replayed = await h.run((engine) => engine.liveState(), wider);
    expect(replayed?.today.counts).toMatchObject({ events: 2, visitors: 2 });
    await h.run((engine) => engine.ingest(enrichedBatch(site, [pageView(t + 2, "/c")], { visitor_id: "v3" })), wider);
    const live = await h.run((engine) => engine.liveState(), wider);
    for (const window of live?.windows ?? [])
      expect(window.end - window.start).toBe(wider.settings.windowSeconds * 1000);
    h.clock.now = t + 10 * wider.settings.windowSeconds * 1000;
    for (let pass = 0; pass < 4; pass++) {
      await h.run((engine) => engine.alarm(), wider);
      h.clock.now += 5_000;
    }
    const rows = await clickhouse.query<{
      window_seconds: number | string;
      events: number | string;
      visitors: number | string;
    }>(
      "SELECT window_seconds, sum(events) AS events, sum(visitors) AS visitors FROM window_metrics WHERE site = {site:String} AND currency = '' GROUP BY window_seconds ORDER BY window_seconds",
      { site },
    );
    expect(rows.map((row) => [Number(row.window_seconds), Number(row.events), Number(row.visitors)])).toEqual([
      [config.windowSeconds, 2, 2],
      [wider.settings.windowSeconds, 1, 1],
    ]);
  });

  it("emits the old windows once the window size changed even when the first call after the deploy threw", async () => {
    const site = uniqueSite("log-window-size-throw");
    const h = harness(site);
    const t = h.clock.now;
    await h.run((engine) => engine.ingest(enrichedBatch(site, [pageView(t, "/a")], { visitor_id: "v1" })));
    await h.run((engine) => engine.alarm());
    await h.run((engine) => engine.ingest(enrichedBatch(site, [pageView(t + 1, "/b")], { visitor_id: "v2" })));
    const wider = { settings: { ...config, windowSeconds: config.windowSeconds * 3 } };
    await h.run(async (engine) => {
      // The load switches settings in the failing call's transaction, which rolls back: memory must not keep the switch.
      await expect(engine.ingest(enrichedBatch(`${site}-other`, [pageView(t + 2, "/x")]))).rejects.toThrow(
        /routed to shard/,
      );
      await engine.ingest(enrichedBatch(site, [pageView(t + 2, "/c")], { visitor_id: "v3" }));
      h.clock.now = t + 10 * wider.settings.windowSeconds * 1000;
      for (let pass = 0; pass < 4; pass++) {
        await engine.alarm();
        h.clock.now += 5_000;
      }
    }, wider);
    const rows = await clickhouse.query<{ window_seconds: number | string; events: number | string }>(
      "SELECT window_seconds, sum(events) AS events FROM window_metrics WHERE site = {site:String} AND currency = '' GROUP BY window_seconds ORDER BY window_seconds",
      { site },
    );
    expect(rows.map((row) => [Number(row.window_seconds), Number(row.events)])).toEqual([
      [config.windowSeconds, 2],
      [wider.settings.windowSeconds, 1],
    ]);
  });

  it("checkpoints at the batch cap while a ClickHouse retry waits, so the log to replay stays bounded", async () => {
    const site = uniqueSite("log-cap-outage");
    const h = harness(site);
    const cap = 5;
    const down = { clickhouse: unreachableClickHouse(), checkpointMaxBatches: cap };
    let visitor = 0;
    const batch = () => enrichedBatch(site, [pageView(h.clock.now, "/")], { visitor_id: `v${visitor++}` });
    await h.run((engine) => engine.ingest(batch()), down);
    // ClickHouse is down: each failed flush doubles the wait before the next try (1 s … 16 s).
    h.clock.now += 3_000;
    for (let failures = 0; failures < 5; failures++) {
      await h.run((engine) => engine.alarm(), down);
      h.clock.now += (await h.run((engine) => engine.stats(), down)).backoff_ms;
    }
    await h.run((engine) => engine.alarm(), down);
    const waiting = await h.run((engine) => engine.stats(), down);
    expect(waiting.backoff_ms).toBeGreaterThanOrEqual(16_000);
    for (let n = 0; n < cap; n++) await h.run((engine) => engine.ingest(batch()), down);
    // The checkpoint is owed now, whenever the retry comes.
    const alarmAt = await runInDurableObject(shardStub(site), (_instance, state) => state.storage.getAlarm());
    expect(alarmAt).not.toBeNull();
    expect(alarmAt ?? Number.POSITIVE_INFINITY).toBeLessThanOrEqual(h.clock.now);
    await h.run((engine) => engine.alarm(), down);
    expect(await tables(site)).toMatchObject({ replayable: 0, pendingEvents: cap + 1 });
    expect((await h.run((engine) => engine.stats(), down)).backoff_ms).toBeGreaterThan(0);
  });

  it("recognises a resend for 24 h however many batches came since, refusing new ones at the id bound", async () => {
    const site = uniqueSite("log-dedup-bound");
    const h = harness(site);
    const bound = { maxSeenBatches: 3 };
    const batches = Array.from({ length: 4 }, (_, n) =>
      enrichedBatch(site, [pageView(h.clock.now + n, "/")], { visitor_id: `v${n}` }),
    );
    const statuses: string[] = [];
    for (const batch of batches) {
      const outcome = await h.run((engine) => engine.ingest(batch), bound);
      statuses.push(outcome.status);
      h.clock.now += 60_000;
      await h.run((engine) => engine.alarm(), bound);
    }
    // An hour later the first batch is resent: still known, nothing counted twice.
    h.clock.now += 3600_000;
    await h.run((engine) => engine.alarm(), bound);
    const resent = batches[0];
    if (resent === undefined) throw new Error("no batch");
    expect((await h.run((engine) => engine.ingest(resent), bound)).status).toBe("duplicate");
    // The fourth batch found the id bound full: refused (503 + Retry-After), not stored.
    expect(statuses).toEqual(["accepted", "accepted", "accepted", "overloaded"]);
    expect((await h.run((engine) => engine.stats(), bound)).counters.ingested_batches).toBe(3);
    // Once the oldest ids are 24 h old they are dropped, and the refused batch is taken.
    h.clock.now = batches[0]?.events[0]?.ts ?? 0;
    h.clock.now += SEEN_BATCH_RETENTION_MS + 3600_000;
    await h.run((engine) => engine.alarm(), bound);
    const last = batches[3];
    if (last === undefined) throw new Error("no batch");
    expect((await h.run((engine) => engine.ingest(last), bound)).status).toBe("accepted");
  });

  it("keeps its memory when a batch fails before touching it: no replay of the log", async () => {
    const site = uniqueSite("log-keep-memory");
    const clock = new ManualClock(harness(site).clock.now);
    const queries: string[] = [];
    await runInDurableObject(shardStub(site), async (_instance, state) => {
      const engine = new ShardEngine({
        storage: observedStorage(state.storage, queries),
        settings: config,
        clickhouse,
        sendToHub: async () => ({ watched: true }),
        now: () => clock.now,
        schedule: clock.schedule,
      });
      const replays = () => queries.filter((query) => query.includes("FROM batch_log WHERE seq >")).length;
      expect((await engine.ingest(enrichedBatch(site, [pageView(clock.now, "/a")]))).status).toBe("accepted");
      expect(replays()).toBe(1);
      // A batch for another shard throws (a routing bug) before it changes anything in memory.
      await expect(engine.ingest(enrichedBatch(`${site}-other`, [pageView(clock.now, "/b")]))).rejects.toThrow(
        /routed to shard/,
      );
      expect((await engine.ingest(enrichedBatch(site, [pageView(clock.now + 1, "/c")]))).status).toBe("accepted");
      expect(replays()).toBe(1);
      expect(engine.liveState()?.today.counts).toMatchObject({ events: 2, page_views: 2 });
    });
  });
});

/** The object's storage, recording every SQL statement run through it (the engine sees the real storage). */
function observedStorage(storage: DurableObjectStorage, queries: string[]): DurableObjectStorage {
  const sql = new Proxy(storage.sql, {
    get(target, property) {
      if (property === "exec")
        return (query: string, ...bindings: SqlStorageValue[]) => {
          queries.push(query);
          return target.exec(query, ...bindings);
        };
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return new Proxy(storage, {
    get(target, property) {
      if (property === "sql") return sql;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
