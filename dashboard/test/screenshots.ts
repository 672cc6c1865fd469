/**
 * Regenerates the dashboard screenshots in docs/ (`npx tsx dashboard/test/screenshots.ts`): a fresh
 * stack with `npm run dev`'s window settings, a minute of `npm run demo` traffic plus a few
 * purchases in the demo shop, then the live view (desktop and phone) and the history view.
 * The browser test saves its own screenshots to test-results/ on every run.
 */
import { join } from "node:path";
import { launchChromium } from "../../sdk/test/browser";
import { startStack } from "../../test/support/stack";
import { runDemo } from "../../tools/demo";

const DOCS = join(import.meta.dirname, "../../docs");
/** The SDK leaves automated browsers alone; the shopper here stands in for a person. */
const NOT_AUTOMATED = 'Object.defineProperty(Navigator.prototype, "webdriver", { get: () => false });';

const stack = await startStack({ vars: { WINDOW_SECONDS: "10", ALLOWED_LATENESS_SECONDS: "5", SHARDS: "8" } });
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
  await traffic;
  // Let the last windows seal and flush (10 s windows + 5 s lateness).
  await page.waitForTimeout(20_000);
  await page.getByRole("tab", { name: "History" }).click();
  await page.waitForFunction(() => document.querySelector('[data-testid="history-status"]')?.textContent?.startsWith("demo:"));
  await page.screenshot({ path: join(DOCS, "dashboard-history.png"), fullPage: true });
  console.log(`screenshots written to ${DOCS}`);
} finally {
  await browser.close();
  await stack.stop();
}
