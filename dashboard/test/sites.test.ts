/**
 * The Sites page in real Chromium against the real stack: as admin, create a site, put its
 * script tag into a page served from another origin, see that page's first page view on the
 * dashboard after switching to the site; then revoke the site's token in the Sites page and
 * see a dashboard using that token refused within 10 s.
 */
import { createServer, type Server } from "node:http";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../../sdk/test/browser";
import { startStack, type Stack } from "../../test/support/stack";
import { freePort } from "../../tools/wrangler-dev";

const DOM_TIMEOUT_MS = 20_000;
const SITE = `web-${Date.now().toString(36)}`;

let stack: Stack;
let browser: Browser;
let admin: Page;
let shopServer: Server;
let shopOrigin = "";
/** The HTML the shop serves; set once the script tag was copied from the Sites page. */
let shopHtml = "<!doctype html><title>empty</title>";
const consoleErrors: string[] = [];

async function numberIn(page: Page, testId: string): Promise<number> {
  const text = (await page.getByTestId(testId).textContent()) ?? "";
  const digits = text.replace(/[^\d.]/g, "");
  return digits === "" ? Number.NaN : Number(digits);
}

beforeAll(async () => {
  const port = await freePort();
  shopOrigin = `http://127.0.0.1:${port}`;
  shopServer = createServer((_request, response) => {
    response.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
    response.end(shopHtml);
  });
  await new Promise<void>((resolve) => shopServer.listen(port, "127.0.0.1", resolve));
  [stack, browser] = await Promise.all([startStack(), launchChromium()]);
  admin = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  admin.on("pageerror", (error) => consoleErrors.push(error.message));
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  await new Promise((resolve) => shopServer?.close(resolve));
});

describe("Sites page in Chromium", () => {
  let siteToken = "";

  it("as admin, creates a site whose script tag tracks a page on another origin, seen after switching to it", async () => {
    await admin.goto(`${stack.collectorUrl}/`);
    await expect
      .poll(() => admin.locator("#connection").getAttribute("data-state"), { timeout: DOM_TIMEOUT_MS })
      .toBe("live");
    await expect
      .poll(() => admin.getByRole("tab", { name: "Sites" }).isVisible(), { timeout: DOM_TIMEOUT_MS })
      .toBe(true);
    await admin.getByRole("tab", { name: "Sites" }).click();
    await admin.getByLabel("Site key").fill(SITE);
    await admin.getByLabel("Origins", { exact: true }).fill(shopOrigin);
    await admin.getByLabel("Time zone").fill("Europe/Berlin");
    await admin.getByRole("button", { name: "Create site" }).click();
    await expect
      .poll(() => admin.getByTestId("sites-status").textContent(), { timeout: DOM_TIMEOUT_MS })
      .toContain(`Site ${SITE} created`);
    siteToken = await admin.getByTestId("created-token").inputValue();
    expect(siteToken).toMatch(/^ep_/);
    const tag = await admin.getByTestId("created-script-tag").inputValue();
    expect(tag).toBe(`<script defer src="${stack.collectorUrl}/ep.js" data-site="${SITE}"></script>`);
    await expect.poll(() => admin.getByTestId(`site-row-${SITE}`).count(), { timeout: DOM_TIMEOUT_MS }).toBe(1);

    // The shop: another origin, the copied tag in its page.
    shopHtml = `<!doctype html><html><head><title>Shop</title>${tag}</head><body><h1>Welcome to the shop</h1></body></html>`;
    const shopContext = await browser.newContext();
    // The SDK skips automated browsers; this one stands in for a real visitor.
    await shopContext.addInitScript({
      content: 'Object.defineProperty(Navigator.prototype, "webdriver", { get: () => false });',
    });
    const shop = await shopContext.newPage();
    const accepted = shop.waitForResponse(
      (response) => response.url() === `${stack.collectorUrl}/v1/events` && response.request().method() === "POST",
      { timeout: DOM_TIMEOUT_MS },
    );
    await shop.goto(`${shopOrigin}/`);
    expect((await accepted).status()).toBe(202);

    // Switch the dashboard to the new site: its first page view is there.
    await admin.getByRole("tab", { name: "Live" }).click();
    await expect
      .poll(() => admin.locator("#site-switcher option").allTextContents(), { timeout: DOM_TIMEOUT_MS })
      .toContain(SITE);
    await admin.locator("#site-switcher").selectOption(SITE);
    await expect
      .poll(() => admin.locator("#connection").getAttribute("data-state"), { timeout: DOM_TIMEOUT_MS })
      .toBe("live");
    await expect.poll(() => numberIn(admin, "live-page-views"), { timeout: DOM_TIMEOUT_MS }).toBe(1);
    await shopContext.close();
    expect(consoleErrors).toEqual([]);
  });

  it("revoking the token in the Sites page refuses a dashboard using it within 10 s", async () => {
    const viewerContext = await browser.newContext();
    const viewer = await viewerContext.newPage();
    await viewer.goto(`${stack.collectorUrl}/`);
    // On localhost the page starts with the dev admin token, whose check shows the Sites tab.
    await expect
      .poll(() => viewer.getByRole("tab", { name: "Sites" }).isVisible(), { timeout: DOM_TIMEOUT_MS })
      .toBe(true);
    // The viewer's own check answers late (held 2 s, then the real answer: a slow network, not
    // a fake one); until then the tab must not stay from the admin token.
    await viewer.route("**/v1/sites", async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      await route.continue();
    });
    await viewer.locator("#site").fill(SITE);
    await viewer.locator("#token").fill(siteToken);
    await viewer.getByRole("button", { name: "Connect" }).click();
    expect(await viewer.getByRole("tab", { name: "Sites" }).isVisible()).toBe(false);
    await expect
      .poll(() => viewer.locator("#connection").getAttribute("data-state"), { timeout: DOM_TIMEOUT_MS })
      .toBe("live");
    await expect.poll(() => numberIn(viewer, "live-page-views"), { timeout: DOM_TIMEOUT_MS }).toBe(1);
    expect(await viewer.getByRole("tab", { name: "Sites" }).isVisible()).toBe(false);

    await admin.getByRole("tab", { name: "Sites" }).click();
    const row = admin.getByTestId(`site-row-${SITE}`);
    const revoked = Date.now();
    await row.getByRole("button", { name: /^Revoke token/ }).click();
    await expect
      .poll(() => viewer.locator("#connection").getAttribute("data-state"), { timeout: 10_000, interval: 200 })
      .toBe("unauthorized");
    expect(Date.now() - revoked).toBeLessThan(10_000);
    expect(await viewer.locator("#connection-text").textContent()).toContain("refused");
    await expect
      .poll(() => admin.getByTestId("sites-status").textContent(), { timeout: DOM_TIMEOUT_MS })
      .toContain("revoked");
    await viewerContext.close();
    expect(consoleErrors).toEqual([]);
  });
});
