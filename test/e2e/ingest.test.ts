/**
 * The collector end to end: real workerd under wrangler dev, real Durable Objects, the
 * embedded ClickHouse behind its HTTP endpoint. Batches go in over HTTP; rows are looked for
 * in ClickHouse.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorResponseSchema, MAX_BODY_BYTES, type BatchInput, type EventInput } from "../../protocol";
import { startStack, type Stack } from "../support/stack";

const IPHONE =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
const DESKTOP =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const SITES = JSON.stringify([{ key: "shop", origins: ["https://shop.example"] }]);
/** Long enough for WINDOW_SECONDS + ALLOWED_LATENESS_SECONDS + a flush on a busy 2-core machine. */
const ROWS_TIMEOUT_MS = 45_000;

let stack: Stack;
let sequence = 0;
const runId = `${Date.now().toString(36)}`;
const batchId = (label: string) => `b-${runId}-${label}-${sequence++}`;

function batch(site: string, events: EventInput[], extra: Partial<BatchInput> = {}): BatchInput {
  return { v: 1, site, batch: batchId(site), sent_at: Date.now(), events, ...extra };
}

async function post(body: string | BatchInput, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${stack.collectorUrl}/v1/events`, {
    method: "POST",
    headers: { "Content-Type": "text/plain;charset=UTF-8", "User-Agent": DESKTOP, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

async function expectRefusal(
  response: Response,
  status: number,
  code: string,
): Promise<{ message: string; issues?: { path: string }[] }> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  expect(response.headers.get("Content-Type")).toContain("application/json");
  const body = errorResponseSchema.parse(JSON.parse(text));
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(0);
  return body.error;
}

beforeAll(async () => {
  stack = await startStack({ vars: { SITES } });
});

afterAll(async () => {
  await stack?.stop();
});

describe("ingest end to end", () => {
  it("stores every accepted event once, with the enriched fields", async () => {
    const now = Date.now();
    const events: EventInput[] = [
      {
        type: "page_view",
        id: "e1",
        ts: now - 900,
        url: "https://shop.example/p/42?utm=x#top",
        referrer: "https://www.Google.com/search?q=mug",
        title: "Blue mug",
      },
      {
        type: "cart",
        id: "e2",
        ts: now - 800,
        action: "add",
        product_id: "sku-42",
        name: "Blue mug",
        price: 12.5,
        quantity: 2,
        currency: "eur",
      },
      { type: "cart", id: "e3", ts: now - 700, action: "checkout", value: 25, currency: "EUR" },
      {
        type: "purchase",
        id: "e4",
        ts: now - 600,
        order_id: "o-991",
        value: 25,
        currency: "EUR",
        items: [{ product_id: "sku-42", price: 12.5, quantity: 2 }],
      },
      { type: "vital", id: "e5", ts: now - 500, url: "https://shop.example/p/42", metric: "LCP", value: 1830.4 },
      { type: "custom", id: "e6", ts: now - 400, name: "newsletter_signup", props: { plan: "free" } },
    ];
    const sent = batch("demo", events);
    const response = await post(sent, { "User-Agent": IPHONE });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ accepted: 6, duplicate: false });

    await stack.waitForRows(
      "SELECT count() FROM events WHERE batch_id = {batch:String}",
      { batch: sent.batch },
      6,
      ROWS_TIMEOUT_MS,
    );
    const rows = await stack.clickhouse.query<Record<string, unknown>>(
      `SELECT event_id, type, path, referrer_host, title, device, browser, os, country, visitor_id, session_id, action, product_id, product_name,
              toString(price) AS price, quantity, toString(value) AS value, currency, order_id, items, metric, metric_value, name, props
       FROM events WHERE batch_id = {batch:String} ORDER BY event_id`,
      { batch: sent.batch },
    );
    expect(rows.map((row) => [row.event_id, row.type])).toEqual([
      ["e1", "page_view"],
      ["e2", "cart"],
      ["e3", "cart"],
      ["e4", "purchase"],
      ["e5", "vital"],
      ["e6", "custom"],
    ]);
    for (const row of rows) {
      expect(row).toMatchObject({ device: "mobile", browser: "Safari", os: "iOS" });
      expect(row.country).toMatch(/^([A-Z]{2})?$/);
      expect(row.visitor_id).toMatch(/^v-[0-9a-f]{32}$/);
      expect(row.session_id).not.toBe("");
    }
    const [pageView, cartAdd, checkout, purchase, vital, custom] = rows;
    expect(pageView).toMatchObject({ path: "/p/42", referrer_host: "www.google.com", title: "Blue mug" });
    expect(cartAdd).toMatchObject({
      action: "add",
      product_id: "sku-42",
      product_name: "Blue mug",
      price: "12.5",
      quantity: 2,
      currency: "EUR",
    });
    expect(checkout).toMatchObject({ action: "checkout", value: "25", currency: "EUR" });
    expect(purchase).toMatchObject({ order_id: "o-991", value: "25", currency: "EUR" });
    expect(JSON.parse(String(purchase?.items))).toEqual([{ product_id: "sku-42", price: 12.5, quantity: 2 }]);
    expect(vital).toMatchObject({ metric: "LCP", metric_value: 1830.4, path: "/p/42" });
    expect(custom).toMatchObject({ name: "newsletter_signup" });
    expect(JSON.parse(String(custom?.props))).toEqual({ plan: "free" });
    // One visitor and one session for the whole batch.
    expect(new Set(rows.map((row) => row.visitor_id)).size).toBe(1);
    expect(new Set(rows.map((row) => row.session_id)).size).toBe(1);
  });

  it("derives the same cookieless visitor for the same client and another for another client", async () => {
    const now = Date.now();
    const first = batch("demo", [{ type: "page_view", id: "e1", ts: now, url: "https://shop.example/" }]);
    const second = batch("demo", [{ type: "page_view", id: "e1", ts: now, url: "https://shop.example/a" }]);
    const other = batch("demo", [{ type: "page_view", id: "e1", ts: now, url: "https://shop.example/b" }]);
    expect((await post(first, { "User-Agent": IPHONE })).status).toBe(202);
    expect((await post(second, { "User-Agent": IPHONE })).status).toBe(202);
    expect((await post(other, { "User-Agent": DESKTOP })).status).toBe(202);
    const batches = [first.batch, second.batch, other.batch];
    await stack.waitForRows(
      "SELECT count() FROM events WHERE batch_id IN {batches:Array(String)}",
      { batches },
      3,
      ROWS_TIMEOUT_MS,
    );
    const rows = await stack.clickhouse.query<{ batch_id: string; visitor_id: string }>(
      "SELECT batch_id, visitor_id FROM events WHERE batch_id IN {batches:Array(String)}",
      { batches },
    );
    const visitorOf = new Map(rows.map((row) => [row.batch_id, row.visitor_id]));
    expect(visitorOf.get(first.batch)).toBe(visitorOf.get(second.batch));
    expect(visitorOf.get(other.batch)).not.toBe(visitorOf.get(first.batch));
  });

  it("never adds a row for a resent batch", async () => {
    const now = Date.now();
    const sent = batch(
      "demo",
      [
        { type: "page_view", id: "e1", ts: now, url: "https://shop.example/r" },
        { type: "cart", id: "e2", ts: now, action: "add", product_id: "sku-1", price: 3, quantity: 1, currency: "EUR" },
      ],
      { visitor: "v-resend-e2e" },
    );
    expect(await (await post(sent)).json()).toEqual({ accepted: 2, duplicate: false });
    expect(await (await post(sent)).json()).toEqual({ accepted: 0, duplicate: true });
    await stack.waitForRows(
      "SELECT count() FROM events WHERE batch_id = {batch:String}",
      { batch: sent.batch },
      2,
      ROWS_TIMEOUT_MS,
    );

    // Resend after the first copy was flushed, then wait for a later batch of the same visitor
    // (same shard) to be flushed too: by then a wrongly accepted copy would be in ClickHouse.
    expect(await (await post(sent)).json()).toEqual({ accepted: 0, duplicate: true });
    const marker = batch("demo", [{ type: "page_view", id: "e1", ts: Date.now(), url: "https://shop.example/m" }], {
      visitor: "v-resend-e2e",
    });
    expect((await post(marker)).status).toBe(202);
    await stack.waitForRows(
      "SELECT count() FROM events WHERE batch_id = {batch:String}",
      { batch: marker.batch },
      1,
      ROWS_TIMEOUT_MS,
    );
    const [row] = await stack.clickhouse.query<{ count: string | number }>(
      "SELECT count() AS count FROM events WHERE batch_id = {batch:String}",
      { batch: sent.batch },
    );
    expect(Number(row?.count)).toBe(2);
  });

  it("reports window_metrics totals equal to the totals counted from events, for every site", async () => {
    const now = Date.now();
    const shopHeaders = { Origin: "https://shop.example" };
    const posts: [string, BatchInput, Record<string, string>][] = [];
    for (let visitor = 0; visitor < 6; visitor++) {
      for (const site of ["demo", "shop"]) {
        const events: EventInput[] = [
          { type: "page_view", id: "p1", ts: now - 1500, url: `https://${site}.example/p/${visitor}` },
          {
            type: "cart",
            id: "c1",
            ts: now - 1400,
            action: "add",
            product_id: `sku-${visitor}`,
            price: 9.99,
            quantity: 1 + visitor,
            currency: "EUR",
          },
          { type: "cart", id: "c2", ts: now - 1300, action: "remove", product_id: `sku-${visitor}` },
        ];
        if (visitor % 2 === 0) {
          events.push({ type: "cart", id: "c3", ts: now - 1200, action: "checkout", value: 19.98, currency: "EUR" });
          events.push({
            type: "purchase",
            id: "o1",
            ts: now - 1100,
            order_id: `o-${runId}-${visitor}`,
            value: 19.98,
            currency: visitor === 4 ? "USD" : "EUR",
          });
        }
        posts.push([
          site,
          batch(site, events, { visitor: `v-${runId}-totals-${visitor}` }),
          site === "shop" ? shopHeaders : {},
        ]);
      }
    }
    for (const [, body, headers] of posts) expect((await post(body, headers)).status).toBe(202);

    const eventTotals = `
      SELECT count() AS events, countIf(type = 'page_view') AS page_views,
             countIf(type = 'cart' AND action = 'add') AS cart_adds, countIf(type = 'cart' AND action = 'remove') AS cart_removes,
             countIf(type = 'cart' AND action = 'checkout') AS checkouts, countIf(type = 'purchase') AS purchases,
             toString(sumIf(value, type = 'purchase')) AS revenue
      FROM events WHERE site = {site:String}`;
    const windowTotals = `
      SELECT sum(events) AS events, sum(page_views) AS page_views, sum(cart_adds) AS cart_adds, sum(cart_removes) AS cart_removes,
             sum(checkouts) AS checkouts, sum(purchases) AS purchases, toString(sum(revenue)) AS revenue
      FROM window_metrics WHERE site = {site:String}`;
    const revenueByCurrency = {
      events:
        "SELECT currency, toString(sum(value)) AS revenue FROM events WHERE site = {site:String} AND type = 'purchase' GROUP BY currency ORDER BY currency",
      windows:
        "SELECT currency, toString(sum(revenue)) AS revenue FROM window_metrics WHERE site = {site:String} AND currency != '' GROUP BY currency ORDER BY currency",
    };
    const normalise = (row: Record<string, unknown> | undefined) =>
      Object.fromEntries(
        Object.entries(row ?? {}).map(([key, value]) => [
          key,
          key === "revenue" || key === "currency" ? String(value) : Number(value),
        ]),
      );

    for (const site of ["demo", "shop"]) {
      const sentForSite = posts
        .filter(([postSite]) => postSite === site)
        .reduce((total, [, body]) => total + body.events.length, 0);
      // Sealed windows of this test may arrive a little after the events rows: poll until they agree.
      const deadline = Date.now() + ROWS_TIMEOUT_MS;
      let fromEvents: Record<string, unknown> = {};
      let fromWindows: Record<string, unknown> = {};
      for (;;) {
        fromEvents = normalise((await stack.clickhouse.query<Record<string, unknown>>(eventTotals, { site }))[0]);
        fromWindows = normalise((await stack.clickhouse.query<Record<string, unknown>>(windowTotals, { site }))[0]);
        if (Number(fromEvents.events) >= sentForSite && JSON.stringify(fromEvents) === JSON.stringify(fromWindows))
          break;
        if (Date.now() > deadline) break;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      expect(Number(fromEvents.events)).toBeGreaterThanOrEqual(sentForSite);
      expect(fromWindows).toEqual(fromEvents);
      const byCurrencyEvents = await stack.clickhouse.query<Record<string, unknown>>(revenueByCurrency.events, {
        site,
      });
      const byCurrencyWindows = await stack.clickhouse.query<Record<string, unknown>>(revenueByCurrency.windows, {
        site,
      });
      expect(byCurrencyWindows).toEqual(byCurrencyEvents);
    }
  });

  describe("refuses malformed input with a 4xx JSON error naming the problem", () => {
    const refusedBatches: string[] = [];
    const valid = (overrides: Partial<BatchInput> = {}) => {
      const body = batch(
        "demo",
        [{ type: "page_view", id: "e1", ts: Date.now(), url: "https://shop.example/" }],
        overrides,
      );
      refusedBatches.push(body.batch);
      return body;
    };

    it("malformed JSON", async () => {
      expect((await expectRefusal(await post('{"v":1,"site":"demo",'), 400, "invalid_payload")).message).toMatch(
        /JSON/,
      );
    });

    it("wrong types, naming the path", async () => {
      const body = {
        ...valid(),
        events: [{ type: "cart", id: "e1", ts: Date.now(), action: "add", product_id: "sku-1", price: "free" }],
      };
      const error = await expectRefusal(await post(JSON.stringify(body)), 400, "invalid_payload");
      expect(error.issues?.map((issue) => issue.path)).toContain("events.0.price");
    });

    it("an unknown event type", async () => {
      const body = { ...valid(), events: [{ type: "teleport", id: "e1", ts: Date.now() }] };
      const error = await expectRefusal(await post(JSON.stringify(body)), 400, "invalid_payload");
      expect(error.issues?.map((issue) => issue.path)).toContain("events.0.type");
    });

    it("more than 100 events", async () => {
      const now = Date.now();
      const body = valid({
        events: Array.from({ length: 101 }, (_, index) => ({
          type: "page_view" as const,
          id: `e${index}`,
          ts: now,
          url: "https://a.example/",
        })),
      });
      const error = await expectRefusal(await post(body), 400, "invalid_payload");
      expect(error.issues?.map((issue) => issue.path)).toContain("events");
    });

    it("a body over 64 KiB, declared or streamed", async () => {
      const big = JSON.stringify({ ...valid(), padding: "x".repeat(MAX_BODY_BYTES) });
      await expectRefusal(await post(big), 413, "payload_too_large");

      const chunk = new TextEncoder().encode(" ".repeat(16 * 1024));
      let chunks = 0;
      const streamed = new ReadableStream<Uint8Array>({
        pull(controller) {
          // Far more than the limit, without a Content-Length: counted while it streams.
          if (chunks++ < 64) controller.enqueue(chunk);
          else controller.close();
        },
      });
      const response = await fetch(`${stack.collectorUrl}/v1/events`, {
        method: "POST",
        headers: { "Content-Type": "text/plain" },
        body: streamed,
        duplex: "half",
      } as RequestInit & { duplex: "half" });
      await expectRefusal(response, 413, "payload_too_large");
    });

    it("an unknown site", async () => {
      const error = await expectRefusal(await post(valid({ site: "no-such-site" })), 403, "unknown_site");
      expect(error.message).toContain("no-such-site");
    });

    it("an origin the site does not allow", async () => {
      const error = await expectRefusal(
        await post(valid({ site: "shop" }), { Origin: "https://evil.example" }),
        403,
        "origin_not_allowed",
      );
      expect(error.message).toContain("https://evil.example");
    });

    it("an unsupported media type", async () => {
      await expectRefusal(
        await post(JSON.stringify(valid()), { "Content-Type": "multipart/form-data; boundary=x" }),
        415,
        "unsupported_media_type",
      );
    });

    it("stored none of the refused batches", async () => {
      const [row] = await stack.clickhouse.query<{ count: string | number }>(
        "SELECT count() AS count FROM events WHERE batch_id IN {batches:Array(String)}",
        { batches: refusedBatches },
      );
      expect(Number(row?.count)).toBe(0);
    });
  });

  it("answers CORS preflights for allowed origins with the headers browsers need", async () => {
    const response = await fetch(`${stack.collectorUrl}/v1/events`, {
      method: "OPTIONS",
      headers: {
        Origin: "https://shop.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe("https://shop.example");
    expect(response.headers.get("Access-Control-Allow-Methods")).toContain("POST");
  });
});
