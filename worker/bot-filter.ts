/**
 * Which requests are bots', by their User-Agent, with the maintained `isbot` list (crawlers,
 * link previewers, monitoring, HTTP libraries, headless browsers). A bot's batch is answered
 * 202 and never stored (routes/events.ts), so bots are out of every count, live and history,
 * and counted by site in `/metrics` (`edgepulse_bot_batches_total`).
 *
 * A request without a User-Agent is not called a bot: `isbot` does not, and an app's own
 * backend sending events with an explicit visitor may have none. Nor is an HTTP client library
 * (curl, Node's fetch, python-requests …), which `isbot` lists: crawlers and headless browsers
 * load pages and run the tracker, whereas a library's batch is someone's backend posting on
 * purpose (server-side purchases, imports, the README's curl walkthrough).
 */
import { isbot } from "isbot";
import { LruCache } from "./lru-cache";

/** As in user-agent.ts: a hostile header is cut before any regex sees it. */
const MAX_USER_AGENT_LENGTH = 512;
const verdictByHeader = new LruCache<string, boolean>(2_000);
/** HTTP client libraries by the product token their User-Agent starts with. */
const HTTP_CLIENT_LIBRARY =
  /^(curl|wget|node|undici|node-fetch|axios|got|python-requests|python-urllib|python-httpx|aiohttp|go-http-client|okhttp|java|apache-httpclient|ruby|faraday|guzzlehttp|php|dart|rest-client|httpie|postmanruntime|insomnia)\b/i;

export function isBotUserAgent(header: string | null | undefined): boolean {
  const userAgent = (header ?? "").slice(0, MAX_USER_AGENT_LENGTH).trim();
  if (userAgent === "") return false;
  const cached = verdictByHeader.get(userAgent);
  if (cached !== undefined) return cached;
  const verdict = !HTTP_CLIENT_LIBRARY.test(userAgent) && isbot(userAgent);
  verdictByHeader.set(userAgent, verdict);
  return verdict;
}
