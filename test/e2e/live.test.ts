/**
 * The live layer end to end: real workerd under wrangler dev (IngestShards → LiveHub over
 * RPC, hibernating WebSockets), the embedded ClickHouse behind its HTTP endpoint, and Node's
 * own WebSocket client. Prints the POST → update delay and the 1,000-socket fan-out; asserts
 * behaviour only (no wall-clock thresholds).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  liveMessageSchema,
  windowsResponseSchema,
  overviewSchema,
  type BatchInput,
  type EventInput,
  type LiveMessage,
} from "../../protocol";
import { ArrivalQueue } from "../support/arrival-queue";
import { startStack, type Stack } from "../support/stack";
import { BROWSER_USER_AGENT } from "../support/browser-user-agent";

const SITE = "live-e2e";
const TOKEN = "live-e2e-read-token-0123456789";
const SITES = JSON.stringify([{ key: SITE, origins: ["*"], token: TOKEN }]);
const FLUSH_TIMEOUT_MS = 60_000;

let stack: Stack;
let sequence = 0;
const runId = Date.now().toString(36);
/** Every event posted to SITE, so the consistency check knows what ClickHouse must hold. */
let eventsPosted = 0;

/** A live-feed client over Node's WebSocket: every message checked against the protocol. */
class NodeLiveClient {
  private readonly queue = new ArrivalQueue<LiveMessage>();

  private constructor(readonly socket: WebSocket) {
    socket.addEventListener("message", (event) => {
      this.queue.push(liveMessageSchema.parse(JSON.parse(String(event.data))));
    });
  }

  static open(url: string): Promise<NodeLiveClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      const client = new NodeLiveClient(socket);
      socket.addEventListener("open", () => resolve(client), { once: true });
      socket.addEventListener("error", () => reject(new Error(`WebSocket to ${url} failed`)), { once: true });
    });
  }

  /** The next message (after those already taken) satisfying `predicate`, and when it arrived. */
  async next(
    predicate: (message: LiveMessage) => boolean,
    timeoutMs = 15_000,
  ): Promise<{ message: LiveMessage; at: number }> {
    const { item, at } = await this.queue.next(predicate, timeoutMs);
    return { message: item, at };
  }

  close(): void {
    this.socket.close(1000, "done");
  }
}

function liveUrl(token = TOKEN): string {
  return `${stack.collectorUrl.replace(/^http/, "ws")}/v1/live?site=${SITE}&token=${token}`;
}

async function postEvents(visitor: string, events: EventInput[]): Promise<void> {
  const body: BatchInput = {
    v: 1,
    site: SITE,
    batch: `b-${runId}-${sequence++}`,
    sent_at: Date.now(),
    visitor,
    events,
  };
  const response = await fetch(`${stack.collectorUrl}/v1/events`, {
    method: "POST",
    headers: { "Content-Type": "text/plain;charset=UTF-8", "User-Agent": BROWSER_USER_AGENT },
    body: JSON.stringify(body),
  });
  expect(response.status, await response.clone().text()).toBe(202);
  eventsPosted += events.length;
}

function pageView(path: string): EventInput {
  return {
    type: "page_view",
    id: `e-${sequence}`,
    ts: Date.now(),
    url: `https://shop.example${path}`,
    referrer: "https://news.example/",
  };
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

function summary(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  return `p50 ${percentile(sorted, 0.5).toFixed(0)} ms, p99 ${percentile(sorted, 0.99).toFixed(0)} ms, max ${(sorted[sorted.length - 1] ?? Number.NaN).toFixed(0)} ms (n=${sorted.length})`;
}

beforeAll(async () => {
  // The 1,000-socket test connects from one address with one token: lift the per-client caps.
  stack = await startStack({
    vars: { SITES, LIVE_MAX_SOCKETS_PER_CLIENT: "2000", LIVE_MAX_SOCKETS_PER_TOKEN: "2000" },
  });
});

afterAll(async () => {
  await stack?.stop();
});

describe("live feed end to end", () => {
  it("refuses a socket without a valid token", async () => {
    // (fetch may not send Upgrade; the token is checked before the upgrade header anyway.)
    const response = await fetch(`${stack.collectorUrl}/v1/live?site=${SITE}`);
    expect(response.status).toBe(401);
    await expect(NodeLiveClient.open(liveUrl("not-the-token-at-all"))).rejects.toThrow();
  });

  it("reflects each posted page view in an update (POST → update delay printed)", async () => {
    const client = await NodeLiveClient.open(liveUrl());
    const { message: snapshot } = await client.next((message) => message.type === "snapshot");
    let pageViews = snapshot.totals.page_views;
    const delays: number[] = [];
    const EVENTS = 100;
    for (let i = 0; i < EVENTS; i++) {
      // Irregular arrivals, as real traffic: some land inside a coalescing interval, some not.
      await new Promise((resolve) => setTimeout(resolve, (i * 37) % 200));
      const postedAt = performance.now();
      await postEvents(`v-${runId}-${i % 25}`, [pageView(`/p/${i % 7}`)]);
      pageViews += 1;
      const { message, at } = await client.next(
        (update) => update.type === "update" && update.totals.page_views >= pageViews,
      );
      expect(message.totals.page_views).toBe(pageViews);
      delays.push(at - postedAt);
    }
    console.log(`[live e2e] POST /v1/events → WebSocket update: ${summary(delays)}`);
    client.close();
  });

  it("holds 1,000 concurrent sockets on one hub and updates every one of them", async () => {
    const SOCKETS = 1_000;
    const connectStarted = performance.now();
    const clients: NodeLiveClient[] = [];
    for (let i = 0; i < SOCKETS; i += 100) {
      clients.push(...(await Promise.all(Array.from({ length: 100 }, () => NodeLiveClient.open(liveUrl())))));
    }
    const snapshots = await Promise.all(clients.map((client) => client.next((message) => message.type === "snapshot")));
    const connectMs = performance.now() - connectStarted;
    const clientsGauge = await fetch(`${stack.collectorUrl}/metrics`, {
      headers: { Authorization: `Bearer ${stack.adminToken}` },
    });
    const gaugeText = clientsGauge.status === 200 ? await clientsGauge.text() : "";
    const before = Math.max(...snapshots.map(({ message }) => message.totals.page_views));

    const postedAt = performance.now();
    await postEvents(`v-${runId}-fanout`, [pageView("/fan-out")]);
    const updates = await Promise.all(
      clients.map((client) => client.next((message) => message.totals.page_views >= before + 1, 30_000)),
    );
    expect(updates.every(({ message }) => message.totals.page_views === before + 1)).toBe(true);
    console.log(
      `[live e2e] ${SOCKETS} sockets on one hub: connected with snapshots in ${connectMs.toFixed(0)} ms; ` +
        `POST → update on every socket: ${summary(updates.map(({ at }) => at - postedAt))}` +
        (gaugeText.includes(`edgepulse_websocket_clients{site="${SITE}"} ${SOCKETS}`) ? "; /metrics reports them" : ""),
    );
    for (const client of clients) client.close();
  });

  it("reports, once windows are sealed and flushed, the same window totals as ClickHouse", async () => {
    await postEvents(`v-${runId}-buyer`, [
      pageView("/p/1"),
      {
        type: "cart",
        id: "c1",
        ts: Date.now(),
        action: "add",
        product_id: "sku-1",
        name: "Mug",
        price: 12.5,
        quantity: 2,
        currency: "EUR",
      },
      { type: "cart", id: "c2", ts: Date.now(), action: "checkout", value: 25, currency: "EUR" },
      {
        type: "purchase",
        id: "o1",
        ts: Date.now(),
        order_id: `o-${runId}`,
        value: 25,
        currency: "EUR",
        items: [{ product_id: "sku-1", price: 12.5, quantity: 2 }],
      },
    ]);
    await stack.waitForRows(
      "SELECT count() FROM events WHERE site = {site:String}",
      { site: SITE },
      eventsPosted,
      FLUSH_TIMEOUT_MS,
    );
    await stack.waitForRows(
      "SELECT sum(events) FROM window_metrics WHERE site = {site:String}",
      { site: SITE },
      eventsPosted,
      FLUSH_TIMEOUT_MS,
    );

    type Row = {
      start: number;
      events: number;
      page_views: number;
      visitors: number;
      sessions: number;
      cart_adds: number;
      checkouts: number;
      purchases: number;
      revenue: number;
    };
    const clickhouseWindows = await stack.clickhouse.query<Row>(
      `SELECT toUnixTimestamp(window_start) * 1000 AS start, sum(events) AS events, sum(page_views) AS page_views, sum(visitors) AS visitors,
              sum(sessions) AS sessions, sum(cart_adds) AS cart_adds, sum(checkouts) AS checkouts, sum(purchases) AS purchases,
              toFloat64(sum(revenue)) AS revenue
       FROM window_metrics WHERE site = {site:String} GROUP BY window_start ORDER BY window_start DESC`,
      { site: SITE },
    );
    const fromEvents = await stack.clickhouse.query<{
      start: number;
      events: number;
      page_views: number;
      purchases: number;
    }>(
      `SELECT toUnixTimestamp(toStartOfInterval(ts, INTERVAL 1 SECOND)) * 1000 AS start, count() AS events,
              countIf(type = 'page_view') AS page_views, countIf(type = 'purchase') AS purchases
       FROM events WHERE site = {site:String} GROUP BY start ORDER BY start DESC`,
      { site: SITE },
    );
    const hub = await fetch(`${stack.collectorUrl}/v1/metrics/windows?site=${SITE}&limit=360`, {
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    const hubWindows = windowsResponseSchema.parse(await hub.json()).windows.filter((window) => window.events > 0);
    expect(hubWindows.length).toBeGreaterThan(10);

    const pick = ({
      start,
      events,
      page_views,
      visitors,
      sessions,
      cart_adds,
      checkouts,
      purchases,
      revenue,
    }: Row) => ({ start, events, page_views, visitors, sessions, cart_adds, checkouts, purchases, revenue });
    expect(hubWindows.map(pick)).toEqual(clickhouseWindows.map(pick));
    expect(
      hubWindows.map(({ start, events, page_views, purchases }) => ({ start, events, page_views, purchases })),
    ).toEqual(fromEvents);

    const overview = overviewSchema.parse(
      await (
        await fetch(`${stack.collectorUrl}/v1/metrics/overview?site=${SITE}`, {
          headers: { Authorization: `Bearer ${TOKEN}` },
        })
      ).json(),
    );
    expect(overview.totals).toMatchObject({ events: eventsPosted, purchases: 1, revenue: 25 });
    console.log(
      `[live e2e] ${hubWindows.length} sealed windows, ${eventsPosted} events: hub = window_metrics = events`,
    );
  });
});
