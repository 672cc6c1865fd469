import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { acceptedResponseSchema, errorResponseSchema, type BatchInput } from "../protocol";
import { app } from "./app";
import { clientRateLimitKey, rateLimitsFrom } from "./rate-limit";
import { TELEMETRY_OBJECT_NAME } from "./telemetry";

const SITES = JSON.stringify(["rl-client", "rl-site", "rl-off", "rl-count"].map((key) => ({ key, origins: ["*"] })));
let sequence = 0;

function batch(site: string): BatchInput {
  const now = Date.now();
  return { v: 1, site, batch: `b-rl-${now}-${sequence++}`, sent_at: now, visitor: "v-rate-limit", events: [{ type: "page_view", id: "e1", ts: now, url: "https://shop.example/" }] };
}

/** Posts one batch through the whole app with the given vars on top of the test bindings. */
async function post(site: string, vars: Record<string, string>, client: { ip: string; userAgent: string }): Promise<Response> {
  const request = new Request("http://collector.test/v1/events", {
    method: "POST",
    body: JSON.stringify(batch(site)),
    headers: { "Content-Type": "text/plain", "CF-Connecting-IP": client.ip, "User-Agent": client.userAgent, Origin: "https://shop.example" },
  });
  const ctx = createExecutionContext();
  const response = await app.fetch(request, { ...env, SITES, ...vars }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

/** Whole seconds until the next token: `full` less the time the test took (a loaded machine may take seconds). */
function expectRetryAfterNear(response: Response, full: number): void {
  const seconds = Number(response.headers.get("Retry-After"));
  expect(Number.isInteger(seconds)).toBe(true);
  expect(seconds).toBeGreaterThanOrEqual(full / 2);
  expect(seconds).toBeLessThanOrEqual(full);
}

const alice = { ip: "198.51.100.7", userAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0" };

describe("rate limits on POST /v1/events", () => {
  it("limits one client to its burst, then answers 429 with Retry-After; other clients pass", async () => {
    const vars = { RATE_LIMIT_SITE_PER_SECOND: "0", RATE_LIMIT_CLIENT_PER_SECOND: "0.1", RATE_LIMIT_CLIENT_BURST: "3" };
    for (let i = 0; i < 3; i++) expect((await post("rl-client", vars, alice)).status).toBe(202);
    const refused = await post("rl-client", vars, alice);
    expect(refused.status).toBe(429);
    // One token every 10 s: the client is told to wait (up to) 10 s, and a browser may read that header.
    expectRetryAfterNear(refused, 10);
    expect(refused.headers.get("Access-Control-Expose-Headers")).toContain("Retry-After");
    expect(errorResponseSchema.parse(await refused.json()).error.code).toBe("rate_limited");
    // Same IP, another browser; same browser, another IP: other clients, own buckets.
    expect((await post("rl-client", vars, { ...alice, userAgent: "curl/8.0" })).status).toBe(202);
    expect((await post("rl-client", vars, { ...alice, ip: "198.51.100.8" })).status).toBe(202);
  });

  it("limits the whole site across clients", async () => {
    const vars = { RATE_LIMIT_SITE_PER_SECOND: "0.1", RATE_LIMIT_SITE_BURST: "2", RATE_LIMIT_CLIENT_PER_SECOND: "0" };
    expect((await post("rl-site", vars, { ...alice, ip: "203.0.113.1" })).status).toBe(202);
    expect((await post("rl-site", vars, { ...alice, ip: "203.0.113.2" })).status).toBe(202);
    const refused = await post("rl-site", vars, { ...alice, ip: "203.0.113.3" });
    expect(refused.status).toBe(429);
    expectRetryAfterNear(refused, 10);
    expect(errorResponseSchema.parse(await refused.json()).error.message).toContain('site "rl-site"');
  });

  it("passes everything when both limits are 0", async () => {
    const vars = { RATE_LIMIT_SITE_PER_SECOND: "0", RATE_LIMIT_CLIENT_PER_SECOND: "0" };
    for (let i = 0; i < 30; i++) {
      const response = await post("rl-off", vars, alice);
      expect(response.status).toBe(202);
      acceptedResponseSchema.parse(await response.json());
    }
  });

  it("counts every 429 for /metrics", async () => {
    const telemetry = env.TELEMETRY.get(env.TELEMETRY.idFromName(TELEMETRY_OBJECT_NAME));
    const before = (await telemetry.rejections()).rate_limited ?? 0;
    const vars = { RATE_LIMIT_SITE_PER_SECOND: "0", RATE_LIMIT_CLIENT_PER_SECOND: "0.1", RATE_LIMIT_CLIENT_BURST: "1" };
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await post("rl-count", vars, alice)).status);
    expect(statuses).toEqual([202, 429, 429, 429]);
    // The counts travel in the background (waitUntil), which post() has waited for.
    expect((await telemetry.rejections()).rate_limited).toBe(before + 3);
  });
});

describe("rateLimitsFrom", () => {
  it("uses the documented defaults and derives bursts", () => {
    expect(rateLimitsFrom({})).toEqual({ site: { perSecond: 1000, burst: 2000 }, client: { perSecond: 10, burst: 50 } });
    expect(rateLimitsFrom({ RATE_LIMIT_SITE_PER_SECOND: "0", RATE_LIMIT_CLIENT_PER_SECOND: "2", RATE_LIMIT_CLIENT_BURST: "" })).toEqual({
      site: null,
      client: { perSecond: 2, burst: 10 },
    });
  });

  it("refuses a malformed var instead of silently using a default", () => {
    expect(() => rateLimitsFrom({ RATE_LIMIT_CLIENT_PER_SECOND: "ten" })).toThrow(/RATE_LIMIT_CLIENT_PER_SECOND/);
    expect(() => rateLimitsFrom({ RATE_LIMIT_SITE_BURST: "-1" })).toThrow(/RATE_LIMIT_SITE_BURST/);
  });
});

describe("clientRateLimitKey", () => {
  it("is stable per client, differs across site, IP and User-Agent, and does not contain the IP", async () => {
    const key = await clientRateLimitKey("salt", "shop", "192.0.2.44", "UA");
    expect(key).toMatch(/^[0-9a-f]{32}$/);
    expect(await clientRateLimitKey("salt", "shop", "192.0.2.44", "UA")).toBe(key);
    const others = await Promise.all([
      clientRateLimitKey("salt", "blog", "192.0.2.44", "UA"),
      clientRateLimitKey("salt", "shop", "192.0.2.45", "UA"),
      clientRateLimitKey("salt", "shop", "192.0.2.44", "UA2"),
      clientRateLimitKey("pepper", "shop", "192.0.2.44", "UA"),
    ]);
    expect(new Set([key, ...others]).size).toBe(5);
  });
});

describe("RateLimiter object", () => {
  it("keeps no storage: buckets are soft state", async () => {
    const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName("rl-storage"));
    expect(await stub.check("k", { site: { perSecond: 1, burst: 1 }, client: null })).toEqual({ allowed: true });
    await runInDurableObject(stub, async (_instance, state) => {
      expect(await state.storage.list()).toEqual(new Map());
    });
  });
});
