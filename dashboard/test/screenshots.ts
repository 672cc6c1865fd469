/**
 * Regenerates the dashboard screenshots in docs/ (`npx tsx dashboard/test/screenshots.ts`): a fresh
 * stack with `npm run dev`'s window settings, a minute of `npm run demo` traffic plus a few
 * purchases in the demo shop, then the live view (desktop and phone, and filtered by a channel)
 * and the history view. `npx tsx dashboard/test/screenshots.ts live-filtered` makes only the
 * filtered live view's (half a minute of demo traffic).
 * `npx tsx dashboard/test/screenshots.ts alerts` makes only the Alerts tab's (a stack with
 * 1 s windows, demo traffic that stops, two rules, one of which fires and resolves).
 * The browser test saves its own screenshots to test-results/ on every run.
 */
import { join } from "node:path";
import type { Page } from "playwright-core";
import { launchChromium } from "../../sdk/test/browser";
import { startStack } from "../../test/support/stack";
import { startWebhookReceiver } from "../../test/support/webhook-receiver";
import { runDemo } from "../../tools/demo";

const DOCS = join(import.meta.dirname, "../../docs");
/** The SDK leaves automated browsers alone; the shopper here stands in for a person. */
const NOT_AUTOMATED = 'Object.defineProperty(Navigator.prototype, "webdriver", { get: () => false });';

async function overviewScreenshots(): Promise<void> {
  // Sessions close after a minute idle, so the channel, campaign, entry and exit panels fill.
  const stack = await startStack({
    vars: { WINDOW_SECONDS: "10", ALLOWED_LATENESS_SECONDS: "5", SHARDS: "8", SESSION_IDLE_MINUTES: "1" },
  });
  const browser = await launchChromium();
  try {
    const url = stack.collectorUrl;
    const traffic = runDemo({ url, durationMs: 60_000, sessionsPerSecond: 3, speedup: 4, maxBatches: 5000 });
    const shopper = await browser.newContext();
    await shopper.addInitScript({ content: NOT_AUTOMATED });
    const shop = await shopper.newPage();
    await shop.goto(`${url}/demo/`);
    for (const id of ["mug-blue", "kettle-pourover", "beans-espresso"]) {
      await shop.getByTestId(`view-${id}`).click();
      await shop.getByTestId(`detail-add-${id}`).click();
      await shop.getByTestId("checkout").click();
      await shop.getByTestId("buy").click();
      await shop.waitForTimeout(700);
    }
    await shop.getByTestId("add-towel-tea").click();

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${url}/`);
    await page.waitForTimeout(45_000);
    await page.screenshot({ path: join(DOCS, "dashboard-live.png"), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(500);
    await page.screenshot({ path: join(DOCS, "dashboard-phone.png") });
    await page.setViewportSize({ width: 1280, height: 900 });
    await liveFilteredScreenshot(page, url);
    await traffic;
    // Let the last windows seal and flush, and the sessions close (a minute idle) and flush.
    await stack.waitForRows("SELECT toUInt64(count() >= 50) FROM sessions WHERE site = 'demo'", {}, 1, 150_000);
    const settled = () =>
      page.waitForFunction(
        () => document.querySelector('[data-testid="history-status"]')?.getAttribute("data-state") === "settled",
        null,
        { timeout: 120_000 },
      );
    await page.goto(`${url}/?range=24h&compare=previous#history`);
    await settled();
    await page.screenshot({ path: join(DOCS, "dashboard-history.png"), fullPage: true });
    await page.goto(`${url}/?range=24h&filter=channel:is:Organic%20Search&filter=device:is_not:mobile#history`);
    await settled();
    await page.screenshot({ path: join(DOCS, "dashboard-history-filtered.png"), fullPage: true });
    console.log(`screenshots written to ${DOCS}`);
  } finally {
    await browser.close();
    await stack.stop();
  }
}

/** The Live tab filtered by a channel: figures from ClickHouse, with the chip and the note. */
async function liveFilteredScreenshot(page: Page, url: string): Promise<void> {
  await page.goto(`${url}/?filter=channel:is:Organic%20Search#live`);
  await page.waitForFunction(
    () => document.querySelector('[data-testid="live-source"]')?.textContent?.includes("from ClickHouse") === true,
    null,
    { timeout: 60_000 },
  );
  // A few polls, so the chart has filled in.
  await page.waitForTimeout(6_000);
  await page.screenshot({ path: join(DOCS, "dashboard-live-filtered.png"), fullPage: true });
}

/** The Alerts tab with rules of every kind, one of which fired, resolved and fired again. */
async function alertsScreenshot(): Promise<void> {
  const stack = await startStack();
  const receiver = await startWebhookReceiver();
  const browser = await launchChromium();
  try {
    const url = stack.collectorUrl;
    const create = async (name: string, condition: object, extra: object = {}) => {
      const response = await fetch(`${url}/v1/alerts`, {
        method: "POST",
        headers: { Authorization: `Bearer ${stack.adminToken}`, "Content-Type": "application/json" },
        body: JSON.stringify({
          site: "demo",
          name,
          condition,
          webhook: { url: `${receiver.url}/hook/shots` },
          ...extra,
        }),
      });
      if (response.status !== 201) throw new Error(`creating ${name}: ${response.status} ${await response.text()}`);
    };
    await create("Tracking stopped", { kind: "no_data", span_seconds: 4 });
    await create(
      "Checkouts down 50 %",
      {
        kind: "change",
        metric: "checkouts",
        span_seconds: 3600,
        baseline: "last_week",
        direction: "down",
        tolerance_pct: 50,
        min_baseline: 20,
      },
      { for_seconds: 300 },
    );
    await create(
      "Slow LCP",
      { kind: "threshold", metric: "lcp_p75", span_seconds: 300, op: ">", value: 4000, hysteresis: 500 },
      { webhook: { url: `${receiver.url}/hook/shots`, format: "slack" } },
    );
    await create(
      "Conversion under 1 %",
      { kind: "threshold", metric: "conversion_rate", span_seconds: 3600, op: "<", value: 1 },
      { enabled: false },
    );
    const traffic = (seconds: number) =>
      runDemo({ url, durationMs: seconds * 1000, sessionsPerSecond: 3, speedup: 4, maxBatches: 5000 });
    await traffic(12);
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    await traffic(10);
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${url}/#alerts`);
    await page.getByRole("button", { name: "History Tracking stopped" }).click();
    await page.waitForFunction(
      () => (document.querySelector('[data-testid="alert-history"] tbody')?.children.length ?? 0) >= 2,
    );
    await page.screenshot({ path: join(DOCS, "dashboard-alerts.png"), fullPage: true });
    console.log(`screenshot written to ${join(DOCS, "dashboard-alerts.png")}`);
  } finally {
    await browser.close();
    await receiver.close();
    await stack.stop();
  }
}

/** Only the filtered live view: half a minute of demo traffic, then the Live tab filtered by a channel. */
async function liveFilteredOnly(): Promise<void> {
  const stack = await startStack({ vars: { WINDOW_SECONDS: "10", ALLOWED_LATENESS_SECONDS: "5", SHARDS: "8" } });
  const browser = await launchChromium();
  try {
    const url = stack.collectorUrl;
    const traffic = runDemo({ url, durationMs: 40_000, sessionsPerSecond: 3, speedup: 4, maxBatches: 5000 });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.waitForTimeout(30_000);
    await liveFilteredScreenshot(page, url);
    await traffic;
    console.log(`screenshot written to ${join(DOCS, "dashboard-live-filtered.png")}`);
  } finally {
    await browser.close();
    await stack.stop();
  }
}

const only = process.argv[2];
await (only === "alerts" ? alertsScreenshot() : only === "live-filtered" ? liveFilteredOnly() : overviewScreenshots());
