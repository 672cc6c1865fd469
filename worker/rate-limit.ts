/**
 * Rate limits for `POST /v1/events`, answering 429 `rate_limited` with Retry-After (the SDK
 * waits that long and resends the same batch id). Nothing here waits on another Durable
 * Object: a site's batches are not funnelled through one object, which on Cloudflare sits in
 * one location and would cap the site at one object's throughput.
 *
 * Per client: Cloudflare's Rate Limiting binding `CLIENT_RATE_LIMIT` (wrangler.toml
 * `[[ratelimits]]`: 100 requests per 10 s, counted per Cloudflare location), keyed by an
 * HMAC of (site, client network) under VISITOR_SECRET. The network is the IP, or its /64 for
 * IPv6 (one subscriber's block), and never the User-Agent: rotating the User-Agent is free,
 * so a key containing it could be escaped at will. Requests refused before the limiter
 * (invalid or oversized bodies, unknown sites) count too, under the key of (no site,
 * network), and are answered 429 once that is over: a flood of 60 KB garbage is limited
 * like a flood of good batches. The binding cannot be configured by vars (Cloudflare fixes
 * its limit and its 10 or 60 s period at deploy time); RATE_LIMIT_CLIENT_PER_SECOND = 0
 * turns it off.
 *
 * Per site: split over the site's shards, each enforcing its share in memory
 * (durable-objects/ingest-shard/shard-admission.ts), so the check costs no extra hop. The Worker sends the
 * share with every batch: RATE_LIMIT_SITE_PER_SECOND (1000) and RATE_LIMIT_SITE_BURST (2 ×
 * rate), divided by SHARDS.
 *
 * If the binding cannot be reached, the request passes: losing analytics to a hiccup of the
 * protection in front of it is the worse failure.
 */
import type { Context, MiddlewareHandler } from "hono";
import { hmacSha256, randomHex, toHex } from "../common/crypto";
import { loadConfig, type RateLimits } from "../common/config";
import type { BudgetLimit } from "../protocol";
import type { AppEnv } from "./app-env";
import { clientIp } from "./client-ip";
import { ApiError } from "./errors";

/**
 * The binding's period (wrangler.toml `[[ratelimits]] simple.period`; Cloudflare allows 10
 * or 60). Its counters restart at each multiple of the period on the wall clock, so a
 * refused client can go again when the current period ends: that is the Retry-After.
 */
export const CLIENT_LIMIT_PERIOD_SECONDS = 10;
/** Key prefix of requests refused before their site was known. */
const NO_SITE = "";

/** The limits configured by vars (common/config.ts parses them once per isolate with the rest). */
export function rateLimitsFrom(env: object): RateLimits {
  return loadConfig(env).rateLimits;
}

/**
 * One shard's share of the site's limit. The burst is split too, but never below one batch,
 * so a small site limit over many shards still lets each shard take something.
 */
export function shardSiteBudget(site: BudgetLimit | null, shards: number): BudgetLimit | null {
  if (site === null) return null;
  return { perSecond: site.perSecond / shards, burst: Math.max(1, site.burst / shards) };
}

/**
 * The part of an address that one client controls: an IPv4 address, or the /64 of an IPv6
 * one (a subscriber gets a whole /64 and can use any address in it).
 */
export function clientNetwork(ip: string): string {
  if (!ip.includes(":")) return ip;
  const [head = "", tail] = ip.toLowerCase().split("::", 2);
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === undefined || tail === "" ? [] : tail.split(":");
  const missing = tail === undefined ? 0 : Math.max(0, 8 - headGroups.length - tailGroups.length);
  const groups = [...headGroups, ...Array<string>(missing).fill("0"), ...tailGroups];
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

/** Only used when VISITOR_SECRET is unset: keys then differ per isolate, which is lenient. */
let isolateSalt: string | null = null;
function fallbackSalt(): string {
  isolateSalt ??= randomHex(16);
  return isolateSalt;
}

/** HMAC-SHA256 of (site, client network), 16 bytes in hex: stable per client, not reversible. */
export async function clientRateLimitKey(salt: string, site: string, ip: string): Promise<string> {
  // The key has a prefix, so it never equals the visitor-id key. Newline-separated: neither a
  // site key nor an address contains one, so the message is unambiguous.
  return toHex(await hmacSha256(`rate-limit\n${salt}`, `${site}\n${clientNetwork(ip)}`), 16);
}

function saltOf(c: Context<AppEnv>): string {
  return c.get("config").visitorSecret ?? fallbackSalt();
}

/** The client's key for `site`: what the binding counts, and what a shard bounds the backlog share of. */
export function clientKeyFor(c: Context<AppEnv>, site: string): Promise<string> {
  return clientRateLimitKey(saltOf(c), site, clientIp(c.req.raw.headers));
}

/** Whole seconds until the binding's current period ends (its counters restart then). */
export function secondsToNextPeriod(now: number, periodSeconds = CLIENT_LIMIT_PERIOD_SECONDS): number {
  const periodMs = periodSeconds * 1000;
  return Math.max(1, Math.ceil((periodMs - (now % periodMs)) / 1000));
}

/** Counts a request against the client's limit; false when the client is over it. */
async function withinClientLimit(c: Context<AppEnv>, key: string): Promise<boolean> {
  try {
    return (await c.env.CLIENT_RATE_LIMIT.limit({ key })).success;
  } catch (error) {
    console.error("rate limit binding unavailable; letting the request pass", { error: String(error) });
    return true;
  }
}

function clientRateLimited(who: string): ApiError {
  const retryAfter = secondsToNextPeriod(Date.now());
  return new ApiError(
    429,
    "rate_limited",
    `too many requests from ${who}; retry after ${retryAfter} s with the same batch`,
    undefined,
    retryAfter,
  );
}

/**
 * Counts this batch against its client's limit (throws 429 `rate_limited` when over) and
 * returns the client's key, which the shard needs whether or not the limit is on.
 */
export async function enforceClientRateLimit(c: Context<AppEnv>, site: string): Promise<string> {
  const key = await clientKeyFor(c, site);
  if (rateLimitsFrom(c.env).client && !(await withinClientLimit(c, key))) throw clientRateLimited("this client");
  return key;
}

/**
 * Middleware for the ingest route: a request refused with a 4xx before it reached the limiter
 * (bad body, unknown site, wrong origin) still counts, and once its client is over the limit
 * the answer becomes 429, so refused requests cannot be sent without bound either. Answers
 * the limiter or a shard gave (202, 429, 503) were counted already.
 */
export const countRefusedRequests: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  const status = c.res.status;
  if (c.req.method !== "POST" || status < 400 || status >= 500 || status === 429) return;
  if (!rateLimitsFrom(c.env).client) return;
  if (!(await withinClientLimit(c, await clientKeyFor(c, NO_SITE))))
    throw clientRateLimited("this client (counting refused requests)");
};
