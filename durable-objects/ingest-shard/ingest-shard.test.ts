/**
 * The IngestShard Durable Object itself, called the way the Worker calls it (RPC on a stub
 * named `${site}:${shard}`), with its alarm run by the runtime (`runDurableObjectAlarm`), the
 * real LiveHub, and the real local ClickHouse. Events are two hours old, so by the wall clock
 * their windows are sealed and their sessions idle when the alarm runs.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { cartAdd, enrichedBatch, pageView, purchase } from "./enriched-fixture";
import { ShardEngine } from "./shard-engine";
import {
  clickhouse,
  config,
  countRows,
  eventTotals,
  shardStub,
  uniqueSite,
  WINDOW_MS,
  windowTotals,
} from "./shard-test-harness";
import { windowStartOf } from "./watermark";

const TWO_HOURS = 2 * 3600 * 1000;

/** Runs the alarm until the shard has nothing pending (the runtime may also have run it on its own). */
async function drain(stub: ReturnType<typeof shardStub>): Promise<void> {
  for (let pass = 0; pass < 5; pass++) {
    await runDurableObjectAlarm(stub);
    const stats = await stub.stats();
    if (stats.pending.events + stats.pending.window_parts + stats.pending.sessions === 0 && stats.open_sessions === 0)
      return;
  }
}

describe("IngestShard Durable Object", () => {
  it("ingests over RPC, dedups a resent batch, and its alarm lands events, sessions and windows in ClickHouse", async () => {
    const site = uniqueSite("do");
    const stub = shardStub(site, 2);
    // At a window's start, so both visitors' events share one window.
    const t = windowStartOf(Date.now() - TWO_HOURS, WINDOW_MS);
    const batch = enrichedBatch(
      site,
      [pageView(t, "/"), cartAdd(t + 1_000, "sku-1", 5, 2), purchase(t + 2_000, 10, "EUR")],
      { shard: 2 },
    );
    expect(await stub.ingest(batch)).toEqual({ status: "accepted", accepted: 3 });
    expect(await stub.ingest(batch)).toEqual({ status: "duplicate" });
    expect(await stub.ingest(enrichedBatch(site, [pageView(t + 500, "/x")], { shard: 2, visitor_id: "v-2" }))).toEqual({
      status: "accepted",
      accepted: 1,
    });

    await drain(stub);
    const stats = await stub.stats();
    expect(stats).toMatchObject({
      site,
      shard: 2,
      pending: { events: 0, window_parts: 0, sessions: 0 },
      open_sessions: 0,
      backoff_ms: 0,
      flush_lag_ms: 0,
    });
    expect(stats.counters).toMatchObject({
      ingested_events: 4,
      duplicate_batches: 1,
      flushed_rows_events: 4,
      flushed_rows_sessions: 2,
      live_send_errors: 0,
    });
    // The real LiveHub took the shard's states over RPC.
    expect(stats.counters.live_sends).toBeGreaterThanOrEqual(1);
    expect(await countRows("events", site)).toBe(4);
    expect(await countRows("sessions", site)).toBe(2);
    const windows = await windowTotals(site);
    const events = await eventTotals(site);
    expect(windows).toMatchObject({
      events: 4,
      page_views: 2,
      visitors: 2,
      sessions: 2,
      bounces: 2,
      cart_adds: 1,
      purchases: 1,
      revenue: [["EUR", 10]],
    });
    expect({ ...windows, bounces: 0, rows: 0 }).toEqual({ ...events, bounces: 0, rows: 0 });
  });

  it("keeps everything across eviction: an evicted shard's alarm still flushes, and a resent batch is still a duplicate", async () => {
    const site = uniqueSite("evict");
    const stub = shardStub(site);
    const t = Date.now() - TWO_HOURS;
    const batch = enrichedBatch(site, [pageView(t, "/"), pageView(t + 1, "/2")]);
    expect(await stub.ingest(batch)).toMatchObject({ status: "accepted" });
    await evictDurableObject(stub);
    expect(await stub.ingest(batch)).toEqual({ status: "duplicate" });
    await evictDurableObject(stub);
    await drain(stub);
    expect(await countRows("events", site)).toBe(2);
    expect((await windowTotals(site)).events).toBe(2);
  });

  it("tells a rebuilding LiveHub its state, and null before its first batch", async () => {
    const site = uniqueSite("pull-do");
    const stub = shardStub(site, 1);
    expect(await stub.liveState()).toBeNull();
    const now = Date.now();
    // Maps keyed by untrusted text (here a product id "__proto__") cross RPC as plain own keys.
    await stub.ingest(
      enrichedBatch(site, [pageView(now, "/"), cartAdd(now + 1, "__proto__", 5), purchase(now + 2, 5, "EUR")], {
        shard: 1,
      }),
    );
    const state = await stub.liveState();
    expect(state).toMatchObject({
      site,
      shard: 1,
      online: 1,
      today: { counts: { page_views: 1, revenue_by_currency: { EUR: 5 } }, pages: { "/": 1 } },
    });
    expect(Object.keys(state?.today.products ?? {})).toEqual(["__proto__"]);
    expect(state?.today.products["__proto__"]?.cart_adds).toBe(1);
  });

  it("measures ingest cost inside the object (printed, not asserted)", async () => {
    const site = uniqueSite("bench");
    const stub = shardStub(site);
    const batches = 1_000;
    const perBatch = 20;
    const visitors = 200;
    const base = Date.now() + 24 * 3600 * 1000;
    const CHUNK = 100;
    const measured = await runInDurableObject(stub, async (_instance, state) => {
      // A clock a day ahead, so the runtime's alarm (scheduled from it) does not flush during the run.
      const engine = new ShardEngine({
        storage: state.storage,
        settings: config,
        clickhouse,
        sendToHub: async () => undefined,
        now: () => base,
      });
      const started = performance.now();
      // Per-chunk times too: on a shared machine the fastest chunk is the figure least moved by other load.
      const chunks: number[] = [];
      let chunkStarted = started;
      for (let index = 0; index < batches; index++) {
        if (index > 0 && index % CHUNK === 0) {
          const at = performance.now();
          chunks.push(at - chunkStarted);
          chunkStarted = at;
        }
        const ts = base - 30_000 + index * 30;
        const events = Array.from({ length: perBatch }, (_, event) =>
          event % 5 === 4
            ? cartAdd(ts + event, `sku-${event}`, 9.99)
            : pageView(ts + event, `/p/${(index + event) % 150}`, event === 0 ? "google.com" : ""),
        );
        await engine.ingest(enrichedBatch(site, events, { visitor_id: `v-${index % visitors}` }));
      }
      // workerd advances timers only across I/O; performance.now() does too, so add one await per batch above.
      const ended = performance.now();
      chunks.push(ended - chunkStarted);
      return { total: ended - started, chunks };
    });
    const elapsed = measured.total;
    const best = Math.min(...measured.chunks);
    console.log(
      `IngestShard ingest: ${batches} batches × ${perBatch} events in ${elapsed.toFixed(0)} ms → ${((elapsed / batches) * 1000).toFixed(0)} µs/batch, ${Math.round((batches * perBatch) / (elapsed / 1000))} events/s (one object, in-process SQLite); fastest ${CHUNK}-batch chunk ${((best / CHUNK) * 1000).toFixed(0)} µs/batch; chunks (ms): ${measured.chunks.map((ms) => ms.toFixed(0)).join(" ")}`,
    );
    expect((await stub.stats()).counters.ingested_events).toBe(batches * perBatch);
  });
});
