/**
 * A desktop Chrome User-Agent for requests the tests send from Node: Node's own ("node") and
 * headless Chromium's ("HeadlessChrome") are bots' to the collector (worker/bot-filter.ts),
 * whose batches are answered 202 and never stored.
 */
export const BROWSER_USER_AGENT =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
