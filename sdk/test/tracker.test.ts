/**
 * The script-tag tracker (sdk/dist/ep.js) in real Chromium: fixture pages on one origin post
 * to a recording collector on another, which validates every body with the protocol's schema.
 * The assertions are on the exact payloads the collector received.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchChromium, waitFor } from "./browser";
import { startFixtureServer, type FixtureServer } from "./fixture-server";
import { startRecordingCollector, type RecordingCollector } from "./recording-collector";
import type { QueuedCall, Tracker } from "../src/types";

let browser: Browser;
let collector: RecordingCollector;
let fixtures: FixtureServer;
let context: BrowserContext;

beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});
beforeEach(async () => {
  collector = await startRecordingCollector();
  fixtures = await startFixtureServer(collector.origin);
  context = await browser.newContext();
});
afterEach(async () => {
  await context.close();
  await collector.close();
  await fixtures.close();
  expect(collector.invalid).toEqual([]);
});

/** Opens an SPA page; `attributes` replace the script tag's default `data-allow-automation`. */
const open = async (path = "/app/home", attributes?: string): Promise<Page> => {
  const page = await context.newPage();
  const url = new URL(path, fixtures.origin);
  if (attributes !== undefined) url.searchParams.set("attrs", attributes);
  await page.goto(url.href);
  return page;
};

const call = (page: Page, queued: QueuedCall) =>
  page.evaluate((queued) => (window as unknown as { edgepulse: Tracker }).edgepulse.push(queued), queued);
const outbox = (page: Page) => page.evaluate(() => localStorage.getItem("edgepulse:outbox"));
const countedOf = (type: string) => collector.counted().filter((event) => event.type === type);

let markers = 0;
/**
 * Waits until everything the page queued so far has reached the collector: the outbox sends
 * one batch at a time in order, so once a marker event tracked now has arrived, every batch
 * before it has too. Asserting "nothing more arrived" after this cannot pass by being early.
 */
const isMarker = (event: { type: string; name?: string }) =>
  event.type === "custom" && event.name?.startsWith("marker-") === true;

async function deliveredSoFar(page: Page): Promise<void> {
  const name = `marker-${++markers}`;
  await call(page, ["track", name]);
  await call(page, ["flush"]);
  await waitFor(`the ${name} event`, () =>
    collector.counted().some((event) => event.type === "custom" && event.name === name),
  );
}
const pageUrl = (path: string) => fixtures.origin + path;
const anyBatchId = expect.stringMatching(/^\d+-\d+-\d+-\d+$/);

describe("ep.js in Chromium", () => {
  it("sends the page view on load, then the calls queued before it loaded, as one v1 batch", async () => {
    const page = await open();
    await waitFor("the first batch", () => collector.requests[0]);
    expect(collector.requests).toHaveLength(1);
    const [first] = collector.requests;
    expect(first!.body).toEqual({
      v: 1,
      site: "demo",
      batch: anyBatchId,
      sent_at: expect.any(Number),
      // A first attempt says so: the collector sends it straight to its shard.
      retry: 0,
      events: [
        { type: "page_view", id: "1", ts: expect.any(Number), url: pageUrl("/app/home"), referrer: "", title: "Shop" },
        {
          type: "custom",
          id: "2",
          ts: expect.any(Number),
          name: "early",
          props: { plan: "free" },
          url: pageUrl("/app/home"),
        },
      ],
    });
    // Posted by fetch as text/plain: a CORS-simple request, no preflight.
    expect(first!.fetchMode).toBe("cors");
    expect(first!.contentType).toBe("text/plain;charset=UTF-8");
    // Cookieless, and nothing identifying stored: the only key is the (now empty) outbox.
    expect(await context.cookies()).toEqual([]);
    expect(await page.evaluate(() => Object.keys(localStorage))).toEqual(["edgepulse:outbox"]);
    await waitFor("the outbox to empty", async () => (await outbox(page)) === "[]");
  });

  it("counts SPA navigations that change the path once each: pushState, replaceState, popstate", async () => {
    const page = await open();
    await waitFor("the load's page view", () => countedOf("page_view").length === 1);
    await page.evaluate(() => {
      history.pushState({}, "", "/app/product/42");
      // Same path: a router storing state, a query or a hash change. Not a new page.
      history.replaceState({ scroll: 10 }, "", "/app/product/42?tab=reviews");
      history.pushState({}, "", "/app/product/42#details");
      history.replaceState({}, "", "/app/cart");
    });
    await waitFor("two SPA page views", () => countedOf("page_view").length === 3);
    // Back from /app/cart (which replaced the #details entry) to /app/product/42?tab=reviews.
    await page.goBack();
    await waitFor("the popstate page view", () => countedOf("page_view").length === 4);
    await page.evaluate(() => history.pushState({}, "", "/app/product/42?again"));
    await deliveredSoFar(page);
    expect(countedOf("page_view").map((event) => "url" in event && event.url)).toEqual([
      pageUrl("/app/home"),
      pageUrl("/app/product/42"),
      pageUrl("/app/cart"),
      pageUrl("/app/product/42?tab=reviews"),
    ]);
  });

  it("sends cart, checkout and purchase events with exactly the caller's data", async () => {
    const page = await open();
    await waitFor("the load's batch", () => collector.requests[0]);
    await call(page, [
      "cart",
      "add",
      { product_id: "sku-42", name: "Blue mug", price: 12.5, quantity: 2, currency: "EUR" },
    ]);
    await call(page, ["cart", "remove", { product_id: "sku-7", quantity: 1 }]);
    await call(page, ["cart", "checkout", { value: 25, currency: "EUR" }]);
    await call(page, [
      "purchase",
      { order_id: "o-991", value: 25, currency: "EUR", items: [{ product_id: "sku-42", price: 12.5, quantity: 2 }] },
    ]);
    await call(page, ["track", "newsletter_signup", { plan: "free", weekly: true, seats: 3 }]);
    await call(page, ["flush"]);
    await waitFor("the commerce batch", () => collector.requests[1]);
    const ts = expect.any(Number);
    expect(collector.requests[1]!.body).toEqual({
      v: 1,
      site: "demo",
      batch: anyBatchId,
      sent_at: expect.any(Number),
      retry: 0,
      events: [
        {
          type: "cart",
          id: "3",
          ts,
          action: "add",
          product_id: "sku-42",
          name: "Blue mug",
          price: 12.5,
          quantity: 2,
          currency: "EUR",
        },
        { type: "cart", id: "4", ts, action: "remove", product_id: "sku-7", quantity: 1 },
        { type: "cart", id: "5", ts, action: "checkout", value: 25, currency: "EUR" },
        {
          type: "purchase",
          id: "6",
          ts,
          order_id: "o-991",
          value: 25,
          currency: "EUR",
          items: [{ product_id: "sku-42", price: 12.5, quantity: 2 }],
        },
        {
          type: "custom",
          id: "7",
          ts,
          name: "newsletter_signup",
          props: { plan: "free", weekly: true, seats: 3 },
          url: pageUrl("/app/home"),
        },
      ],
    });
    expect(collector.requests[1]!.body.batch).not.toBe(collector.requests[0]!.body.batch);
  });

  it("retries a network error, a 503 and a 429 with the same batch id, not before Retry-After", async () => {
    let aborted = 0;
    await context.route(`${collector.origin}/v1/events`, (route) =>
      aborted++ ? route.continue() : route.abort("connectionrefused"),
    );
    collector.script([
      { status: 503, retryAfter: "1" },
      { status: 429, retryAfter: "1" },
    ]);
    await open();
    await waitFor("the accepted attempt", () => collector.requests.find((request) => request.status === 202));
    expect(aborted).toBe(4);
    const [overloaded, limited, accepted] = collector.requests;
    expect(collector.requests.map((request) => request.status)).toEqual([503, 429, 202]);
    expect(new Set(collector.requests.map((request) => request.body.batch)).size).toBe(1);
    expect(limited!.body.events).toEqual(overloaded!.body.events);
    expect(accepted!.body.events).toEqual(overloaded!.body.events);
    // sent_at is stamped at every attempt, so the collector's skew correction stays right.
    expect(limited!.body.sent_at).toBeGreaterThan(overloaded!.body.sent_at);
    expect(limited!.receivedAt - overloaded!.receivedAt).toBeGreaterThanOrEqual(1000);
    expect(accepted!.receivedAt - limited!.receivedAt).toBeGreaterThanOrEqual(1000);
    // Every attempt after the first is marked a resend, so the collector looks for it on every shard.
    expect(collector.requests.map((request) => request.body.retry)).toEqual([1, 1, 1]);
    expect(collector.counted().map((event) => event.type)).toEqual(["page_view", "custom"]);
  });

  it("marks a batch whose attempt failed as a resend on the next page load, and the new page's batch as a first send", async () => {
    let refusing = true;
    let refused = 0;
    await context.route(`${collector.origin}/v1/events`, (route) => {
      if (!refusing) return route.continue();
      refused++;
      return route.abort("connectionrefused");
    });
    const page = await open();
    await waitFor("the first attempt", () => refused > 0);
    const [stored] = JSON.parse((await outbox(page))!) as { batch: string; retry: number }[];
    // Marked in the outbox before the attempt left, so whatever sends it next says it is a resend.
    expect(stored?.retry).toBe(1);
    refusing = false;
    await page.goto(pageUrl("/app/home"));
    await waitFor("both batches", () => collector.counted().length === 4);
    const byId = new Map(collector.requests.map((request) => [request.body.batch, request.body.retry]));
    expect(byId.get(stored!.batch)).toBe(1);
    expect([...byId.values()].sort()).toEqual([0, 1]);
  });

  it("drops a batch the collector rejects with a 4xx other than 429, counts it, and carries on", async () => {
    collector.script([{ status: 400 }]);
    const page = await open();
    await waitFor("the rejected batch", () => collector.requests[0]);
    await waitFor("the outbox to empty", async () => (await outbox(page)) === "[]");
    expect(await page.evaluate(() => (window as unknown as { edgepulse: Tracker }).edgepulse.dropped)).toBe(2);
    await call(page, ["track", "after"]);
    await waitFor("the next batch", () => collector.requests[1]);
    expect(collector.requests.map((request) => request.status)).toEqual([400, 202]);
    expect(collector.requests[1]!.body.events.map((event) => event.id)).toEqual(["3"]);
  });

  it("splits a burst into batches of at most 100 events, sent one after another", async () => {
    const page = await open();
    await waitFor("the load's batch", () => collector.requests[0]);
    await page.evaluate(() => {
      for (let index = 0; index < 250; index++)
        (window as unknown as { edgepulse: Tracker }).edgepulse.track("burst", { index });
    });
    await waitFor("the whole burst", () => countedOf("custom").length === 251);
    expect(collector.requests.map((request) => request.body.events.length)).toEqual([2, 100, 100, 50]);
    expect(new Set(collector.requests.map((request) => request.body.batch)).size).toBe(4);
    expect(countedOf("custom").map((event) => "props" in event && event.props?.index)).toEqual([
      undefined,
      ...Array.from({ length: 250 }, (_, index) => index),
    ]);
  });

  it("keeps what it could not send offline across a reload and delivers it once when back online", async () => {
    const page = await open();
    // The load's page view and "early" event, in one batch or two.
    await waitFor("the load's events", () => collector.counted().length === 2);
    const online = collector.requests.length;
    await context.setOffline(true);
    await call(page, ["track", "offline-1"]);
    await call(page, ["flush"]);
    // Offline: nothing is attempted, the batch waits in localStorage.
    expect(JSON.parse((await outbox(page))!)).toHaveLength(1);
    // The reload comes from the HTTP cache (fixtures are cacheable), still offline.
    await page.goto(pageUrl("/app/home"));
    await call(page, ["track", "offline-2"]);
    await call(page, ["flush"]);
    expect(JSON.parse((await outbox(page))!)).toHaveLength(2);
    expect(collector.requests).toHaveLength(online);
    await context.setOffline(false);
    await waitFor("the offline batches", () => collector.requests.length === online + 2);
    await waitFor("the outbox to empty", async () => (await outbox(page)) === "[]");
    await deliveredSoFar(page);
    // Delivered once: no batch id was posted twice.
    const batchIds = collector.requests.map((request) => request.body.batch);
    expect(new Set(batchIds).size).toBe(batchIds.length);
    const delivered = collector.counted().filter((event) => !isMarker(event));
    expect(delivered.map((event) => (event.type === "custom" ? event.name : event.type))).toEqual([
      "page_view",
      "early",
      "offline-1",
      "page_view",
      "early",
      "offline-2",
    ]);
  });

  it("hands the last events to sendBeacon when the page is left", async () => {
    const page = await open();
    await waitFor("the load's batch", () => collector.requests[0]);
    await call(page, ["track", "leaving"]);
    // Well within the 500 ms batch delay: only the pagehide flush can send it.
    await page.click("#leave");
    await page.waitForURL(pageUrl("/blank.html"));
    const beacon = await waitFor("the beacon", () => collector.requests[1]);
    expect(beacon.fetchMode).toBe("no-cors");
    expect(beacon.contentType).toBe("text/plain;charset=UTF-8");
    expect(beacon.body.events).toEqual([
      { type: "custom", id: "3", ts: expect.any(Number), name: "leaving", url: pageUrl("/app/home") },
    ]);
    // Handed over, so not kept for the next page.
    expect(await outbox(page)).toBe("[]");
  });

  it("sends nothing under Global Privacy Control, Do Not Track or automation when told to respect them", async () => {
    await context.addInitScript(() => {
      const signal = new URLSearchParams(location.search).get("signal");
      if (signal === "gpc") Object.defineProperty(Navigator.prototype, "globalPrivacyControl", { get: () => true });
      if (signal === "dnt") Object.defineProperty(Navigator.prototype, "doNotTrack", { get: () => "1" });
    });
    const optedOut = await Promise.all([
      open("/app/gpc?signal=gpc", "data-allow-automation data-respect-gpc"),
      open("/app/dnt?signal=dnt", "data-allow-automation data-respect-dnt"),
      // Playwright sets navigator.webdriver; without data-allow-automation that is a bot.
      open("/app/bot", ""),
    ]);
    for (const page of optedOut) {
      await call(page, ["track", "opted-out"]);
      await call(page, ["flush"]);
      expect(await page.evaluate(() => Object.keys(localStorage))).toEqual([]);
    }
    // The signals alone change nothing: a site that does not opt in still tracks.
    const control = await open("/app/control?signal=gpc");
    await waitFor("the control page's batch", () => collector.requests[0]);
    // Flushed after the opted-out pages' flushes: whatever they had sent would be here by now.
    await deliveredSoFar(control);
    expect(
      collector.requests.flatMap((request) =>
        request.body.events.filter((event) => !isMarker(event)).map((event) => ("url" in event ? event.url : "")),
      ),
    ).toEqual([pageUrl("/app/control?signal=gpc"), pageUrl("/app/control?signal=gpc")]);
  });

  it("keeps nothing in localStorage with data-persist=false", async () => {
    const page = await open("/app/home", "data-allow-automation data-persist=false");
    await waitFor("the load's batch", () => collector.requests[0]);
    await context.setOffline(true);
    await call(page, ["track", "memory-only"]);
    await call(page, ["flush"]);
    expect(await page.evaluate(() => Object.keys(localStorage))).toEqual([]);
    await context.setOffline(false);
    await waitFor("the in-memory batch", () => collector.requests[1]);
    expect(collector.requests[1]!.body.events.map((event) => event.type === "custom" && event.name)).toEqual([
      "memory-only",
    ]);
  });
});
