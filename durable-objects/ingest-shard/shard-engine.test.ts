/**
 * IngestShard behaviour over real SQLite storage (workerd) and the real local ClickHouse,
 * with a test-driven clock (shard-test-harness.ts).
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ClickHouseError, type ClickHouse } from "../../clickhouse/client";
import {
  cartAdd,
  cartRemove,
  checkout,
  enrichedBatch,
  pageView,
  productView,
  purchase,
  vital,
} from "./enriched-fixture";
import { FLUSH_MAX_AGE_MS, FLUSH_MIN_ENTRIES, FLUSH_QUIET_MS } from "./flush-schedule";
import { MAX_REFUSED_ROWS_PER_DRAIN } from "./flush-queue";
import { shardLiveStateSchema } from "../shard-to-hub/shard-live-state";
import { LIVE_SEND_IDLE_INTERVAL_MS, LIVE_SEND_INTERVAL_MS } from "./shard-engine";
import {
  clickhouse,
  countRows,
  eventTotals,
  harness,
  IDLE_MS,
  LATENESS_MS,
  shardStub,
  uniqueSite,
  unreachableClickHouse,
  WINDOW_MS,
  windowTotals,
} from "./shard-test-harness";

/** Moves the clock past every window's seal time and the idle gap, then runs the alarm until nothing is pending. */
async function settle(h: ReturnType<typeof harness>, advanceMs = 2 * WINDOW_MS + LATENESS_MS + 1): Promise<void> {
  h.clock.now += advanceMs;
  await h.run(async (engine) => {
    for (let pass = 0; pass < 5; pass++) {
      await engine.alarm();
      const stats = engine.stats();
      if (stats.pending.events + stats.pending.window_parts + stats.pending.sessions === 0) return;
    }
  });
}

describe("IngestShard ingest", () => {
  it("counts a resent batch once: duplicate answer, no state change, no extra rows", async () => {
    const site = uniqueSite("dedup");
    const h = harness(site);
    const t = h.clock.now;
    const batch = enrichedBatch(site, [pageView(t, "/"), cartAdd(t + 1, "sku-1", 10), purchase(t + 2, 10, "EUR")]);
    expect(await h.run((engine) => engine.ingest(batch))).toEqual({ status: "accepted", accepted: 3 });
    expect(await h.run((engine) => engine.ingest(batch))).toEqual({ status: "duplicate" });
    // Also after a flush: the batch id outlives its rows.
    await settle(h);
    expect(await h.run((engine) => engine.ingest(structuredClone(batch)))).toEqual({ status: "duplicate" });
    await settle(h);
    const stats = await h.run((engine) => engine.stats());
    expect(stats.counters).toMatchObject({
      ingested_batches: 1,
      ingested_events: 3,
      duplicate_batches: 2,
      flushed_rows_events: 3,
    });
    expect(await countRows("events", site)).toBe(3);
    expect((await windowTotals(site)).events).toBe(3);
  });

  it("answers overloaded above the pending bound, storing nothing, and accepts again once flushed", async () => {
    const site = uniqueSite("overload");
    const h = harness(site);
    const t = h.clock.now;
    const small = { maxPendingEvents: 5 };
    expect(
      await h.run(
        (engine) =>
          engine.ingest(enrichedBatch(site, [pageView(t), pageView(t + 1), pageView(t + 2), pageView(t + 3)])),
        small,
      ),
    ).toMatchObject({
      status: "accepted",
    });
    const refused = enrichedBatch(site, [pageView(t + 4), pageView(t + 5)]);
    const outcome = await h.run((engine) => engine.ingest(refused), small);
    expect(outcome).toMatchObject({ status: "overloaded" });
    if (outcome.status === "overloaded") expect(outcome.retry_after_seconds).toBeGreaterThanOrEqual(1);
    const stats = await h.run((engine) => engine.stats(), small);
    expect(stats.counters).toMatchObject({ ingested_events: 4, overloaded_batches: 1 });
    expect(stats.pending.events).toBe(4);
    expect(stats.max_pending_events).toBe(5);
    h.clock.now += 1_500;
    expect((await h.run((engine) => engine.stats(), small)).oldest_pending_event_age_ms).toBe(1_500);

    await settle(h);
    // The refused batch was not remembered: its retry is accepted, not a duplicate.
    expect(await h.run((engine) => engine.ingest(refused), small)).toEqual({ status: "accepted", accepted: 2 });
  });

  it("assigns sessions per visitor by event time and closes them via the alarm, counting bounces in their start window", async () => {
    const site = uniqueSite("sessions");
    const h = harness(site);
    const t = h.clock.now;
    let ids = 0;
    const withIds = { newSessionId: () => `s-${site}-${ids++}` };
    // Visitor A: two page views (not a bounce); back after the idle gap (a new session, which bounces).
    await h.run(
      (engine) =>
        engine.ingest(
          enrichedBatch(site, [pageView(t, "/", "google.com"), pageView(t + 1_000, "/p/1")], { visitor_id: "a" }),
        ),
      withIds,
    );
    await h.run(
      (engine) => engine.ingest(enrichedBatch(site, [pageView(t + IDLE_MS + 60_000, "/back")], { visitor_id: "a" })),
      withIds,
    );
    // Visitor B: one page view and a cart it leaves behind.
    await h.run(
      (engine) =>
        engine.ingest(
          enrichedBatch(site, [pageView(t + 2_000, "/p/2"), cartAdd(t + 3_000, "sku-2", 20, 2)], { visitor_id: "b" }),
        ),
      withIds,
    );

    let stats = await h.run((engine) => engine.stats());
    // A's first session ended when A came back after the idle gap.
    expect(stats.open_sessions).toBe(2);
    expect(stats.counters.sessions_closed).toBe(1);

    // The wall clock passes the idle gap after everyone's last event: the alarm closes the rest.
    await settle(h, 3 * IDLE_MS);
    stats = await h.run((engine) => engine.stats());
    expect(stats.open_sessions).toBe(0);
    expect(stats.counters.sessions_closed).toBe(3);

    const sessions = await clickhouse.query<Record<string, unknown>>(
      "SELECT visitor_id, page_views, bounced, entry_path, exit_path, referrer_host, cart_adds, toString(cart_value) AS cart_value FROM sessions FINAL WHERE site = {site:String} ORDER BY started_at",
      { site },
    );
    expect(sessions).toEqual([
      {
        visitor_id: "a",
        page_views: 2,
        bounced: 0,
        entry_path: "/",
        exit_path: "/p/1",
        referrer_host: "google.com",
        cart_adds: 0,
        cart_value: "0",
      },
      {
        visitor_id: "b",
        page_views: 1,
        bounced: 1,
        entry_path: "/p/2",
        exit_path: "/p/2",
        referrer_host: "",
        cart_adds: 1,
        cart_value: "40",
      },
      {
        visitor_id: "a",
        page_views: 1,
        bounced: 1,
        entry_path: "/back",
        exit_path: "/back",
        referrer_host: "",
        cart_adds: 0,
        cart_value: "0",
      },
    ]);
    const windows = await windowTotals(site);
    expect(windows.bounces).toBe(2);
    expect(windows.sessions).toBe((await eventTotals(site)).sessions);

    // Today's partial saw the abandoned cart.
    const today = await h.run((engine) => engine.liveState()?.today);
    expect(today?.abandoned_carts).toEqual({ sessions: 1, value: 40 });
  });
});

describe("IngestShard windows", () => {
  it("seals windows past the watermark; late events become new parts; window_metrics totals equal events totals", async () => {
    const site = uniqueSite("windows");
    const h = harness(site);
    const t = h.clock.now;
    const visit = (visitor: string, offset: number) =>
      enrichedBatch(
        site,
        [
          pageView(t + offset, "/"),
          productView(t + offset + 100, "sku-1"),
          cartAdd(t + offset + 200, "sku-1", 12.5, 2),
          cartRemove(t + offset + 300, "sku-1", 12.5, 1),
          checkout(t + offset + 400, 12.5),
          purchase(t + offset + 500, 12.5, (offset / 7_000) % 2 === 0 ? "EUR" : "USD", [
            { product_id: "sku-1", price: 12.5, quantity: 1 },
          ]),
          vital(t + offset + 600, "/", "LCP", 1_500 + offset),
        ],
        { visitor_id: visitor },
      );
    for (let visitor = 0; visitor < 6; visitor++)
      await h.run((engine) => engine.ingest(visit(`v${visitor}`, visitor * 7_000)));
    // Windows stay open while the watermark is before their end.
    let stats = await h.run((engine) => engine.stats());
    expect(stats.unsealed_windows).toBeGreaterThan(0);

    await settle(h, 60_000);
    stats = await h.run((engine) => engine.stats());
    expect(stats.unsealed_windows).toBe(0);
    // Parts as the shard flushed them (ClickHouse may merge a window's rows at any moment, so
    // counting its rows would race the merges).
    const firstParts = stats.counters.flushed_rows_window_metrics;

    // Late: an old visitor again in the first window (already counted there), and a new one.
    await h.run((engine) =>
      engine.ingest(
        enrichedBatch(site, [pageView(t + 10, "/late"), purchase(t + 20, 0.1, "EUR")], { visitor_id: "v0" }),
      ),
    );
    await h.run((engine) =>
      engine.ingest(enrichedBatch(site, [pageView(t + 30, "/late")], { visitor_id: "late-visitor" })),
    );
    stats = await h.run((engine) => engine.stats());
    expect(stats.counters.late_events).toBe(3);
    await settle(h);

    const windows = await windowTotals(site);
    const events = await eventTotals(site);
    // One new part row for the late events' window (plus its revenue row for EUR).
    expect((await h.run((engine) => engine.stats())).counters.flushed_rows_window_metrics).toBe(firstParts + 2);
    expect(events.events).toBe(6 * 7 + 3);
    for (const key of [
      "events",
      "page_views",
      "visitors",
      "sessions",
      "cart_adds",
      "cart_removes",
      "checkouts",
      "purchases",
    ] as const) {
      expect(windows[key], key).toBe(events[key]);
    }
    expect(windows.revenue).toEqual(events.revenue);
    expect(events.revenue).toEqual([
      ["EUR", 37.6],
      ["USD", 37.5],
    ]);
  });
});

describe("IngestShard flush", () => {
  it("backs off while ClickHouse is unreachable, keeps the rows, and lands them once after it recovers", async () => {
    const site = uniqueSite("outage");
    const h = harness(site);
    const t = h.clock.now;
    const down = { clickhouse: unreachableClickHouse() };
    for (let batch = 0; batch < 3; batch++) {
      await h.run(
        (engine) =>
          engine.ingest(
            enrichedBatch(site, [pageView(t + batch * 100), pageView(t + batch * 100 + 1)], {
              visitor_id: `v${batch}`,
            }),
          ),
        down,
      );
    }
    h.clock.now += 2 * WINDOW_MS + LATENESS_MS + 1;
    await h.run((engine) => engine.alarm(), down);
    let stats = await h.run((engine) => engine.stats(), down);
    expect(stats.counters.flush_errors).toBe(1);
    expect(stats.backoff_ms).toBe(1_000);
    expect(stats.pending.events).toBe(6);
    expect(stats.pending.window_parts).toBe(1);

    // Within the backoff the alarm does not try again.
    await h.run((engine) => engine.alarm(), down);
    expect((await h.run((engine) => engine.stats(), down)).counters.flush_errors).toBe(1);
    // After it, the next failure doubles the backoff.
    h.clock.now += 1_000;
    await h.run((engine) => engine.alarm(), down);
    stats = await h.run((engine) => engine.stats(), down);
    expect(stats.counters.flush_errors).toBe(2);
    expect(stats.backoff_ms).toBe(2_000);
    expect(stats.flush_lag_ms).toBeGreaterThan(0);

    // ClickHouse is back.
    h.clock.now += 2_000;
    await h.run((engine) => engine.alarm());
    stats = await h.run((engine) => engine.stats());
    expect(stats.backoff_ms).toBe(0);
    expect(stats.pending).toEqual({ events: 0, window_parts: 0, sessions: 0 });
    expect(stats.last_flush_at).toBe(h.clock.now);
    expect(await countRows("events", site)).toBe(6);
    expect((await windowTotals(site)).events).toBe(6);
  });

  it("retries a flush whose answer was lost under the same token, without doubling, even as new events arrive", async () => {
    const site = uniqueSite("lost-answer");
    const h = harness(site);
    const t = h.clock.now;
    let loseAnswers = 1;
    // The insert lands, then the answer is "lost" (a fault the local stack cannot cause on demand).
    const losing: ClickHouse = {
      ...clickhouse,
      async insert(table, rows, token) {
        await clickhouse.insert(table, rows, token);
        if (loseAnswers-- > 0) throw new ClickHouseError("socket hang up after the insert", null, true);
      },
    };
    await h.run((engine) => engine.ingest(enrichedBatch(site, [pageView(t), pageView(t + 1), pageView(t + 2)])));
    h.clock.now += 1_000;
    await h.run((engine) => engine.alarm(), { clickhouse: losing });
    expect((await h.run((engine) => engine.stats())).counters.flush_errors).toBe(1);
    expect(await countRows("events", site)).toBe(3);

    // More events arrive before the retry: the retried chunk keeps its bounds (and token).
    await h.run((engine) => engine.ingest(enrichedBatch(site, [pageView(t + 3), pageView(t + 4)])));
    await settle(h);
    expect(await countRows("events", site)).toBe(5);
    const [distinct] = await clickhouse.query<{ n: number }>(
      "SELECT uniqExact(event_id) AS n FROM events WHERE site = {site:String}",
      { site },
    );
    expect(Number(distinct?.n)).toBe(5);
  });

  it("moves a row ClickHouse refuses to quarantine and lands the rest", async () => {
    const site = uniqueSite("quarantine");
    const h = harness(site);
    const t = h.clock.now;
    await h.run((engine) =>
      engine.ingest(
        enrichedBatch(
          site,
          Array.from({ length: 9 }, (_, index) => pageView(t + index, `/p/${index}`)),
        ),
      ),
    );
    // Damage one stored row the way a bug or an old row shape would: ClickHouse cannot parse its time.
    await runInDurableObject(shardStub(site), (_instance, state) => {
      const row = state.storage.sql
        .exec<{ seq: number; row: string }>("SELECT seq, row FROM pending_events ORDER BY seq LIMIT 1 OFFSET 4")
        .one();
      const damaged = JSON.parse(row.row) as Record<string, unknown>[];
      damaged[0] = { ...damaged[0], ts: "not a time" };
      state.storage.sql.exec("UPDATE pending_events SET row = ? WHERE seq = ?", JSON.stringify(damaged), row.seq);
    });
    await settle(h);
    const stats = await h.run((engine) => engine.stats());
    expect(stats.counters.quarantined_rows).toBe(1);
    expect(stats.counters.flushed_rows_events).toBe(8);
    expect(await countRows("events", site)).toBe(8);
    const [quarantined] = await clickhouse.query<{ target_table: string; row: string }>(
      "SELECT target_table, row FROM quarantine WHERE site = {site:String}",
      { site },
    );
    expect(quarantined?.target_table).toBe("events");
    expect(quarantined?.row).toContain("not a time");
  });
  it("stops and backs off when ClickHouse refuses row after row (a table out of step), instead of quarantining everything", async () => {
    const site = uniqueSite("refuse-all");
    const h = harness(site);
    const t = h.clock.now;
    await h.run((engine) =>
      engine.ingest(
        enrichedBatch(
          site,
          Array.from({ length: 30 }, (_, index) => pageView(t + index, "/")),
        ),
      ),
    );
    await runInDurableObject(shardStub(site), (_instance, state) => {
      state.storage.sql.exec(`UPDATE pending_events SET row = replace(row, '"ts":"', '"ts":"x')`);
    });
    h.clock.now += 1_000;
    await h.run((engine) => engine.alarm());
    const stats = await h.run((engine) => engine.stats());
    expect(stats.counters.quarantined_rows).toBe(MAX_REFUSED_ROWS_PER_DRAIN);
    expect(stats.pending.events).toBe(30 - MAX_REFUSED_ROWS_PER_DRAIN);
    expect(stats.counters.flush_errors).toBe(1);
    expect(stats.backoff_ms).toBeGreaterThan(0);
    expect(await countRows("quarantine", site)).toBe(MAX_REFUSED_ROWS_PER_DRAIN);
  });
});

describe("IngestShard flush cadence", () => {
  it("holds events while traffic keeps coming and inserts them together once the oldest is FLUSH_MAX_AGE_MS old", async () => {
    const site = uniqueSite("flush-age");
    const h = harness(site);
    const t = h.clock.now;
    const step = 250;
    for (let offset = 0; offset < FLUSH_MAX_AGE_MS; offset += step) {
      h.clock.now = t + offset;
      await h.run(async (engine) => {
        await engine.ingest(
          enrichedBatch(site, [pageView(t + offset), pageView(t + offset + 1)], { visitor_id: `v${offset}` }),
        );
        await engine.alarm();
      });
    }
    const batches = FLUSH_MAX_AGE_MS / step;
    expect((await h.run((engine) => engine.stats())).pending.events).toBe(2 * batches);
    expect(await countRows("events", site)).toBe(0);
    h.clock.now = t + FLUSH_MAX_AGE_MS;
    await h.run((engine) => engine.alarm());
    const stats = await h.run((engine) => engine.stats());
    expect(stats.pending.events).toBe(0);
    expect(stats.counters.flushed_rows_events).toBe(2 * batches);
    expect(await countRows("events", site)).toBe(2 * batches);
  });

  it("inserts a lone batch once nothing new arrived for FLUSH_QUIET_MS", async () => {
    const site = uniqueSite("flush-quiet");
    const h = harness(site);
    const t = h.clock.now;
    await h.run((engine) => engine.ingest(enrichedBatch(site, [pageView(t)])));
    h.clock.now = t + FLUSH_QUIET_MS - 1;
    await h.run((engine) => engine.alarm());
    expect((await h.run((engine) => engine.stats())).pending.events).toBe(1);
    h.clock.now = t + FLUSH_QUIET_MS;
    await h.run((engine) => engine.alarm());
    expect((await h.run((engine) => engine.stats())).pending.events).toBe(0);
    expect(await countRows("events", site)).toBe(1);
  });

  it("asks for an alarm at once when FLUSH_MIN_ENTRIES events wait, and inserts them without waiting for age", async () => {
    const site = uniqueSite("flush-size");
    const h = harness(site);
    const t = h.clock.now;
    const perBatch = 20;
    const batches = FLUSH_MIN_ENTRIES / perBatch;
    await h.run(async (engine) => {
      for (let batch = 0; batch < batches; batch++) {
        await engine.ingest(
          enrichedBatch(
            site,
            Array.from({ length: perBatch }, (_, index) => pageView(t + index)),
            { visitor_id: `v${batch % 50}` },
          ),
        );
      }
    });
    const alarmAt = await runInDurableObject(shardStub(site), (_instance, state) => state.storage.getAlarm());
    expect(alarmAt).toBe(t);
    await h.run((engine) => engine.alarm());
    expect((await h.run((engine) => engine.stats())).pending.events).toBe(0);
    expect(await countRows("events", site)).toBe(FLUSH_MIN_ENTRIES);
  });
});

describe("IngestShard live state", () => {
  it("sends coalesced absolute states with increasing seq, valid for the hub", async () => {
    const site = uniqueSite("live");
    const h = harness(site);
    const t = h.clock.now;
    await h.run(async (engine) => {
      for (let batch = 0; batch < 10; batch++)
        await engine.ingest(enrichedBatch(site, [pageView(t + batch, "/")], { visitor_id: `v${batch}` }));
      // Ten ingests, one send: the coalescing timer fires once the clock moves.
      await h.clock.advance(100);
      expect(h.sent.map((state) => state.at)).toEqual([t]);
      // An alarm right after a send waits out the interval instead of sending at once (or never).
      await engine.ingest(enrichedBatch(site, [pageView(t + 100, "/")], { visitor_id: "v0" }));
      await h.clock.runUntil(engine.alarm());
    });
    expect(h.sent).toHaveLength(2);
    expect(h.sent[1]?.at).toBe(t + LIVE_SEND_INTERVAL_MS);
    const last = h.sent[h.sent.length - 1];
    expect(shardLiveStateSchema.safeParse(last).success).toBe(true);
    expect(last?.windows.find((window) => window.start === t)?.counts).toMatchObject({ page_views: 11, visitors: 10 });
    expect(last?.today.counts.page_views).toBe(11);
    expect(last?.online).toBe(10);
    const seqs = h.sent.map((state) => state.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it("sends at the idle cadence while the hub says nobody watches, and at the fast one again when watched", async () => {
    const site = uniqueSite("unwatched");
    const h = harness(site);
    const t = h.clock.now;
    h.hub.watched = false;
    await h.run(async (engine) => {
      // One page view every 50 ms for 2 s: the first send learns nobody watches.
      for (let step = 0; step < 40; step++) {
        await engine.ingest(enrichedBatch(site, [pageView(h.clock.now, "/")], { visitor_id: `v${step}` }));
        await h.clock.advance(50);
      }
      expect(h.sent.map((state) => state.at - t)).toEqual([
        0,
        LIVE_SEND_IDLE_INTERVAL_MS,
        2 * LIVE_SEND_IDLE_INTERVAL_MS,
      ]);
      // A dashboard connects: the next send hears it, and the one after follows the fast cadence.
      h.hub.watched = true;
      for (let step = 0; step < 40; step++) {
        await engine.ingest(enrichedBatch(site, [pageView(h.clock.now, "/")], { visitor_id: `w${step}` }));
        await h.clock.advance(50);
      }
    });
    const gaps = h.sent.slice(1).map((state, index) => state.at - (h.sent[index]?.at ?? 0));
    expect(gaps.slice(0, 3)).toEqual(Array(3).fill(LIVE_SEND_IDLE_INTERVAL_MS));
    expect(gaps.length).toBeGreaterThan(5);
    expect(gaps.slice(3)).toEqual(Array(gaps.length - 3).fill(LIVE_SEND_INTERVAL_MS));
    // Nothing is lost by sending less often: the last state has every page view.
    expect(h.sent.at(-1)?.today.counts.page_views).toBe(80);
  });

  it("sends a change to a window about to seal at the fast cadence even while nobody watches", async () => {
    const site = uniqueSite("sealing-soon");
    const h = harness(site);
    h.hub.watched = false;
    await h.run(async (engine) => {
      const t = h.clock.now;
      await engine.ingest(enrichedBatch(site, [pageView(t, "/")], { visitor_id: "a" }));
      await h.clock.advance(100);
      // The idle cadence for a change to an open window…
      await engine.ingest(enrichedBatch(site, [pageView(h.clock.now, "/")], { visitor_id: "b" }));
      await h.clock.advance(LIVE_SEND_IDLE_INTERVAL_MS);
      expect(h.sent.map((state) => state.at - t)).toEqual([0, LIVE_SEND_IDLE_INTERVAL_MS]);
      // …the fast one for an event whose window seals within the idle interval (the AlertEngine
      // reads the hub right after the seal).
      const sealsSoon = h.clock.now - 2 * WINDOW_MS - LATENESS_MS + 500;
      await engine.ingest(enrichedBatch(site, [pageView(sealsSoon, "/late")], { visitor_id: "c" }));
      await h.clock.advance(LIVE_SEND_IDLE_INTERVAL_MS);
    });
    expect(h.sent.at(-1)?.at).toBe(h.sent.at(-2)!.at + LIVE_SEND_INTERVAL_MS);
    expect(h.sent.at(-1)?.today.counts.page_views).toBe(3);
  });

  it("never fails an ingest when the hub fails, and the alarm re-sends what the hub missed", async () => {
    const site = uniqueSite("hub-down");
    const h = harness(site);
    const t = h.clock.now;
    const failing = { sendToHub: async () => Promise.reject(new Error("hub overloaded")) };
    await h.run(async (engine) => {
      expect(await engine.ingest(enrichedBatch(site, [pageView(t, "/")]))).toEqual({ status: "accepted", accepted: 1 });
      await h.clock.advance(LIVE_SEND_INTERVAL_MS);
    }, failing);
    expect((await h.run((engine) => engine.stats())).counters.live_send_errors).toBe(1);
    expect(h.sent).toHaveLength(0);

    // A later alarm (a restarted object: nothing in memory) sends the owed window.
    h.clock.now += 1_000;
    await h.run((engine) => engine.alarm());
    expect(h.sent.at(-1)?.windows.map((window) => window.start)).toEqual([t]);
    // Online decays: five minutes later the visitor is no longer online, and the hub hears it.
    h.clock.now += 5 * 60 * 1000 + 1;
    await h.run((engine) => engine.alarm());
    expect(h.sent.at(-1)?.online).toBe(0);
  });

  it("answers liveState with its recent windows, today and online, from storage alone", async () => {
    const site = uniqueSite("pull");
    const h = harness(site);
    const t = h.clock.now;
    await h.run((engine) => engine.ingest(enrichedBatch(site, [pageView(t, "/"), pageView(t + WINDOW_MS, "/2")])));
    const state = await h.run((engine) => engine.liveState());
    expect(shardLiveStateSchema.safeParse(state).success).toBe(true);
    expect(state?.windows.map((window) => window.start)).toEqual([t + WINDOW_MS, t]);
    expect(state?.today.counts.page_views).toBe(2);
    expect(state?.online).toBe(1);
    const again = await h.run((engine) => engine.liveState());
    expect(again?.seq).toBeGreaterThan(state?.seq ?? Number.POSITIVE_INFINITY);
  });
});
