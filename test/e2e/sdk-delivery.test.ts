/**
 * The browser SDK against the real stack: a page on its own origin loads
 * `<script defer src="COLLECTOR/ep.js" data-site="demo">` from the Worker (wrangler dev, real
 * Durable Objects) in real Chromium, and the events land in ClickHouse exactly once, across
 * SPA navigations, commerce calls, going offline with a reload and a second tab (both tabs
 * then send the same persisted batches: in runs so far the Worker saw 3-4 of the 7 batches
 * twice, and must count them once), and a pagehide beacon.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { launchChromium, waitFor } from "../../sdk/test/browser";
import { startFixtureServer, type FixtureServer } from "../../sdk/test/fixture-server";
import type { QueuedCall, Tracker } from "../../sdk/src/types";
import { startStack, type Stack } from "../support/stack";

/** Window + lateness + flush on a busy 2-core machine. */
const ROWS_TIMEOUT_MS = 45_000;

let stack: Stack;
let fixtures: FixtureServer;
let browser: Browser;

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack(), launchChromium()]);
  fixtures = await startFixtureServer(stack.collectorUrl);
});
afterAll(async () => {
  await browser?.close();
  await fixtures?.close();
  await stack?.stop();
});

const call = (page: Page, queued: QueuedCall) =>
  page.evaluate((queued) => (window as unknown as { edgepulse: Tracker }).edgepulse.push(queued), queued);
const outbox = (page: Page) =>
  page.evaluate(() => JSON.parse(localStorage.getItem("edgepulse:outbox") ?? "[]") as unknown[]);

interface EventRow {
  type: string;
  name: string;
  path: string;
  action: string;
}

describe("SDK → Worker → ClickHouse", () => {
  it("lands every event of a browsing session in ClickHouse exactly once", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const home = `${fixtures.origin}/app/home`;
    await page.goto(home);
    // The Worker served the script; the load's batch reached it (the outbox emptied on its 202).
    await waitFor(
      "the load's batch to be accepted",
      async () => (await page.evaluate(() => localStorage.getItem("edgepulse:outbox"))) === "[]",
    );

    await page.evaluate(() => history.pushState({}, "", "/app/product/42"));
    await call(page, [
      "cart",
      "add",
      { product_id: "sku-42", name: "Blue mug", price: 12.5, quantity: 2, currency: "EUR" },
    ]);
    await call(page, ["cart", "checkout", { value: 25, currency: "EUR" }]);
    await call(page, [
      "purchase",
      { order_id: "o-991", value: 25, currency: "EUR", items: [{ product_id: "sku-42", price: 12.5, quantity: 2 }] },
    ]);
    await call(page, ["flush"]);
    await waitFor("the commerce batch to be accepted", async () => (await outbox(page)).length === 0);

    // Offline: a reload (from the HTTP cache; the Worker serves ep.js cacheable) and a second tab.
    await context.setOffline(true);
    await call(page, ["track", "offline-1"]);
    await call(page, ["flush"]);
    await page.goto(home);
    const secondTab = await context.newPage();
    await secondTab.goto(home);
    await waitFor("both page loads batched", async () => (await outbox(secondTab)).length === 3);
    await call(page, ["track", "offline-2"]);
    await call(page, ["flush"]);
    await waitFor("all offline batches in the shared outbox", async () => (await outbox(secondTab)).length === 4);
    // Back online, both tabs send what is in the shared outbox.
    await context.setOffline(false);
    await waitFor("the outbox to empty", async () => (await outbox(page)).length === 0);

    // Left before the batch timer: only the pagehide beacon carries this one.
    await call(page, ["track", "leaving"]);
    await page.click("#leave");
    await page.waitForURL(/blank\.html$/);

    const expected = 13;
    await stack.waitForRows("SELECT count() FROM events WHERE site = 'demo'", {}, expected, ROWS_TIMEOUT_MS);
    // Any duplicate (the second tab's resend, a retry) would have been flushed by now too.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const rows = await stack.clickhouse.query<EventRow>(
      "SELECT type, name, path, action FROM events WHERE site = 'demo' ORDER BY ts, event_id",
    );
    expect(rows).toHaveLength(expected);
    const [unique] = await stack.clickhouse.query<{ unique: string | number }>(
      "SELECT uniqExact(batch_id, event_id) AS unique FROM events WHERE site = 'demo'",
    );
    expect(Number(unique!.unique)).toBe(expected);

    const summary = rows.map((row) => [row.type, row.name || row.action || row.path].join(":")).sort();
    expect(summary).toEqual(
      [
        "page_view:/app/home",
        "custom:early",
        "page_view:/app/product/42",
        "cart:add",
        "cart:checkout",
        "purchase:",
        "custom:offline-1",
        "page_view:/app/home",
        "custom:early",
        "page_view:/app/home",
        "custom:early",
        "custom:offline-2",
        "custom:leaving",
      ].sort(),
    );
    await context.close();
  });
});
