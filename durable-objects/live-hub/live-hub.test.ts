import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { overviewSchema, performanceSchema, windowsResponseSchema, type LiveMessage } from "../../protocol";
import { BROADCAST_INTERVAL_MS } from "./live-hub";
import { LiveTestClient } from "./live-test-client";
import { addToSketch, emptySketch } from "../shared/quantile-sketch";
import {
  asDelta,
  counts,
  shardState,
  TEST_WINDOW_MS,
  windowPartial,
  windowStart,
} from "../shard-to-hub/shard-state-fixture";
import type { ShardLiveDelta } from "../shard-to-hub/shard-live-state";

let hubCounter = 0;

/** A hub of its own per test: the site key names it. */
function newHub() {
  const site = `hub-test-${Date.now().toString(36)}-${hubCounter++}`;
  const stub = env.LIVE_HUB.get(env.LIVE_HUB.idFromName(site));
  const connect = () => LiveTestClient.connect(stub, `http://hub.test/?site=${site}`);
  return { site, stub, connect };
}

const pageViewsOf = (start: number) => (message: LiveMessage) =>
  message.windows.find((window) => window.start === start)?.page_views;

describe("LiveHub live feed", () => {
  it("sends a snapshot on connect, then updates in order carrying only the windows that changed", async () => {
    const { site, stub, connect } = newHub();
    const now = Date.now();
    const w0 = windowStart(now);
    const w1 = w0 - TEST_WINDOW_MS;
    await stub.applyShardState(shardState(site, 0, 1, now, { windows: [windowPartial(w1, { page_views: 4 })] }));
    const client = await connect();
    const snapshot = await client.next();
    expect(snapshot).toMatchObject({ type: "snapshot", site, window_seconds: TEST_WINDOW_MS / 1000 });
    expect(snapshot.windows.map((window) => window.start)).toEqual([w1]);

    await stub.applyShardState(
      shardState(site, 0, 2, now, {
        windows: [windowPartial(w0, { page_views: 1 })],
        today: { counts: counts({ page_views: 5 }) },
      }),
    );
    const first = await client.next();
    expect(first.type).toBe("update");
    expect(first.windows.map((window) => window.start)).toEqual([w0]);
    expect(first.totals.page_views).toBe(5);

    // A burst of sends is coalesced; the last update holds the last values.
    const burstStarted = Date.now();
    for (let seq = 3; seq <= 12; seq++) {
      await stub.applyShardState(
        shardState(site, 1, seq, now, {
          windows: [windowPartial(w0, { page_views: seq })],
          today: { counts: counts({ page_views: seq }) },
        }),
      );
    }
    const last = await client.next((message) => message.totals.page_views === 5 + 12);
    expect(pageViewsOf(w0)(last)).toBe(1 + 12);
    const updates = client.messages.slice(1);
    // At most one update per interval while the burst lasted (plus the first and the trailing
    // one): on a busy machine the ten sends can take longer than an interval each, and then
    // each may rightly get its own update, so the bound follows the burst's own duration.
    const burstIntervals = Math.ceil((Date.now() - burstStarted) / BROADCAST_INTERVAL_MS);
    expect(updates.length).toBeLessThanOrEqual(Math.min(1 + 10, 2 + burstIntervals));
    for (let i = 1; i < updates.length; i++) {
      expect(updates[i]!.at - updates[i - 1]!.at).toBeGreaterThanOrEqual(BROADCAST_INTERVAL_MS);
    }
    expect(client.messages[0]?.type).toBe("snapshot");
    expect(client.messages.slice(1).every((message) => message.type === "update")).toBe(true);
    expect(client.invalid).toEqual([]);
    client.close();
  });

  it("tells shards whether anyone watches: a connected dashboard, or a REST call in the last 30 s", async () => {
    const { site, stub, connect } = newHub();
    const now = Date.now();
    const send = (seq: number) => stub.applyShardState(shardState(site, 0, seq, now, {}));
    expect(await send(1)).toMatchObject({ watched: false });
    const client = await connect();
    await client.next();
    expect(await send(2)).toMatchObject({ watched: true });
    client.close();
    await expect.poll(() => send(3)).toMatchObject({ watched: false });
    await stub.overview(site);
    expect(await send(4)).toMatchObject({ watched: true });
  });

  it("delivers an update to every one of hundreds of clients", async () => {
    const { site, stub, connect } = newHub();
    const clients: LiveTestClient[] = [];
    for (let i = 0; i < 300; i++) clients.push(await connect());
    await Promise.all(clients.map((client) => client.next((message) => message.type === "snapshot")));
    expect(await stub.liveClients()).toBe(300);
    const now = Date.now();
    await stub.applyShardState(
      shardState(site, 3, 1, now, { windows: [windowPartial(windowStart(now), { page_views: 42 })], online: 9 }),
    );
    const updates = await Promise.all(clients.map((client) => client.next((message) => message.type === "update")));
    expect(updates.every((update) => update.online === 9 && pageViewsOf(windowStart(now))(update) === 42)).toBe(true);
    expect(clients.every((client) => client.invalid.length === 0)).toBe(true);
    for (const client of clients) client.close();
  });

  it("gives a reconnecting client a snapshot with everything it missed", async () => {
    const { site, stub, connect } = newHub();
    const now = Date.now();
    const w0 = windowStart(now);
    const first = await connect();
    await first.next();
    first.close();
    await stub.applyShardState(
      shardState(site, 0, 1, now, { windows: [windowPartial(w0, { page_views: 2, visitors: 2 })], online: 2 }),
    );
    await stub.applyShardState(
      shardState(site, 1, 1, now, { windows: [windowPartial(w0, { page_views: 3, visitors: 1 })], online: 1 }),
    );
    const again = await connect();
    const snapshot = await again.next();
    expect(snapshot.type).toBe("snapshot");
    expect(snapshot.online).toBe(3);
    expect(snapshot.windows).toEqual([expect.objectContaining({ start: w0, page_views: 5, visitors: 3 })]);
    again.close();
  });

  it("refuses a request that is not a WebSocket upgrade or names no valid site", async () => {
    const { stub, site } = newHub();
    expect((await stub.fetch(`http://hub.test/?site=${site}`)).status).toBe(426);
    expect(
      (await stub.fetch("http://hub.test/?site=Not%20A%20Site", { headers: { Upgrade: "websocket" } })).status,
    ).toBe(400);
  });
});

describe("LiveHub after eviction", () => {
  async function seed(site: string, stub: ReturnType<typeof newHub>["stub"], now: number): Promise<void> {
    const w0 = windowStart(now);
    for (let shard = 0; shard < 4; shard++) {
      const lcp = emptySketch();
      for (let i = 1; i <= 40; i++) addToSketch(lcp, 100 * i * (shard + 1));
      await stub.applyShardState(
        shardState(site, shard, 10, now, {
          windows: [
            windowPartial(w0, { page_views: shard + 1, visitors: 1 }),
            windowPartial(w0 - TEST_WINDOW_MS, { sessions: shard }),
          ],
          today: {
            counts: counts({ page_views: 10 + shard, purchases: shard, revenue: shard * 1.1 }),
            funnel: { sessions: 10, product_views: 5, cart_adds: 3, checkouts: 2, purchases: shard },
            pages: { "/": 5, [`/p/${shard}`]: shard + 1 },
            products: {
              [`sku-${shard}`]: { name: `P${shard}`, views: 2, cart_adds: 1, purchases: shard, revenue: shard * 1.1 },
            },
            vitals: { "/": { LCP: lcp } },
          },
          online: shard + 1,
        }),
      );
    }
  }

  async function readAll(site: string, stub: ReturnType<typeof newHub>["stub"]) {
    return {
      windows: windowsResponseSchema.parse(await stub.recentWindows(site, 360)),
      overview: overviewSchema.parse(await stub.overview(site)),
      performance: performanceSchema.parse(await stub.performance(site)),
    };
  }

  it("reports the same numbers when rebuilt from its storage", async () => {
    const { site, stub } = newHub();
    await seed(site, stub, Date.now());
    const before = await readAll(site, stub);
    expect(before.overview).toMatchObject({ online: 10, totals: { page_views: 46, purchases: 6, revenue: 6.6 } });
    expect(before.windows.windows.map((window) => window.page_views)).toEqual([10, 0]);
    expect(before.performance.pages[0]?.vitals.LCP?.count).toBe(160);
    await evictDurableObject(stub);
    expect(await readAll(site, stub)).toEqual(before);
  });

  it("keeps pushing to hibernated sockets, including an update owed when it was evicted", async () => {
    const { site, stub, connect } = newHub();
    const client = await connect();
    const snapshot = await client.next();
    const now = Date.now();
    await seed(site, stub, now);
    // Evicted right after the sends: the owed update is durable (marker + alarm), not a timer.
    await evictDurableObject(stub);
    const owed = await client.next((message) => message.totals.page_views === 46);
    expect(owed).toMatchObject({ type: "update", online: 10 });
    // The alarm's instance may already be gone (nothing keeps a hibernatable hub awake).
    await evictDurableObject(stub).catch((error: unknown) => {
      if (!String(error).includes("not currently running")) throw error;
    });
    await stub.applyShardState(
      shardState(site, 0, 11, Date.now(), { windows: [windowPartial(windowStart(now), { page_views: 100 })] }),
    );
    const after = await client.next((message) => message.windows.length > 0);
    expect(after.windows[0]?.page_views).toBe(100 + 2 + 3 + 4);
    expect(snapshot.type).toBe("snapshot");
    client.close();
  });
});

describe("LiveHub day deltas", () => {
  /** A delta of shard 0's day on base `baseSeq`: page "/" now at `views`. */
  function pageDelta(site: string, baseSeq: number, seq: number, now: number, views: number): ShardLiveDelta {
    const state = shardState(site, 0, seq, now, { today: { counts: counts({ page_views: views }) } });
    return asDelta(state, baseSeq, { pages: { set: { "/": views }, removed: [] } });
  }

  it("applies a delta to the base it stored, also after eviction, and refuses one on another base", async () => {
    const { site, stub } = newHub();
    const now = Date.now();
    const whole = shardState(site, 0, 1, now, {
      today: { counts: counts({ page_views: 1 }), pages: { "/": 1, "/x": 1 } },
    });
    expect(await stub.applyShardState(whole)).toMatchObject({ dayBase: true });
    expect(await stub.applyShardState(pageDelta(site, 1, 2, now, 5))).toMatchObject({ dayBase: true });
    // The base is the hub's stored row: an evicted hub applies the next delta to it.
    await evictDurableObject(stub);
    expect(await stub.applyShardState(pageDelta(site, 2, 3, now, 7))).toMatchObject({ dayBase: true });
    const overview = overviewSchema.parse(await stub.overview(site));
    expect(overview.totals.page_views).toBe(7);
    expect(overview.top_pages).toEqual([
      { path: "/", views: 7 },
      { path: "/x", views: 1 },
    ]);
    // A delta on a base the hub does not hold is refused (the shard sends its whole state next).
    expect(await stub.applyShardState(pageDelta(site, 2, 4, now, 9))).toMatchObject({ dayBase: false });
    expect(overviewSchema.parse(await stub.overview(site)).totals.page_views).toBe(7);
    // A hub with nothing stored holds no base at all.
    const fresh = newHub();
    expect(await fresh.stub.applyShardState(pageDelta(fresh.site, 1, 2, now, 3))).toMatchObject({ dayBase: false });
  });
});
