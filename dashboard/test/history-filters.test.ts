/**
 * The history view's filters, URL state, ranges, comparison and CSV in real Chromium against
 * the real stack (wrangler dev, the embedded ClickHouse). Two sessions arrive through the
 * collector two hours ago (so their sessions close at once): one from an email campaign, one
 * from a search engine. The page runs in Tokyo time so the custom range is not UTC by accident.
 *
 * What the filters do to the numbers is the Worker's part (worker/routes/history*); here the
 * assertions are on what the page shows and on the requests it makes.
 */
import { readFile } from "node:fs/promises";
import type { Browser, BrowserContext, Page, Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BatchInput } from "../../protocol";
import { launchChromium } from "../../sdk/test/browser";
import { BROWSER_USER_AGENT } from "../../test/support/browser-user-agent";
import { startStack, type Stack } from "../../test/support/stack";
import { toCsv } from "../src/csv";
import { NOT_AVAILABLE } from "../src/history-panel";
import { customRange } from "../src/range-presets";

const FLUSH_TIMEOUT_MS = 60_000;
/** A view is 15–17 ClickHouse queries; on a busy two-core machine they take a while. */
const DOM_TIMEOUT_MS = 60_000;
/** The browser's zone, and the demo site's (config-seeded sites default to UTC). */
const ZONE = "Asia/Tokyo";
const SITE_ZONE = "UTC";

let stack: Stack;
let browser: Browser;
let context: BrowserContext;
const consoleErrors: string[] = [];
const runId = Date.now().toString(36);

async function postSession(visitor: string, url: string, referrer: string, purchase: boolean): Promise<void> {
  const ts = Date.now() - 2 * 3600_000;
  const batch: BatchInput = {
    v: 1,
    site: "demo",
    batch: `b-${runId}-${visitor}`,
    sent_at: Date.now(),
    visitor: `${visitor}-${runId}`,
    events: [
      { type: "page_view", id: "p1", ts, url, referrer },
      { type: "page_view", id: "p2", ts: ts + 1000, url: "https://shop.example/p/mug-blue" },
      ...(purchase
        ? [
            {
              type: "purchase" as const,
              id: "o1",
              ts: ts + 2000,
              order_id: `o-${visitor}-${runId}`,
              value: 24,
              currency: "EUR",
            },
          ]
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

/** Opens the dashboard at `path` and records every history request it makes from then on. */
async function open(path: string): Promise<{ page: Page; requests: URL[] }> {
  const page = await context.newPage();
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => consoleErrors.push(error.message));
  const requests: URL[] = [];
  page.on("request", (request: Request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith("/v1/history/")) requests.push(url);
  });
  await page.goto(`${stack.collectorUrl}${path}`);
  return { page, requests };
}

const chipTexts = (page: Page) => page.getByTestId("history-filters").locator(".chip-text").allTextContents();
const panelText = (page: Page, slug: string) => page.getByTestId(`panel-${slug}`).textContent();
const status = (page: Page) => page.getByTestId("history-status").textContent();

/**
 * Waits until every part of the view answered. A 503 ("ClickHouse is not reachable", a query
 * timing out on an overloaded machine) is retried with Show, as its message tells a user to.
 */
async function loaded(page: Page): Promise<void> {
  await expect
    .poll(
      async () => {
        const text = (await status(page)) ?? "";
        if (/^Some parts failed to load: ClickHouse is not reachable/.test(text))
          await page.getByRole("button", { name: "Show" }).click();
        return text;
      },
      { timeout: DOM_TIMEOUT_MS, interval: 1000 },
    )
    .toMatch(/^demo: /);
}

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack(), launchChromium()]);
  context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    timezoneId: ZONE,
    acceptDownloads: true,
  });
  await postSession(
    "mail",
    "https://shop.example/?utm_source=newsletter&utm_medium=email&utm_campaign=spring-sale",
    "",
    true,
  );
  await postSession("search", "https://shop.example/guides/brewing", "https://www.google.com/", false);
  await stack.waitForRows("SELECT count() FROM sessions WHERE site = 'demo'", {}, 2, FLUSH_TIMEOUT_MS);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe("history view filters, ranges and comparison in Chromium", () => {
  it("opens a view from a URL with filters and a comparison", async () => {
    const { page, requests } = await open(
      "/?range=24h&compare=previous&filter=channel:is:Email&filter=country:is_not:DE&goal=page:/p/*#history",
    );
    await expect
      .poll(() => chipTexts(page), { timeout: DOM_TIMEOUT_MS })
      .toEqual(["Channel is Email", "Country is not DE"]);
    expect(await page.locator("#history-range").inputValue()).toBe("24h");
    expect(await page.locator("#history-compare").inputValue()).toBe("previous");
    await loaded(page);
    expect(await status(page)).toMatch(/^demo: .*2 filter\(s\), compared with/);
    // Every request carries both filters; timeseries and sessions go twice, for two ranges a day apart.
    expect(requests.length).toBeGreaterThan(10);
    for (const url of requests)
      expect(url.searchParams.getAll("filter"), url.pathname).toEqual(["channel:is:Email", "country:is_not:DE"]);
    // The page goal from the URL is listed in the Goals panel and asked for.
    expect(await panelText(page, "goals")).toContain("Visited /p/*");
    const goals = requests.find((url) => url.pathname === "/v1/history/goals");
    expect(goals?.searchParams.getAll("goal")).toEqual(["page:/p/*"]);
    const timeseries = requests.filter((url) => url.pathname === "/v1/history/timeseries");
    expect(timeseries.length).toBeGreaterThanOrEqual(2);
    const [current, previous] = timeseries.map((url) => Number(url.searchParams.get("from")));
    expect((current ?? 0) - (previous ?? 0)).toBe(24 * 3600_000);
    // Deltas on the tiles, and the chart names its dashed series.
    await expect
      .poll(() => page.getByTestId("history-page-views-delta").textContent(), { timeout: DOM_TIMEOUT_MS })
      .toMatch(/ vs previous period$/);
    await expect
      .poll(() => page.getByTestId("history-bounce-rate-delta").textContent(), { timeout: DOM_TIMEOUT_MS })
      .toMatch(/pp vs previous period$/);
    expect(await page.locator("#history-chart").getAttribute("aria-label")).toMatch(/dashed: previous period/);
    await page.close();
  });

  it("filters by a clicked row, puts it in the URL, and Back restores the view before it", async () => {
    const { page, requests } = await open("/?range=24h#history");
    await loaded(page);
    expect(await panelText(page, "channels")).toContain("Email");
    requests.length = 0;
    await page.getByTestId("panel-channels").getByRole("button", { name: "Email", exact: true }).click();
    await expect.poll(() => page.url()).toContain("filter=channel%3Ais%3AEmail");
    expect(await chipTexts(page)).toEqual(["Channel is Email"]);
    await loaded(page);
    expect(await status(page)).toMatch(/1 filter\(s\)$/);
    // Every panel refetched, each with the filter.
    const refetched = new Set(requests.map((url) => url.pathname.replace("/v1/history/", "")));
    for (const resource of ["timeseries", "sessions", "pages", "channels", "sources", "campaigns", "countries"])
      expect(refetched, resource).toContain(resource);
    for (const url of requests) expect(url.searchParams.getAll("filter"), url.pathname).toEqual(["channel:is:Email"]);

    // A second filter from another panel, then "is not" on the first. Each view is waited for:
    // a superseded view's requests are aborted in the browser, but ClickHouse still runs them.
    await page.getByTestId("panel-pages").getByRole("button", { name: "/p/mug-blue", exact: true }).click();
    await expect.poll(() => chipTexts(page)).toEqual(["Channel is Email", "Page is /p/mug-blue"]);
    await loaded(page);
    await page.getByRole("button", { name: "Change to is not: Channel is Email" }).click();
    await expect.poll(() => chipTexts(page)).toEqual(["Channel is not Email", "Page is /p/mug-blue"]);
    expect(new URL(page.url()).searchParams.getAll("filter")).toEqual(["channel:is_not:Email", "page:is:/p/mug-blue"]);
    await loaded(page);

    await page.goBack();
    await expect.poll(() => chipTexts(page)).toEqual(["Channel is Email", "Page is /p/mug-blue"]);
    await loaded(page);
    await page.goBack();
    await expect.poll(() => chipTexts(page)).toEqual(["Channel is Email"]);
    await loaded(page);
    requests.length = 0;
    await page.goBack();
    await expect.poll(() => page.getByTestId("history-filters").isHidden()).toBe(true);
    expect(new URL(page.url()).searchParams.getAll("filter")).toEqual([]);
    // The view Back restored is loaded again, without filters.
    await loaded(page);
    expect(requests.length).toBeGreaterThan(5);
    for (const url of requests) expect(url.searchParams.getAll("filter")).toEqual([]);
    await page.close();
  });

  it("shows a custom range of whole days in the site's time zone, not the browser's", async () => {
    const { page, requests } = await open("/#history");
    await loaded(page);
    await page.locator("#history-range").selectOption("custom");
    await page.locator("#history-from").fill("2026-10-01");
    await page.locator("#history-to").fill("2026-10-31");
    requests.length = 0;
    await page.getByRole("button", { name: "Show" }).click();
    await expect.poll(() => page.url()).toContain("range=custom&from=2026-10-01&to=2026-10-31");
    await loaded(page);
    // The browser runs in Tokyo; the demo site's zone (UTC, named by every answer) wins.
    const expected = customRange("2026-10-01", "2026-10-31", SITE_ZONE);
    if (typeof expected === "string") throw new Error(expected);
    const sessions = requests.find((url) => url.pathname === "/v1/history/sessions");
    expect([Number(sessions?.searchParams.get("from")), Number(sessions?.searchParams.get("to"))]).toEqual([
      expected.from,
      expected.to,
    ]);
    expect(expected.from).toBe(Date.parse("2026-10-01T00:00:00Z"));
    // Reloading the link shows the same range.
    await page.reload();
    expect(await page.locator("#history-range").inputValue()).toBe("custom");
    expect(await page.locator("#history-from").inputValue()).toBe("2026-10-01");
    await page.close();
  });

  it("downloads a panel as CSV with exactly the rows it shows", async () => {
    const { page } = await open("/?range=24h#history");
    await loaded(page);
    const shown = await page.getByTestId("panel-channels").evaluate((panel) => ({
      header: [...panel.querySelectorAll("th")].map((cell) => cell.textContent ?? ""),
      rows: [...panel.querySelectorAll("tbody tr")].map((row) =>
        [...row.querySelectorAll("td")].map((cell) => cell.textContent ?? ""),
      ),
    }));
    expect(shown.rows.map((row) => row[0]).sort()).toEqual(["Email", "Organic Search"]);
    const download = page.waitForEvent("download");
    await page.getByRole("button", { name: "Download Channels as CSV" }).click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/^edgepulse-channels-demo-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv$/);
    const path = await file.path();
    expect(await readFile(path, "utf8")).toBe(toCsv(shown.header, shown.rows));
    await page.close();
  });

  it("fills the entry, exit and goals panels from their routes (answers parse with the protocol schemas)", async () => {
    const { page } = await open("/?range=24h#history");
    await loaded(page);
    for (const slug of ["entry-pages", "exit-pages", "goals"]) {
      const text = (await panelText(page, slug)) ?? "";
      // A table (rows or "No data"): not "not available" (a 404) and not a parse or request failure.
      expect(text.includes(NOT_AVAILABLE) || /failed|invalid/i.test(text), `${slug}: ${text}`).toBe(false);
    }
    expect(consoleErrors).toEqual([]);
    await page.close();
  });
});
