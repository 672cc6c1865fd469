/**
 * Per-site and per-client rate limits for `POST /v1/events`, answering 429 `rate_limited`
 * with Retry-After (the SDK waits that long and resends the same batch id).
 *
 * Why a Durable Object and not Cloudflare's Rate Limiting binding: the binding's limit is
 * fixed in wrangler.toml (10 or 60 s periods) and cannot be raised or lowered per deployment
 * through vars, and it cannot say how long to wait; here the limits are vars, passed with
 * every check, and a token bucket knows exactly when the next token is due. One RateLimiter
 * object per site holds the site's bucket and its clients' buckets, in memory only.
 *
 * A client is an HMAC of (site, IP, User-Agent) under VISITOR_SECRET: the IP is never sent
 * to the object, stored or logged. If the limiter cannot be reached, the request passes:
 * losing analytics to a hiccup of the protection in front of it is the worse failure.
 *
 * Vars (requests per second; a rate of 0 turns that limit off):
 *   RATE_LIMIT_SITE_PER_SECOND (1000), RATE_LIMIT_SITE_BURST (2 × rate),
 *   RATE_LIMIT_CLIENT_PER_SECOND (10), RATE_LIMIT_CLIENT_BURST (5 × rate).
 */
import type { Context } from "hono";
import { z } from "zod";
import type { RateLimits } from "../durable-objects/site-rate-limiter";
import type { BucketLimit } from "../durable-objects/token-bucket";
import type { AppEnv } from "./app-env";
import { clientIp } from "./client-ip";
import { ApiError } from "./errors";

export const DEFAULT_SITE_PER_SECOND = 1000;
export const DEFAULT_CLIENT_PER_SECOND = 10;
const DEFAULT_SITE_BURST_FACTOR = 2;
const DEFAULT_CLIENT_BURST_FACTOR = 5;
/** The shortest wait a 429 asks for: Retry-After counts whole seconds. */
const MIN_RETRY_AFTER_SECONDS = 1;

const rateVar = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === "" ? undefined : Number(value)))
  .pipe(z.number().finite().min(0).max(1_000_000).optional());

const rateLimitVarsSchema = z.object({
  RATE_LIMIT_SITE_PER_SECOND: rateVar,
  RATE_LIMIT_SITE_BURST: rateVar,
  RATE_LIMIT_CLIENT_PER_SECOND: rateVar,
  RATE_LIMIT_CLIENT_BURST: rateVar,
});

function bucketLimit(perSecond: number, burst: number | undefined, burstFactor: number): BucketLimit | null {
  if (perSecond === 0) return null;
  return { perSecond, burst: Math.max(1, burst ?? Math.ceil(perSecond * burstFactor)) };
}

const cache = new WeakMap<object, RateLimits>();

/** The limits configured by vars, parsed once per isolate; a malformed var fails loudly. */
export function rateLimitsFrom(env: object): RateLimits {
  const cached = cache.get(env);
  if (cached) return cached;
  const parsed = rateLimitVarsSchema.safeParse(env);
  if (!parsed.success) throw new Error(`invalid rate limit configuration: ${z.prettifyError(parsed.error)}`);
  const vars = parsed.data;
  const limits: RateLimits = {
    site: bucketLimit(vars.RATE_LIMIT_SITE_PER_SECOND ?? DEFAULT_SITE_PER_SECOND, vars.RATE_LIMIT_SITE_BURST, DEFAULT_SITE_BURST_FACTOR),
    client: bucketLimit(vars.RATE_LIMIT_CLIENT_PER_SECOND ?? DEFAULT_CLIENT_PER_SECOND, vars.RATE_LIMIT_CLIENT_BURST, DEFAULT_CLIENT_BURST_FACTOR),
  };
  cache.set(env, limits);
  return limits;
}

/** Only used when VISITOR_SECRET is unset: keys then differ per isolate, which is lenient. */
let isolateSalt: string | null = null;
function fallbackSalt(): string {
  isolateSalt ??= Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, "0")).join("");
  return isolateSalt;
}

const hmacKeys = new Map<string, Promise<CryptoKey>>();

/** The key is derived from the salt with a prefix, so it never equals the visitor-id key. */
function hmacKey(salt: string): Promise<CryptoKey> {
  let key = hmacKeys.get(salt);
  if (key === undefined) {
    key = crypto.subtle.importKey("raw", new TextEncoder().encode(`rate-limit\n${salt}`), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    // One salt in practice; the bound only guards against a test cycling through many.
    if (hmacKeys.size >= 8) hmacKeys.clear();
    hmacKeys.set(salt, key);
  }
  return key;
}

/** HMAC-SHA256 of (site, IP, User-Agent), 16 bytes in hex: stable per client, not reversible. */
export async function clientRateLimitKey(salt: string, site: string, ip: string, userAgent: string): Promise<string> {
  const key = await hmacKey(salt);
  // Newline-separated: headers cannot contain newlines, so the message is unambiguous.
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode([site, ip, userAgent].join("\n")));
  return Array.from(new Uint8Array(mac, 0, 16), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Throws 429 `rate_limited` with Retry-After when the site or this client is over its limit. */
export async function enforceRateLimits(c: Context<AppEnv>, site: string): Promise<void> {
  const limits = rateLimitsFrom(c.env);
  if (limits.site === null && limits.client === null) return;
  const salt = c.get("config").visitorSecret ?? fallbackSalt();
  const clientKey = await clientRateLimitKey(salt, site, clientIp(c.req.raw.headers), c.req.header("User-Agent") ?? "");
  const limiter = c.env.RATE_LIMITER.get(c.env.RATE_LIMITER.idFromName(site));
  let decision;
  try {
    decision = await limiter.check(clientKey, limits);
  } catch (error) {
    console.error("rate limiter unavailable; letting the request pass", { site, error: String(error) });
    return;
  }
  if (decision.allowed) return;
  const retryAfter = Math.max(MIN_RETRY_AFTER_SECONDS, Math.ceil(decision.retryAfterSeconds));
  const who = decision.scope === "site" ? `site "${site}"` : "this client";
  throw new ApiError(429, "rate_limited", `too many requests for ${who}; retry after ${retryAfter} s with the same batch`, undefined, retryAfter);
}
