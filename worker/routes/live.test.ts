import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { errorResponseSchema, overviewSchema, windowsResponseSchema } from "../../protocol";
import { LIVE_CLIENT_HEADER } from "../../protocol/live";
import { LiveTestClient } from "../../durable-objects/live-hub/live-test-client";
import { counts, shardState } from "../../durable-objects/shard-to-hub/shard-state-fixture";
import { app } from "../app";

const SITE = "live-route-shop";
const INGEST_SITE = "live-route-ingest";
const REBUILD_SITE = "live-route-rebuild";
const OTHER = "live-route-other";
const SITE_TOKEN = "live-route-shop-token-0123456789";
const OTHER_TOKEN = "live-route-other-token-012345678";
/** The Worker with two sites of its own, so no other test's traffic reaches these hubs. */
const testEnv: Env = {
  ...env,
  SITES: JSON.stringify([
    { key: SITE, origins: ["*"], token: SITE_TOKEN },
    { key: OTHER, origins: ["*"], token: OTHER_TOKEN },
    { key: INGEST_SITE, origins: ["*"] },
    { key: REBUILD_SITE, origins: ["*"] },
  ]),
  // The hundreds-of-clients test below connects from one address with one token.
  LIVE_MAX_SOCKETS_PER_CLIENT: "1000",
  LIVE_MAX_SOCKETS_PER_TOKEN: "1000",
};
const worker = { fetch: (input: string, init?: RequestInit) => app.fetch(new Request(input, init), testEnv) };

async function refusal(url: string, headers: Record<string, string> = { Upgrade: "websocket" }) {
  const response = await worker.fetch(url, { headers });
  expect(response.webSocket).toBeNull();
  return { status: response.status, body: errorResponseSchema.parse(await response.json()) };
}

describe("GET /v1/live", () => {
  it("refuses a client without a token with 401 JSON and no upgrade", async () => {
    const { status, body } = await refusal(`http://collector.test/v1/live?site=${SITE}`);
    expect(status).toBe(401);
    expect(body.error.code).toBe("unauthorized");
  });

  it("refuses a wrong token, another site's token and an unknown site with 403", async () => {
    expect((await refusal(`http://collector.test/v1/live?site=${SITE}&token=not-the-token-at-all`)).status).toBe(403);
    expect((await refusal(`http://collector.test/v1/live?site=${SITE}&token=${OTHER_TOKEN}`)).body.error.code).toBe(
      "forbidden",
    );
    expect((await refusal("http://collector.test/v1/live?site=nobody&token=dev-admin-token")).body.error.code).toBe(
      "unknown_site",
    );
  });

  it("answers a malformed site with 400 and a plain GET with 426 upgrade_required", async () => {
    expect((await refusal("http://collector.test/v1/live?site=NO%20SUCH&token=dev-admin-token")).status).toBe(400);
    // What the dashboard's token check gets for a good token: it must not read as "refused".
    expect(
      await refusal(`http://collector.test/v1/live?site=${SITE}`, { Authorization: `Bearer ${SITE_TOKEN}` }),
    ).toMatchObject({ status: 426, body: { error: { code: "upgrade_required" } } });
  });

  it("takes ?token= only on the WebSocket upgrade", async () => {
    expect((await refusal(`http://collector.test/v1/live?site=${SITE}&token=${SITE_TOKEN}`, {})).status).toBe(401);
  });

  it("caps the sockets one client may hold, and other clients still connect", async () => {
    const site = OTHER;
    const worker = {
      fetch: (input: string, init?: RequestInit) =>
        app.fetch(new Request(input, init), { ...testEnv, LIVE_MAX_SOCKETS_PER_CLIENT: "20" }),
    };
    const refusal = async (url: string, headers: Record<string, string>) => {
      const response = await worker.fetch(url, { headers });
      return { status: response.status, body: errorResponseSchema.parse(await response.json()) };
    };
    const from = (ip: string) => ({
      Upgrade: "websocket",
      "CF-Connecting-IP": ip,
      Authorization: `Bearer ${OTHER_TOKEN}`,
    });
    const sockets: WebSocket[] = [];
    for (let opened = 0; opened < 20; opened++) {
      const response = await worker.fetch(`http://collector.test/v1/live?site=${site}`, {
        headers: from("198.51.100.7"),
      });
      expect(response.status).toBe(101);
      response.webSocket?.accept();
      if (response.webSocket) sockets.push(response.webSocket);
    }
    const refused = await refusal(`http://collector.test/v1/live?site=${site}`, from("198.51.100.7"));
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe("rate_limited");
    // A client-sent digest header is replaced by the Worker's own, so it cannot dodge the cap.
    expect(
      (
        await refusal(`http://collector.test/v1/live?site=${site}`, {
          ...from("198.51.100.7"),
          [LIVE_CLIENT_HEADER]: "forged",
        })
      ).status,
    ).toBe(429);
    const other = await worker.fetch(`http://collector.test/v1/live?site=${site}`, { headers: from("198.51.100.8") });
    expect(other.status).toBe(101);
    other.webSocket?.accept();
    other.webSocket?.close();
    for (const socket of sockets) socket.close();
  });

  it("upgrades with the site's token (query or header) and streams the site's hub", async () => {
    const now = Date.now();
    const hub = env.LIVE_HUB.get(env.LIVE_HUB.idFromName(SITE));
    await hub.applyShardState(shardState(SITE, 0, 1, now, { today: { counts: counts({ page_views: 3 }) }, online: 1 }));
    const client = await LiveTestClient.connect(
      worker,
      `http://collector.test/v1/live?site=${SITE}&token=${SITE_TOKEN}`,
    );
    expect(await client.next()).toMatchObject({ type: "snapshot", site: SITE, online: 1, totals: { page_views: 3 } });
    await hub.applyShardState(shardState(SITE, 0, 2, now, { today: { counts: counts({ page_views: 4 }) }, online: 1 }));
    expect(await client.next()).toMatchObject({ type: "update", totals: { page_views: 4 } });
    client.close();
    const response = await worker.fetch(`http://collector.test/v1/live?site=${SITE}`, {
      headers: { Upgrade: "websocket", Authorization: "Bearer dev-admin-token" },
    });
    expect(response.status).toBe(101);
    response.webSocket?.accept();
    response.webSocket?.close(1000, "done");
  });
});

describe("GET /v1/live with ingest", () => {
  it("pushes events posted to /v1/events through the shards to each of hundreds of clients", async () => {
    const url = `http://collector.test/v1/live?site=${INGEST_SITE}&token=dev-admin-token`;
    const clients: LiveTestClient[] = [];
    for (let i = 0; i < 200; i++) clients.push(await LiveTestClient.connect(worker, url));
    const snapshots = await Promise.all(clients.map((client) => client.next((message) => message.type === "snapshot")));
    expect(snapshots.every((snapshot) => snapshot.totals.page_views === 0)).toBe(true);
    const now = Date.now();
    const batch = {
      v: 1,
      site: INGEST_SITE,
      batch: `b-live-route-${now}`,
      sent_at: now,
      visitor: "v-live-route",
      events: [
        { type: "page_view", id: "e1", ts: now, url: "https://shop.example/p/1" },
        {
          type: "cart",
          id: "e2",
          ts: now,
          action: "add",
          product_id: "sku-1",
          name: "Mug",
          price: 12.5,
          quantity: 1,
          currency: "EUR",
        },
      ],
    };
    const posted = await worker.fetch("http://collector.test/v1/events", {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: JSON.stringify(batch),
    });
    expect(posted.status).toBe(202);
    const updates = await Promise.all(
      clients.map((client) => client.next((message) => message.totals.cart_adds === 1)),
    );
    for (const update of updates) {
      expect(update).toMatchObject({ type: "update", online: 1, totals: { page_views: 1, cart_adds: 1, visitors: 1 } });
      expect(update.windows.reduce((sum, window) => sum + window.events, 0)).toBe(2);
    }
    expect(clients.every((client) => client.invalid.length === 0)).toBe(true);
    for (const client of clients) client.close();
  });
});

describe("LiveHub rebuilt from the shards", () => {
  it("answers the same numbers after losing its whole storage", async () => {
    const now = Date.now();
    for (let i = 0; i < 6; i++) {
      const batch = {
        v: 1,
        site: REBUILD_SITE,
        batch: `b-rebuild-${now}-${i}`,
        sent_at: now,
        visitor: `v-rebuild-${i}`,
        events: [{ type: "page_view", id: "e1", ts: now, url: `https://shop.example/p/${i}` }],
      };
      const posted = await worker.fetch("http://collector.test/v1/events", {
        method: "POST",
        headers: { "Content-Type": "text/plain" },
        body: JSON.stringify(batch),
      });
      expect(posted.status).toBe(202);
    }
    const read = async () => {
      const headers = { Authorization: "Bearer dev-admin-token" };
      const overview = await worker.fetch(`http://collector.test/v1/metrics/overview?site=${REBUILD_SITE}`, {
        headers,
      });
      const windows = await worker.fetch(`http://collector.test/v1/metrics/windows?site=${REBUILD_SITE}`, { headers });
      return {
        overview: overviewSchema.parse(await overview.json()),
        windows: windowsResponseSchema.parse(await windows.json()),
      };
    };
    let before = await read();
    for (let attempt = 0; attempt < 50 && before.overview.totals.page_views < 6; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      before = await read();
    }
    expect(before.overview.totals).toMatchObject({ page_views: 6, visitors: 6 });

    const hub = env.LIVE_HUB.get(env.LIVE_HUB.idFromName(REBUILD_SITE));
    await runInDurableObject(hub, async (_instance, state) => {
      await state.storage.deleteAll();
    });
    await evictDurableObject(hub);
    expect(await read()).toEqual(before);
  });
});
