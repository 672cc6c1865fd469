/**
 * The built-in aggregations became jobs (registered-jobs.ts) without changing a byte of what
 * is stored or sent: `stored-format-fixture.ts` was recorded by the code before jobs existed
 * (the hand-wired window and day aggregates), from the same deterministic stream. These tests
 * hold the shard's state rows (days, day_entries, windows, window_entries), the partials a
 * shard sends, and the hub's live views to that recording, and load the recorded rows into a
 * shard to check that state written by the old code carries on unchanged.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { EnrichedBatch } from "../../protocol";
import {
  cartAdd,
  cartRemove,
  checkout,
  enrichedBatch,
  enrichedEvent,
  pageView,
  productView,
  purchase,
  vital,
} from "../ingest-shard/enriched-fixture";
import { harness, IDLE_MS, shardStub, uniqueSite, WINDOW_MS, type Harness } from "../ingest-shard/shard-test-harness";
import { MergedShards } from "../live-hub/merged-shards";
import type { ShardLiveState } from "../shard-to-hub/shard-live-state";
import { AFTER_FIRST_HALF, AT_END } from "./stored-format-fixture";

/** A fixed clock far ahead of real time (the runtime's own alarm never fires during the test), at a window start. */
const START = Date.UTC(2031, 2, 14, 9, 0, 0);

const custom = (ts: number, name: string) => enrichedEvent({ type: "custom", ts, name });
const landing = (ts: number, path: string, referrer: string, channel: string) =>
  enrichedEvent({
    type: "page_view",
    ts,
    url: `https://shop.example${path}?utm_source=x`,
    path,
    referrer_host: referrer,
    channel,
  });

/** Every built-in aggregation touched: pages, referrers, channels, products, carts, funnel, vitals, custom events. */
function stream(site: string): { at: number; batch: EnrichedBatch }[] {
  const batches: { at: number; batch: EnrichedBatch }[] = [];
  for (let index = 0; index < 12; index++) {
    const at = START + index * 2_300;
    const ts = at - 300;
    const visitor = `v${index % 4}`;
    const sku = `sku-${index % 3}`;
    batches.push({
      at,
      batch: enrichedBatch(
        site,
        [
          index < 4
            ? landing(ts, `/land/${index}`, `ref-${index % 2}.example`, index % 2 === 0 ? "Email" : "Organic Search")
            : pageView(ts, `/p/${index % 5}`),
          productView(ts + 10, sku, `Product ${sku}`),
          cartAdd(ts + 20, sku, 4.25 + index, 1 + (index % 2)),
          ...(index % 3 === 1 ? [cartRemove(ts + 25, sku, 4.25 + index)] : []),
          vital(
            ts + 30,
            `/p/${index % 5}`,
            ["LCP", "CLS", "INP"][index % 3] ?? "LCP",
            index % 3 === 1 ? 0.02 * index : 120 + 31 * index,
          ),
          custom(ts + 40, index % 2 === 0 ? "signup_click" : "newsletter"),
          ...(index % 4 === 2
            ? [
                checkout(ts + 50, 9.5),
                purchase(ts + 60, 9.5, index % 8 === 2 ? "EUR" : "USD", [{ product_id: sku, price: 9.5, quantity: 1 }]),
              ]
            : []),
        ],
        { visitor_id: visitor, batch_id: `fmt-b${index}`, received_at: at },
      ),
    });
  }
  // A visitor with one page view: a bounce once the session closes.
  const at = START + 12 * 2_300;
  batches.push({
    at,
    batch: enrichedBatch(site, [landing(at - 300, "/once", "ref-2.example", "Paid Search")], {
      visitor_id: "v-bounce",
      batch_id: "fmt-b12",
      received_at: at,
    }),
  });
  return batches;
}

function deterministicHarness(site: string): Harness {
  return harness(site, START);
}

let sessionCounter = 0;
const sessionIds = { newSessionId: () => `s-fmt-${sessionCounter++}` };

function resetSessionIds(): void {
  sessionCounter = 0;
}

async function ingestAll(h: Harness, batches: { at: number; batch: EnrichedBatch }[]): Promise<void> {
  for (const { at, batch } of batches) {
    h.clock.now = at;
    await h.run((engine) => engine.ingest(batch), sessionIds);
  }
}

/** The shard's state rows as stored (the maps: one row per entry), site-free. */
function stateRows(site: string) {
  return runInDurableObject(shardStub(site), (_instance, state) => {
    const sql = state.storage.sql;
    return {
      days: sql.exec<{ day: string; state: string }>("SELECT day, state FROM days ORDER BY day").toArray(),
      dayEntries: sql
        .exec<{ day: string; map: string; key: string; value: string }>(
          "SELECT day, map, key, value FROM day_entries ORDER BY day, map, key",
        )
        .toArray(),
      windows: sql
        .exec<{ start: number; state: string; needs_part: number }>(
          "SELECT start, state, needs_part FROM windows ORDER BY start",
        )
        .toArray(),
      windowEntries: sql
        .exec<{ window_start: number; map: string; key: string; value: string }>(
          "SELECT window_start, map, key, value FROM window_entries ORDER BY window_start, map, key",
        )
        .toArray(),
    };
  });
}

/** What the shard sends and what the hub makes of it, as the JSON text that is stored and sent. */
function liveViews(site: string, state: ShardLiveState | null, now: number) {
  if (state === null) throw new Error("no state");
  const hub = new MergedShards(WINDOW_MS);
  hub.apply(state, now);
  const { overview, performance } = hub.dayViews(site, now);
  const strip = (json: string) => json.replaceAll(site, "<site>");
  return {
    windows: strip(JSON.stringify(state.windows)),
    today: strip(JSON.stringify(state.today)),
    online: state.online,
    hubWindows: strip(JSON.stringify(hub.recentWindows(10))),
    overview: strip(JSON.stringify(overview)),
    performance: strip(JSON.stringify(performance)),
  };
}

describe("stored format of the built-in jobs", () => {
  it("stores, sends and shows byte for byte what the code before jobs did", async () => {
    resetSessionIds();
    const site = uniqueSite("fmt");
    const h = deterministicHarness(site);
    const batches = stream(site);
    await ingestAll(h, batches.slice(0, 6));
    await h.run((engine) => engine.checkpointNow());
    expect(await stateRows(site)).toEqual(AFTER_FIRST_HALF);
    await ingestAll(h, batches.slice(6));
    // Past the idle timeout: sessions close (bounces, abandoned carts) and windows seal.
    h.clock.now += IDLE_MS + 60_000;
    await h.run((engine) => engine.alarm());
    await h.run((engine) => engine.checkpointNow());
    const now = h.clock.now;
    const live = liveViews(site, await h.run((engine) => engine.liveState()), now);
    expect({ rows: await stateRows(site), live }).toEqual(AT_END);
  });

  it("loads state rows the code before jobs wrote, and carries on from them to the same numbers", async () => {
    resetSessionIds();
    const site = uniqueSite("fmt-load");
    const h = deterministicHarness(site);
    const batches = stream(site);
    // The same first half, then its state rows replaced by the recorded ones (written by the old code).
    await ingestAll(h, batches.slice(0, 6));
    await h.run((engine) => engine.checkpointNow());
    await runInDurableObject(shardStub(site), (_instance, state) => {
      const sql = state.storage.sql;
      for (const table of ["days", "day_entries", "windows", "window_entries"]) sql.exec(`DELETE FROM ${table}`);
      for (const row of AFTER_FIRST_HALF.days)
        sql.exec("INSERT INTO days (day, state) VALUES (?, ?)", row.day, row.state);
      for (const row of AFTER_FIRST_HALF.dayEntries)
        sql.exec(
          "INSERT INTO day_entries (day, map, key, value) VALUES (?, ?, ?, ?)",
          row.day,
          row.map,
          row.key,
          row.value,
        );
      for (const row of AFTER_FIRST_HALF.windows)
        sql.exec(
          "INSERT INTO windows (start, state, needs_part, live_change) VALUES (?, ?, ?, 1)",
          row.start,
          row.state,
          row.needs_part,
        );
      for (const row of AFTER_FIRST_HALF.windowEntries)
        sql.exec(
          "INSERT INTO window_entries (window_start, map, key, value) VALUES (?, ?, ?, ?)",
          row.window_start,
          row.map,
          row.key,
          row.value,
        );
    });
    // Fresh engines from here on: every one loads the recorded rows.
    await ingestAll(h, batches.slice(6));
    h.clock.now += IDLE_MS + 60_000;
    await h.run((engine) => engine.alarm());
    await h.run((engine) => engine.checkpointNow());
    const live = liveViews(site, await h.run((engine) => engine.liveState()), h.clock.now);
    expect(live).toEqual(AT_END.live);
  });
});
