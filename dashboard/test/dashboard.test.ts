/**
 * The dashboard and the demo shop in real Chromium against the real stack (wrangler dev with
 * workerd and Durable Objects, the embedded ClickHouse): it connects and renders without
 * console errors, moves when events arrive, shows a click in the demo shop, shows flushed
 * history that agrees with the live windows, and runs (and refuses) SQL. Screenshots of the
 * live and history views go to test-results/ (docs/ has richer ones: dashboard/test/screenshots.ts).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BatchInput, EventInput } from "../../protocol";
import { historyPagesSchema, historyProductsSchema, historyTimeseriesSchema } from "../../protocol/history";
import { windowsResponseSchema } from "../../protocol/live";
import { launchChromium } from "../../sdk/test/browser";
import { startStack, type Stack } from "../../test/support/stack";
import { runDemo } from "../../tools/demo";
import { BROWSER_USER_AGENT } from "../../test/support/browser-user-agent";

const RESULTS_DIR = "test-results";
/** Window sealing (1 s windows, 1 s lateness) plus a flush, on a busy two-core machine. */
const FLUSH_TIMEOUT_MS = 60_000;
const DOM_TIMEOUT_MS = 20_000;

let stack: Stack;
let browser: Browser;
let dashboard: Page;
const consoleErrors: string[] = [];
const runId = Date.now().toString(36);
let sequence = 0;

async function postEvents(events: EventInput[], visitor = `v-${runId}`): Promise<void> {
  const batch: BatchInput = {
    v: 1,
    site: "demo",
    batch: `b-${runId}-${sequence++}`,
    sent_at: Date.now(),
    visitor,
    events,
  };
  const response = await fetch(`${stack.collectorUrl}/v1/events`, {
    method: "POST",
    headers: { "Content-Type": "text/plain", "User-Agent": BROWSER_USER_AGENT },
    body: JSON.stringify(batch),
  });
  expect(response.status, await response.text()).toBe(202);
}

async function numberIn(page: Page, testId: string): Promise<number> {
  const text = (await page.getByTestId(testId).textContent()) ?? "";
  const digits = text.replace(/[^\d.]/g, "");
  return digits === "" ? Number.NaN : Number(digits);
}

async function showTab(page: Page, name: "Live" | "History" | "SQL" | "Alerts"): Promise<void> {
  await page.getByRole("tab", { name }).click();
}

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, name);
  await page.screenshot({ path, fullPage: true });
}

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack(), launchChromium()]);
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  dashboard = await context.newPage();
  dashboard.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  dashboard.on("pageerror", (error) => consoleErrors.push(error.message));
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe("dashboard in Chromium", () => {
  it("connects on localhost with the pre-filled dev token and renders without console errors", async () => {
    await dashboard.goto(`${stack.collectorUrl}/`);
    await expect
      .poll(() => dashboard.locator("#connection").getAttribute("data-state"), { timeout: DOM_TIMEOUT_MS })
      .toBe("live");
    expect(await dashboard.locator("#token").inputValue()).toBe("dev-admin-token");
    // The tile shows a dash until the first snapshot renders; the stack is fresh and nothing
    // has been sent yet, so the rendered count is exactly zero.
    await expect.poll(() => dashboard.getByTestId("live-online").textContent(), { timeout: DOM_TIMEOUT_MS }).toBe("0");
    expect(await dashboard.locator("#live-chart canvas").count()).toBeGreaterThan(0);
    expect(consoleErrors).toEqual([]);
  });

  it("moves when events are posted to the collector", async () => {
    const before = await numberIn(dashboard, "live-page-views");
    const now = Date.now();
    await postEvents([
      { type: "page_view", id: "p1", ts: now, url: "https://shop.example/", referrer: "https://news.example/" },
      { type: "page_view", id: "p2", ts: now + 1, url: "https://shop.example/p/mug-blue" },
      { type: "page_view", id: "p3", ts: now + 2, url: "https://shop.example/p/mug-blue" },
      { type: "vital", id: "v1", ts: now + 3, url: "https://shop.example/p/mug-blue", metric: "LCP", value: 4800 },
    ]);
    await expect.poll(() => numberIn(dashboard, "live-page-views"), { timeout: DOM_TIMEOUT_MS }).toBe(before + 3);
    await expect
      .poll(() => dashboard.getByRole("region", { name: "Top pages today", exact: true }).textContent(), {
        timeout: DOM_TIMEOUT_MS,
      })
      .toContain("/p/mug-blue");
    // 4.8 s is a poor LCP: coloured and labelled as such.
    await expect
      .poll(() => dashboard.locator('[data-rating="poor"]').count(), { timeout: DOM_TIMEOUT_MS })
      .toBeGreaterThan(0);
    expect(consoleErrors).toEqual([]);
  });

  it("shows a purchase made in the demo shop, which also reaches ClickHouse", async () => {
    const shopContext = await browser.newContext();
    // The SDK skips automated browsers; this one stands in for a real shopper.
    await shopContext.addInitScript({
      content: 'Object.defineProperty(Navigator.prototype, "webdriver", { get: () => false });',
    });
    const shop = await shopContext.newPage();
    const ordersBefore = await numberIn(dashboard, "live-orders");
    const cartAddsBefore = await numberIn(dashboard, "live-funnel-cart_adds");
    await shop.goto(`${stack.collectorUrl}/demo/`);
    await shop.getByTestId("view-kettle-pourover").click();
    await shop.getByTestId("detail-add-kettle-pourover").click();
    await expect
      .poll(() => numberIn(dashboard, "live-funnel-cart_adds"), { timeout: DOM_TIMEOUT_MS })
      .toBeGreaterThan(cartAddsBefore);
    await shop.getByTestId("checkout").click();
    await shop.getByTestId("buy").click();
    await expect.poll(() => numberIn(dashboard, "live-orders"), { timeout: DOM_TIMEOUT_MS }).toBe(ordersBefore + 1);
    await expect
      .poll(() => dashboard.getByRole("region", { name: "Top products today", exact: true }).textContent(), {
        timeout: DOM_TIMEOUT_MS,
      })
      .toContain("Pour-over kettle");
    await stack.waitForRows(
      "SELECT count() FROM events WHERE site = 'demo' AND type = 'purchase' AND items LIKE '%kettle-pourover%'",
      {},
      1,
      FLUSH_TIMEOUT_MS,
    );
    await shopContext.close();
    expect(consoleErrors).toEqual([]);
  });

  it("moves with `npm run demo` traffic (overlapping generated visits)", async () => {
    const before = await numberIn(dashboard, "live-page-views");
    const report = await runDemo({
      url: stack.collectorUrl,
      durationMs: 4000,
      sessionsPerSecond: 4,
      speedup: 40,
      maxBatches: 400,
    });
    expect(report.rejected).toEqual({});
    expect(report.acceptedEvents).toBe(report.events);
    await expect
      .poll(() => numberIn(dashboard, "live-page-views"), { timeout: DOM_TIMEOUT_MS })
      .toBeGreaterThan(before);
    await expect
      .poll(() => dashboard.locator('[data-rating="good"]').count(), { timeout: DOM_TIMEOUT_MS })
      .toBeGreaterThan(0);
    await screenshot(dashboard, "dashboard-live.png");
    expect(consoleErrors).toEqual([]);
  });

  it("shows flushed rows in the history view, agreeing with the live windows", async () => {
    // Once the demo traffic has settled and its windows sealed, the live totals and
    // window_metrics hold the same page views and orders (the traffic may have bought something
    // too, so the count is read, not assumed). Compared as one pair, read together.
    const liveAndFlushed = async () => {
      const [flushed] = await stack.clickhouse.query<{ page_views: number; purchases: number }>(
        "SELECT sum(page_views) AS page_views, sum(purchases) AS purchases FROM window_metrics WHERE site = 'demo'",
      );
      return {
        live: [await numberIn(dashboard, "live-page-views"), await numberIn(dashboard, "live-orders")],
        flushed: [flushed?.page_views, flushed?.purchases],
      };
    };
    await expect
      .poll(
        async () => {
          const { live, flushed } = await liveAndFlushed();
          // Both pairs in the answer, so a failure shows what each layer held.
          return { live, flushed, agree: live.join("/") === flushed.join("/") };
        },
        { timeout: FLUSH_TIMEOUT_MS, interval: 500 },
      )
      .toMatchObject({ agree: true });
    const livePageViews = await numberIn(dashboard, "live-page-views");
    expect(await numberIn(dashboard, "live-orders")).toBeGreaterThanOrEqual(1);
    await showTab(dashboard, "History");
    await expect.poll(() => numberIn(dashboard, "history-page-views"), { timeout: DOM_TIMEOUT_MS }).toBe(livePageViews);
    // The tables show the top rows only, and the demo traffic before this test decides which
    // pages and products those are: expect the ones ClickHouse ranks first for the last hour.
    const headers = { Authorization: `Bearer ${stack.adminToken}` };
    const lastHour = `site=demo&from=${Date.now() - 3600_000}&to=${Date.now()}`;
    const pages = historyPagesSchema.parse(
      await (await fetch(`${stack.collectorUrl}/v1/history/pages?${lastHour}`, { headers })).json(),
    );
    const products = historyProductsSchema.parse(
      await (await fetch(`${stack.collectorUrl}/v1/history/products?${lastHour}&limit=100`, { headers })).json(),
    );
    const topPage = pages.rows[0]?.path;
    const topProduct = products.rows[0]?.name;
    if (topPage === undefined || topProduct === undefined)
      throw new Error("history has no pages or products for the last hour");
    // The kettle bought in the demo shop is among the products ClickHouse holds.
    expect(products.rows.map((row) => row.name)).toContain("Pour-over kettle");
    await expect
      .poll(() => dashboard.getByRole("region", { name: "Pages", exact: true }).textContent(), {
        timeout: DOM_TIMEOUT_MS,
      })
      .toContain(topPage);
    await expect
      .poll(() => dashboard.getByRole("region", { name: "Products", exact: true }).textContent(), {
        timeout: DOM_TIMEOUT_MS,
      })
      .toContain(topProduct);
    // Every part answered: the status line names the range instead of "Loading…" or a failure.
    await expect
      .poll(() => dashboard.getByTestId("history-status").textContent(), { timeout: DOM_TIMEOUT_MS })
      .toMatch(/^demo: /);

    // Window by window, for the sealed windows both layers hold, page views are identical.
    const live = windowsResponseSchema.parse(
      await (await fetch(`${stack.collectorUrl}/v1/metrics/windows?site=demo&limit=360`, { headers })).json(),
    );
    const to = Date.now() + 1000;
    const history = historyTimeseriesSchema.parse(
      await (
        await fetch(
          `${stack.collectorUrl}/v1/history/timeseries?site=demo&from=${to - 600_000}&to=${to}&interval=${live.window_seconds}`,
          { headers },
        )
      ).json(),
    );
    const historyByStart = new Map(history.points.map((point) => [point.start, point.page_views]));
    const sealed = live.windows.filter((window) => window.page_views > 0 && historyByStart.has(window.start));
    expect(sealed.length).toBeGreaterThan(0);
    for (const window of sealed)
      expect(historyByStart.get(window.start), `window ${window.start}`).toBe(window.page_views);

    await screenshot(dashboard, "dashboard-history.png");
    expect(consoleErrors).toEqual([]);
  });

  it("runs a SQL query, offers CSV, and refuses a write", async () => {
    await showTab(dashboard, "SQL");
    await dashboard
      .getByLabel("SQL query (SELECT only)")
      .fill("SELECT type, count() AS events FROM events GROUP BY type ORDER BY type");
    await dashboard.getByRole("button", { name: "Run query" }).click();
    await expect
      .poll(() => dashboard.getByTestId("sql-result").textContent(), { timeout: DOM_TIMEOUT_MS })
      .toContain("purchase");
    const download = dashboard.waitForEvent("download");
    await dashboard.getByRole("button", { name: "Download CSV" }).click();
    expect((await download).suggestedFilename()).toMatch(/^edgepulse-demo-.*\.csv$/);

    await dashboard
      .getByLabel("SQL query (SELECT only)")
      .fill("INSERT INTO events (site, type) VALUES ('demo', 'page_view')");
    // Ctrl+Enter runs it, as the help text says.
    await dashboard.getByLabel("SQL query (SELECT only)").press("Control+Enter");
    await expect
      .poll(() => dashboard.getByTestId("sql-status").textContent(), { timeout: DOM_TIMEOUT_MS })
      .toMatch(/^Refused: query refused/);
    expect(await dashboard.getByTestId("sql-result").count()).toBe(0);
    // The refused answer is a 403 the browser logs as a failed resource; nothing else may be logged.
    expect(consoleErrors.filter((text) => !/status of 403/.test(text))).toEqual([]);
  });

  it("shows a lost connection, reconnects with backoff and resynchronises from the snapshot", async () => {
    await showTab(dashboard, "Live");
    const pageViews = await numberIn(dashboard, "live-page-views");
    await stack.stopWorker();
    await expect
      .poll(() => dashboard.locator("#connection").getAttribute("data-state"), { timeout: DOM_TIMEOUT_MS })
      .toBe("reconnecting");
    expect(await dashboard.locator("#connection-text").textContent()).toMatch(/retrying in \d+ s/);
    await stack.startWorker();
    await expect
      .poll(() => dashboard.locator("#connection").getAttribute("data-state"), { timeout: 60_000 })
      .toBe("live");
    // The hub's state survived in Durable Object storage; the new snapshot carries it whole.
    expect(await numberIn(dashboard, "live-page-views")).toBe(pageViews);
    const now = Date.now();
    await postEvents([{ type: "page_view", id: "after-restart", ts: now, url: "https://shop.example/after-restart" }]);
    await expect.poll(() => numberIn(dashboard, "live-page-views"), { timeout: DOM_TIMEOUT_MS }).toBe(pageViews + 1);
    // Failed connection attempts while the collector was down are logged by the browser (refused,
    // or reset when the kill cut a request in flight), and so is the dashboard's token check after
    // a failed attempt (live-connection.ts, tokenRejected) when the collector is already back: a
    // plain GET of /v1/live with a valid token is answered 426, "send Upgrade: websocket". Nothing
    // else may be logged.
    expect(
      consoleErrors.filter((text) => !/WebSocket|ERR_CONNECTION_(REFUSED|RESET)|status of (403|426)/.test(text)),
    ).toEqual([]);
  });

  it("says so when the token is refused", async () => {
    const page = await browser.newPage();
    await page.goto(`${stack.collectorUrl}/#live`);
    await page.locator("#token").fill("not-the-token");
    await page.getByRole("button", { name: "Connect" }).click();
    await expect
      .poll(() => page.locator("#connection").getAttribute("data-state"), { timeout: DOM_TIMEOUT_MS })
      .toBe("unauthorized");
    expect(await page.locator("#connection-text").textContent()).toMatch(/token was refused/);
    await page.close();
  });

  it("keeps retrying, and does not call a good token refused, when the hub turns its socket away", async () => {
    // Fill this client's socket cap (LIVE_MAX_SOCKETS_PER_CLIENT) with sockets of the admin
    // token: the next upgrade is answered 429 before it opens, as when too many tabs are open.
    const held: WebSocket[] = [];
    const socketUrl = `${stack.collectorUrl.replace(/^http/, "ws")}/v1/live?site=demo&token=${stack.adminToken}`;
    for (let refused = false; !refused && held.length < 100; ) {
      const socket = new WebSocket(socketUrl);
      refused = await new Promise<boolean>((resolve) => {
        socket.addEventListener("open", () => resolve(false));
        socket.addEventListener("close", () => resolve(true));
      });
      if (!refused) held.push(socket);
    }
    expect(held.length).toBeLessThan(100);
    const page = await browser.newPage();
    try {
      await page.goto(`${stack.collectorUrl}/#live`);
      await expect
        .poll(() => page.locator("#connection").getAttribute("data-state"), { timeout: DOM_TIMEOUT_MS })
        .toBe("reconnecting");
      expect(await page.locator("#connection-text").textContent()).toMatch(/retrying in \d+ s/);
      for (const socket of held) socket.close(1000, "test done");
      await expect.poll(() => page.locator("#connection").getAttribute("data-state"), { timeout: 60_000 }).toBe("live");
    } finally {
      for (const socket of held) socket.close(1000, "test done");
      await page.close();
    }
  });

  it("works from the keyboard, and every control has a label", async () => {
    await showTab(dashboard, "Live");
    await dashboard.getByRole("tab", { name: "Live" }).focus();
    await dashboard.keyboard.press("ArrowRight");
    expect(await dashboard.getByRole("tab", { name: "History" }).getAttribute("aria-selected")).toBe("true");
    expect(await dashboard.locator("#panel-history").isVisible()).toBe(true);
    // The admin token also has the Sites tab, the last one.
    await dashboard.keyboard.press("End");
    expect(await dashboard.getByRole("tab", { name: "Sites" }).getAttribute("aria-selected")).toBe("true");
    expect(await dashboard.evaluate(() => document.activeElement?.id)).toBe("tab-sites");
    await dashboard.keyboard.press("ArrowLeft");
    expect(await dashboard.getByRole("tab", { name: "Alerts" }).getAttribute("aria-selected")).toBe("true");
    await dashboard.keyboard.press("ArrowLeft");
    expect(await dashboard.getByRole("tab", { name: "SQL" }).getAttribute("aria-selected")).toBe("true");
    const unlabelled = await dashboard.evaluate(() =>
      [
        ...document.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>(
          "input, select, textarea",
        ),
      ]
        .filter((control) => control.labels?.length === 0 && !control.getAttribute("aria-label"))
        .map((control) => control.id || control.outerHTML),
    );
    expect(unlabelled).toEqual([]);
    await dashboard.keyboard.press("Home");
  });

  it("fits a phone screen without horizontal scrolling", async () => {
    await dashboard.setViewportSize({ width: 375, height: 800 });
    await showTab(dashboard, "Live");
    await expect
      .poll(() => dashboard.evaluate(() => document.documentElement.scrollWidth), { timeout: DOM_TIMEOUT_MS })
      .toBeLessThanOrEqual(375);
    await dashboard.setViewportSize({ width: 1280, height: 900 });
  });

  it("reports render timings (printed for the performance note, not asserted)", async () => {
    const timings = await dashboard.evaluate(() => ({
      firstRender: performance.getEntriesByName("edgepulse:first-render")[0]?.startTime ?? -1,
      domContentLoaded:
        performance
          .getEntriesByType("navigation")
          .map((entry) => (entry as PerformanceNavigationTiming).domContentLoadedEventEnd)[0] ?? -1,
      renders: performance.getEntriesByName("edgepulse:render").map((entry) => entry.duration),
    }));
    const sorted = [...timings.renders].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] ?? -1;
    console.log(
      `dashboard timings: DOMContentLoaded ${timings.domContentLoaded.toFixed(0)} ms, first live render ${timings.firstRender.toFixed(0)} ms after navigation start; ` +
        `${sorted.length} renders, median ${median.toFixed(2)} ms, max ${(sorted.at(-1) ?? -1).toFixed(2)} ms`,
    );
    expect(timings.renders.length).toBeGreaterThan(0);
  });
});
