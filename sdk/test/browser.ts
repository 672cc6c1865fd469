/** Real Chromium for the SDK's browser tests: Debian's build, driven by playwright-core. */
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  // Headless Chromium says "HeadlessChrome", which the collector refuses as a bot's
  // (worker/bot-filter.ts); the tests are a person's browser.
  "--user-agent=Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
];

/** `backForwardCache` keeps Chromium's bfcache on (Playwright turns it off by default). */
export const launchChromium = ({ backForwardCache = false } = {}): Promise<Browser> =>
  chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: CHROMIUM_ARGS,
    ignoreDefaultArgs: backForwardCache ? ["--disable-back-forward-cache"] : [],
  });

/** Polls `check` until it returns a truthy value, or fails with `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutMs = 10_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
