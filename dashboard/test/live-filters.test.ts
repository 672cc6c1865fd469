/**
 * The Live tab with filters in real Chromium against the real stack (wrangler dev, the
 * embedded ClickHouse): three sessions arrive through the collector now — one from an email
 * campaign that buys, one from Google search, one typed in — so the feed (WebSocket) counts
 * six page views and the filtered figures (`/v1/live/filtered`, polled from ClickHouse) fewer.
 * What each filter counts is the Worker's part (worker/routes/live-filtered.test.ts); here:
 * the page shows filtered figures and says where they come from, chips and the URL agree, and
 * removing the chip brings back the feed's figures and stops the polling.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BatchInput } from "../../protocol";
import { overviewSchema } from "../../protocol/live";
import { launchChromium } from "../../sdk/test/browser";
import { BROWSER_USER_AGENT } from "../../test/support/browser-user-agent";
import { startStack, type Stack } from "../../test/support/stack";

const FLUSH_TIMEOUT_MS = 60_000;
/** Each poll is 9 ClickHouse queries; on a busy two-core machine they take a while. */
const DOM_TIMEOUT_MS = 60_000;

let stack: Stack;
let browser: Browser;
let context: BrowserContext;
const consoleErrors: string[] = [];
const runId = Date.now().toString(36);

async function postSession(visitor: string, pages: readonly string[], referrer: string, purchase: boolean) {
  const ts = Date.now() - 5_000;
  const batch: BatchInput = {
    v: 1,
    site: "demo",
    batch: `b-${runId}-${visitor}`,
    sent_at: Date.now(),
    visitor: `${visitor}-${runId}`,
    events: [
      ...pages.map((url, index) => ({
        type: "page_view" as const,
        id: `p${index}`,
        ts: ts + index * 100,
        url,
        ...(index === 0 && referrer !== "" ? { referrer } : {}),
      })),
      ...(purchase
        ? [{ type: "purchase" as const, id: "o1", ts: ts + 900, order_id: `o-${runId}`, value: 24, currency: "EUR" }]
        : []),
    ],
  };
  const response = await fetch(`${stack.collectorUrl}/v1/events`, {
    method: "POST",
    headers: { "Content-Type": "text/plain", "User-Agent": BROWSER_USER_AGENT },
    body: JSON.stringify(batch),
  });
  expect(response.status, await response.text()).toBe(202);
}

async function open(path: string): Promise<{ page: Page; filtered: URL[] }> {
  const page = await context.newPage();
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => consoleErrors.push(error.message));
  const filtered: URL[] = [];
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (url.pathname === "/v1/live/filtered") filtered.push(url);
  });
  await page.goto(`${stack.collectorUrl}${path}`);
  return { page, filtered };
}

const chipTexts = (page: Page) => page.getByTestId("live-filters").locator(".chip-text").allTextContents();
const tile = (page: Page, id: string) => page.getByTestId(id).textContent();
const note = (page: Page) => page.getByTestId("live-source");

/** The feed's page views today, as the speed layer answers them over REST. */
async function feedPageViews(): Promise<number> {
  const response = await fetch(`${stack.collectorUrl}/v1/metrics/overview?site=demo`, {
    headers: { Authorization: `Bearer ${stack.adminToken}` },
  });
  return overviewSchema.parse(await response.json()).totals.page_views;
}

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack(), launchChromium()]);
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await postSession(
    "mail",
    ["https://shop.example/?utm_source=newsletter&utm_medium=email&utm_campaign=spring", "https://shop.example/p/mug"],
    "",
    true,
  );
  await postSession("search", ["https://shop.example/guides/brewing"], "https://www.google.com/", false);
  await postSession(
    "direct",
    ["https://shop.example/", "https://shop.example/about", "https://shop.example/contact"],
    "",
    false,
  );
  await stack.waitForRows("SELECT count() FROM events WHERE site = 'demo'", {}, 7, FLUSH_TIMEOUT_MS);
  // The hub has all six page views (expect.poll is for tests only, so a plain loop here).
  const deadline = Date.now() + FLUSH_TIMEOUT_MS;
  while ((await feedPageViews()) !== 6) {
    if (Date.now() > deadline) throw new Error(`the feed never counted 6 page views (${await feedPageViews()})`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe("the Live tab with filters in Chromium", () => {
  it("shows filtered figures from ClickHouse for a filter in the URL, and the feed's again without it", async () => {
    const { page, filtered } = await open("/?filter=channel:is:Email#live");
    await expect.poll(() => chipTexts(page), { timeout: DOM_TIMEOUT_MS }).toEqual(["Channel is Email"]);
    // The email session's two page views, where the feed has six.
    await expect.poll(() => tile(page, "live-page-views"), { timeout: DOM_TIMEOUT_MS }).toBe("2");
    expect(await tile(page, "live-visitors")).toBe("1");
    expect(await tile(page, "live-orders")).toBe("1");
    expect(await note(page).textContent()).toMatch(
      /^Filtered \(1\): from ClickHouse, ≤ \d+ s behind the live feed · today in UTC$/,
    );
    expect(await page.getByRole("region", { name: "Top pages today" }).textContent()).not.toContain("/about");
    expect(filtered.length).toBeGreaterThan(0);
    for (const url of filtered) {
      expect(url.searchParams.get("site")).toBe("demo");
      expect(url.searchParams.getAll("filter")).toEqual(["channel:is:Email"]);
    }
    // Polled: a second request follows within a few seconds.
    const first = filtered.length;
    await expect.poll(() => filtered.length, { timeout: DOM_TIMEOUT_MS }).toBeGreaterThan(first);

    await page.getByRole("button", { name: "Remove filter: Channel is Email" }).click();
    await expect.poll(() => new URL(page.url()).searchParams.getAll("filter")).toEqual([]);
    expect(new URL(page.url()).hash).toBe("#live");
    // Back to the feed's figures at once (the last WebSocket message), no note, no chips.
    await expect.poll(() => tile(page, "live-page-views"), { timeout: DOM_TIMEOUT_MS }).toBe("6");
    expect(await note(page).isHidden()).toBe(true);
    expect(await page.getByTestId("live-filters").isHidden()).toBe(true);
    // And the polling stopped (an answer in flight may still land).
    await page.waitForTimeout(500);
    const after = filtered.length;
    await page.waitForTimeout(4_000);
    expect(filtered.length).toBe(after);

    // Back restores the filtered view.
    await page.goBack();
    await expect.poll(() => chipTexts(page)).toEqual(["Channel is Email"]);
    await expect.poll(() => tile(page, "live-page-views"), { timeout: DOM_TIMEOUT_MS }).toBe("2");
    await page.close();
  });

  it("filters by source and by a clicked row, and History shows the same filters", async () => {
    const { page } = await open("/?filter=source:is:www.google.com#live");
    await expect.poll(() => tile(page, "live-page-views"), { timeout: DOM_TIMEOUT_MS }).toBe("1");
    expect(await chipTexts(page)).toEqual(["Source is www.google.com"]);
    await page.getByRole("button", { name: "Remove filter: Source is www.google.com" }).click();
    await expect.poll(() => tile(page, "live-page-views"), { timeout: DOM_TIMEOUT_MS }).toBe("6");
    // A row of the feed's top pages filters by it.
    await page.getByRole("region", { name: "Top pages today" }).getByRole("button", { name: "/about" }).click();
    await expect.poll(() => chipTexts(page)).toEqual(["Page is /about"]);
    await expect.poll(() => tile(page, "live-page-views"), { timeout: DOM_TIMEOUT_MS }).toBe("1");
    expect(new URL(page.url()).searchParams.getAll("filter")).toEqual(["page:is:/about"]);
    await page.getByRole("tab", { name: "History" }).click();
    await expect
      .poll(() => page.getByTestId("history-filters").locator(".chip-text").allTextContents())
      .toEqual(["Page is /about"]);
    expect(consoleErrors).toEqual([]);
    await page.close();
  });
});
