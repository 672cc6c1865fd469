import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  acceptedResponseSchema,
  errorResponseSchema,
  MAX_BODY_BYTES,
  type BatchInput,
  type IngestAdmission,
  type IngestOutcome,
} from "../protocol";
import { app } from "./app";
import {
  CLIENT_LIMIT_PERIOD_SECONDS,
  clientNetwork,
  clientRateLimitKey,
  rateLimitsFrom,
  secondsToNextPeriod,
  shardSiteBudget,
} from "./rate-limit";
import { TELEMETRY_OBJECT_NAME } from "./refusal-counter";

const SITES = JSON.stringify(
  ["rl-client", "rl-invalid", "rl-site", "rl-off", "rl-count", "rl-key"].map((key) => ({ key, origins: ["*"] })),
);
/** The CLIENT_RATE_LIMIT binding's limit in wrangler.toml (requests per period). */
const CLIENT_LIMIT = 100;
let sequence = 0;
/** Addresses of their own per test run: the binding's counters outlive a test. */
const RUN = Math.floor(Math.random() * 200) + 20;
const ip = (host: number) => `10.${RUN}.0.${host}`;

function batch(site: string, visitor = "v-rate-limit"): BatchInput {
  const now = Date.now();
  return {
    v: 1,
    site,
    batch: `b-rl-${now}-${sequence++}`,
    sent_at: now,
    visitor,
    events: [{ type: "page_view", id: "e1", ts: now, url: "https://shop.example/" }],
  };
}

interface Client {
  ip: string;
  userAgent: string;
}

/** Records what the route hands the shard, and answers `accepted` at once (the limits, not the shard, are under test). */
function recordingShards(admissions: IngestAdmission[] = []): Env["INGEST_SHARD"] {
  const namespace = {
    idFromName: (name: string) => name,
    get: () => ({
      ingest: async (_batch: unknown, admission: IngestAdmission) => {
        admissions.push(admission);
        return { status: "accepted", accepted: 1 } satisfies IngestOutcome;
      },
    }),
  };
  return namespace as unknown as Env["INGEST_SHARD"];
}

/** Posts through the whole app with the given vars on top of the test bindings. */
async function post(body: string, vars: Partial<Env>, client: Client): Promise<Response> {
  const request = new Request("http://collector.test/v1/events", {
    method: "POST",
    body,
    headers: {
      "Content-Type": "text/plain",
      "CF-Connecting-IP": client.ip,
      "User-Agent": client.userAgent,
      Origin: "https://shop.example",
    },
  });
  const ctx = createExecutionContext();
  const response = await app.fetch(request, { ...env, SITES, ...vars }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

/**
 * The binding counts in periods aligned to the wall clock: start a fill early in one, so
 * the whole fill and the checks after it fall in the same period.
 */
async function startOfPeriod(): Promise<void> {
  const periodMs = CLIENT_LIMIT_PERIOD_SECONDS * 1000;
  const into = Date.now() % periodMs;
  if (into > periodMs / 4) await new Promise((resolve) => setTimeout(resolve, periodMs - into + 20));
}

/**
 * Sends until the first 429; returns the statuses. A loaded machine may not fit the limit's
 * worth of requests into what is left of one period (counts restart with each period), so
 * this goes on for up to three periods' worth.
 */
async function fillUntilRefused(send: () => Promise<Response>): Promise<number[]> {
  const statuses: number[] = [];
  // Ten at a time, in order of sending: a busy machine still fits a limit's worth into a period.
  while (statuses.length < 3 * (CLIENT_LIMIT + 5) && !statuses.includes(429)) {
    const responses = await Promise.all(Array.from({ length: 10 }, send));
    statuses.push(...responses.map((response) => response.status));
  }
  return statuses.slice(0, statuses.indexOf(429) + 1 || undefined);
}

function expectRetryAfterWithin(response: Response, max: number): void {
  const seconds = Number(response.headers.get("Retry-After"));
  expect(Number.isInteger(seconds)).toBe(true);
  expect(seconds).toBeGreaterThanOrEqual(1);
  expect(seconds).toBeLessThanOrEqual(max);
}

const firefox = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0";

describe("per-client rate limit on POST /v1/events (Rate Limiting binding)", () => {
  it("is keyed by IP and site: rotating the User-Agent or the visitor does not escape it; other IPs pass", async () => {
    const vars = { INGEST_SHARD: recordingShards(), RATE_LIMIT_SITE_PER_SECOND: "0" };
    const alice = { ip: ip(1), userAgent: firefox };
    await startOfPeriod();
    let rotation = 0;
    // A client rotating its User-Agent and visitor on every request, as a flood would.
    const statuses = await fillUntilRefused(() =>
      post(JSON.stringify(batch("rl-client", `v-${rotation}`)), vars, { ...alice, userAgent: `bot/${rotation++}` }),
    );
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.filter((status) => status === 202).length).toBeGreaterThanOrEqual(CLIENT_LIMIT);
    const refused = await post(JSON.stringify(batch("rl-client")), vars, { ...alice, userAgent: "curl/8.0" });
    expect(refused.status).toBe(429);
    expectRetryAfterWithin(refused, CLIENT_LIMIT_PERIOD_SECONDS);
    expect(refused.headers.get("Access-Control-Expose-Headers")).toContain("Retry-After");
    expect(errorResponseSchema.parse(await refused.json()).error.code).toBe("rate_limited");
    // Another address is another client; the same address on another site has its own budget.
    expect((await post(JSON.stringify(batch("rl-client")), vars, { ...alice, ip: ip(2) })).status).toBe(202);
    expect((await post(JSON.stringify(batch("rl-key")), vars, alice)).status).toBe(202);
  }, 120_000);

  it("counts refused requests: a flood of invalid 60 KB bodies draws 429s", async () => {
    const vars = { INGEST_SHARD: recordingShards(), RATE_LIMIT_SITE_PER_SECOND: "0" };
    const mallory = { ip: ip(3), userAgent: firefox };
    const garbage = `{"v":1,"site":"rl-invalid","batch":"b-x","events":"${"x".repeat(60 * 1024)}"}`;
    expect(garbage.length).toBeLessThan(MAX_BODY_BYTES);
    await startOfPeriod();
    let rotation = 0;
    const statuses = await fillUntilRefused(() => post(garbage, vars, { ...mallory, userAgent: `bot/${rotation++}` }));
    expect(statuses[0]).toBe(400);
    expect(statuses.at(-1)).toBe(429);
    const refused = await post(garbage, vars, mallory);
    expect(refused.status).toBe(429);
    expectRetryAfterWithin(refused, CLIENT_LIMIT_PERIOD_SECONDS);
    expect(errorResponseSchema.parse(await refused.json()).error.code).toBe("rate_limited");
  }, 120_000);

  it("passes everything when both limits are 0", async () => {
    const vars = {
      RATE_LIMIT_SITE_PER_SECOND: "0",
      RATE_LIMIT_CLIENT_PER_SECOND: "0",
      INGEST_SHARD: recordingShards(),
    };
    const bob = { ip: ip(4), userAgent: firefox };
    for (let i = 0; i < CLIENT_LIMIT + 10; i++) {
      const response = await post(JSON.stringify(batch("rl-off")), vars, bob);
      expect(response.status).toBe(202);
      acceptedResponseSchema.parse(await response.json());
    }
  }, 120_000);

  it("hands the shard one client key per IP and site, whatever the User-Agent and visitor, and the shard's share of the site limit", async () => {
    const admissions: IngestAdmission[] = [];
    const vars = {
      INGEST_SHARD: recordingShards(admissions),
      RATE_LIMIT_CLIENT_PER_SECOND: "0",
      RATE_LIMIT_SITE_PER_SECOND: "80",
      RATE_LIMIT_SITE_BURST: "160",
      SHARDS: "8",
    };
    await post(JSON.stringify(batch("rl-key", "v-a")), vars, { ip: ip(5), userAgent: `${firefox} a` });
    await post(JSON.stringify(batch("rl-key", "v-b")), vars, { ip: ip(5), userAgent: `${firefox} b` });
    await post(JSON.stringify(batch("rl-key", "v-a")), vars, { ip: ip(6), userAgent: `${firefox} a` });
    const [first, second, third] = admissions;
    expect(first?.client_key).toMatch(/^[0-9a-f]{32}$/);
    expect(second?.client_key).toBe(first?.client_key);
    expect(third?.client_key).not.toBe(first?.client_key);
    expect(first?.site_budget).toEqual({ perSecond: 10, burst: 20 });
  });
});

describe("per-site rate limit (shard-local budgets)", () => {
  it("limits the whole site across clients, on the shards, with Retry-After until the next token", async () => {
    // One shard: it holds the site's whole budget (burst 2, a token every 10 s).
    const vars = {
      RATE_LIMIT_SITE_PER_SECOND: "0.1",
      RATE_LIMIT_SITE_BURST: "2",
      RATE_LIMIT_CLIENT_PER_SECOND: "0",
      SHARDS: "1",
    };
    expect((await post(JSON.stringify(batch("rl-site", "v-1")), vars, { ip: ip(7), userAgent: firefox })).status).toBe(
      202,
    );
    expect((await post(JSON.stringify(batch("rl-site", "v-2")), vars, { ip: ip(8), userAgent: firefox })).status).toBe(
      202,
    );
    const refused = await post(JSON.stringify(batch("rl-site", "v-3")), vars, { ip: ip(9), userAgent: firefox });
    expect(refused.status).toBe(429);
    expectRetryAfterWithin(refused, 10);
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThanOrEqual(5);
    expect(errorResponseSchema.parse(await refused.json()).error.message).toContain('site "rl-site"');
  });

  it("counts every 429 for /metrics", async () => {
    const telemetry = env.TELEMETRY.get(env.TELEMETRY.idFromName(TELEMETRY_OBJECT_NAME));
    const before = (await telemetry.rejections()).rate_limited ?? 0;
    const vars = {
      RATE_LIMIT_SITE_PER_SECOND: "0.1",
      RATE_LIMIT_SITE_BURST: "1",
      RATE_LIMIT_CLIENT_PER_SECOND: "0",
      SHARDS: "1",
    };
    const statuses = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await post(JSON.stringify(batch("rl-count")), vars, { ip: ip(10), userAgent: firefox })).status);
    expect(statuses).toEqual([202, 429, 429, 429]);
    // The counts travel in the background (waitUntil), which post() has waited for.
    expect((await telemetry.rejections()).rate_limited).toBe(before + 3);
  });
});

describe("rateLimitsFrom", () => {
  it("uses the documented defaults and derives the site burst", () => {
    expect(rateLimitsFrom({})).toEqual({ site: { perSecond: 1000, burst: 2000 }, client: true });
    expect(rateLimitsFrom({ RATE_LIMIT_SITE_PER_SECOND: "0", RATE_LIMIT_CLIENT_PER_SECOND: "0" })).toEqual({
      site: null,
      client: false,
    });
  });

  it("refuses a malformed var instead of silently using a default", () => {
    expect(() => rateLimitsFrom({ RATE_LIMIT_CLIENT_PER_SECOND: "ten" })).toThrow(/RATE_LIMIT_CLIENT_PER_SECOND/);
    expect(() => rateLimitsFrom({ RATE_LIMIT_SITE_BURST: "-1" })).toThrow(/RATE_LIMIT_SITE_BURST/);
  });

  it("splits the site limit over shards, never below one batch of burst", () => {
    expect(shardSiteBudget({ perSecond: 1000, burst: 2000 }, 8)).toEqual({ perSecond: 125, burst: 250 });
    expect(shardSiteBudget({ perSecond: 1, burst: 2 }, 8)).toEqual({ perSecond: 0.125, burst: 1 });
    expect(shardSiteBudget(null, 8)).toBeNull();
  });
});

describe("clientRateLimitKey", () => {
  it("is stable per client, differs across site and network, and does not contain the IP", async () => {
    const key = await clientRateLimitKey("salt", "shop", "192.0.2.44");
    expect(key).toMatch(/^[0-9a-f]{32}$/);
    expect(await clientRateLimitKey("salt", "shop", "192.0.2.44")).toBe(key);
    const others = await Promise.all([
      clientRateLimitKey("salt", "blog", "192.0.2.44"),
      clientRateLimitKey("salt", "shop", "192.0.2.45"),
      clientRateLimitKey("pepper", "shop", "192.0.2.44"),
    ]);
    expect(new Set([key, ...others]).size).toBe(4);
  });

  it("treats an IPv6 /64 as one client", async () => {
    expect(clientNetwork("2001:db8:1:2::1")).toBe("2001:db8:1:2::/64");
    expect(clientNetwork("2001:0db8:0001:0002:ffff:1:2:3")).toBe("2001:db8:1:2::/64");
    expect(clientNetwork("::1")).toBe("0:0:0:0::/64");
    expect(clientNetwork("203.0.113.9")).toBe("203.0.113.9");
    expect(await clientRateLimitKey("s", "shop", "2001:db8:1:2::1")).toBe(
      await clientRateLimitKey("s", "shop", "2001:db8:1:2:aaaa::7"),
    );
    expect(await clientRateLimitKey("s", "shop", "2001:db8:1:2::1")).not.toBe(
      await clientRateLimitKey("s", "shop", "2001:db8:1:3::1"),
    );
  });
});

describe("secondsToNextPeriod", () => {
  it("is the whole seconds left in the binding's current period, at least 1", () => {
    expect(secondsToNextPeriod(1_000_000_000, 10)).toBe(10);
    expect(secondsToNextPeriod(1_000_003_200, 10)).toBe(7);
    expect(secondsToNextPeriod(1_000_009_999, 10)).toBe(1);
  });
});
