/**
 * Hostile input against the real collector (wrangler dev, real Durable Objects, local
 * ClickHouse): 10,000 seeded requests (test/support/hostile-requests.ts) — malformed and
 * truncated JSON, wrong types, huge strings and numbers, deep nesting, `__proto__` and
 * `constructor` keys, invalid UTF-8, oversize and chunked bodies, wrong methods, paths and
 * media types, far-off timestamps, unknown sites and origins — mixed with valid batches whose
 * content is awkward but legal, some of them resent.
 *
 * Every hostile request must get a 4xx JSON error in the protocol's shape, never a 5xx; every
 * valid one a 202; afterwards the collector is healthy, ClickHouse holds exactly the valid
 * events (nothing hostile slipped in, nothing valid was lost or doubled), and /metrics counted
 * every refusal under its code.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acceptedResponseSchema, errorResponseSchema, type ErrorCode } from "../../protocol";
import { generateFuzzRequests, type FuzzRequest } from "../support/hostile-requests";
import { startStack, type Stack } from "../support/stack";
import { BROWSER_USER_AGENT } from "../support/browser-user-agent";

const SEED = Number(process.env.EDGEPULSE_FUZZ_SEED ?? 20261123);
const TOTAL_REQUESTS = Number(process.env.EDGEPULSE_FUZZ_REQUESTS ?? 10_000);
const CONCURRENCY = 8;
const SITE = "fuzz";
const ORIGIN = "https://fuzz.example";
const ROWS_TIMEOUT_MS = 60_000;

let stack: Stack;

interface Answer {
  request: FuzzRequest;
  status: number;
  body: string;
  retryAfter: string | null;
}

async function send(request: FuzzRequest): Promise<Answer> {
  const init: RequestInit & { duplex?: "half" } = { method: request.method, headers: request.headers };
  if (request.body !== null) {
    if (request.chunked) {
      const bytes = request.body;
      // A stream has no length, so it goes out chunked (no Content-Length): the Worker has to
      // count while reading.
      init.body = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let offset = 0; offset < bytes.length; offset += 4096)
            controller.enqueue(bytes.subarray(offset, offset + 4096));
          controller.close();
        },
      });
      init.duplex = "half";
    } else {
      init.body = request.body as Uint8Array<ArrayBuffer>;
    }
  }
  const response = await fetch(`${stack.collectorUrl}${request.path}`, init);
  return {
    request,
    status: response.status,
    body: await response.text(),
    retryAfter: response.headers.get("Retry-After"),
  };
}

async function sendAll(requests: readonly FuzzRequest[]): Promise<Answer[]> {
  const answers: Answer[] = new Array(requests.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < requests.length) {
        const index = next++;
        const request = requests[index];
        if (request !== undefined) answers[index] = await send(request);
      }
    }),
  );
  return answers;
}

async function scrape(): Promise<string> {
  const response = await fetch(`${stack.collectorUrl}/metrics`, {
    headers: { Authorization: `Bearer ${stack.adminToken}` },
  });
  expect(response.status).toBe(200);
  return response.text();
}

function rejectedByCode(metrics: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const match of metrics.matchAll(/^edgepulse_rejected_requests_total\{code="([a-z_]+)"\} (\d+)$/gm))
    counts.set(match[1] ?? "", Number(match[2]));
  return counts;
}

function describeFailure(answer: Answer): string {
  const body = answer.request.body === null ? "" : new TextDecoder().decode(answer.request.body.subarray(0, 300));
  return `${answer.request.family} ${answer.request.method} ${answer.request.path} → ${answer.status} ${answer.body.slice(0, 300)}\nsent: ${body}`;
}

beforeAll(async () => {
  stack = await startStack({
    vars: {
      SITES: JSON.stringify([{ key: SITE, origins: [ORIGIN] }]),
      // One client sends everything here: the limits are the subject of other tests.
      RATE_LIMIT_SITE_PER_SECOND: "0",
      RATE_LIMIT_CLIENT_PER_SECOND: "0",
    },
  });
});

afterAll(async () => {
  await stack?.stop();
});

describe("hostile input", () => {
  it(`answers ${TOTAL_REQUESTS} generated hostile and valid requests correctly, and stores exactly the valid events`, async () => {
    const requests = generateFuzzRequests(SEED, TOTAL_REQUESTS, { site: SITE, origin: ORIGIN, now: Date.now() });
    const rejectedBefore = rejectedByCode(await scrape());

    const started = Date.now();
    const answers = await sendAll(requests);
    const seconds = (Date.now() - started) / 1000;

    const byFamily = new Map<string, { sent: number; statuses: Map<number, number> }>();
    const observedCodes = new Map<ErrorCode, number>();
    const failures: string[] = [];
    let acceptedEvents = 0;
    let duplicates = 0;
    let expectedEvents = 0;
    let resends = 0;
    for (const answer of answers) {
      const family = byFamily.get(answer.request.family) ?? { sent: 0, statuses: new Map<number, number>() };
      family.sent += 1;
      family.statuses.set(answer.status, (family.statuses.get(answer.status) ?? 0) + 1);
      byFamily.set(answer.request.family, family);

      if (answer.request.expect === "accept") {
        expectedEvents += answer.request.events;
        if (answer.request.family === "valid-resend") resends += 1;
        if (answer.status !== 202) {
          failures.push(`valid request refused: ${describeFailure(answer)}`);
          continue;
        }
        const accepted = acceptedResponseSchema.parse(JSON.parse(answer.body));
        acceptedEvents += accepted.accepted;
        if (accepted.duplicate) duplicates += 1;
        continue;
      }
      if (answer.status < 400 || answer.status >= 500) {
        failures.push(`hostile request not refused with a 4xx: ${describeFailure(answer)}`);
        continue;
      }
      let parsed: ReturnType<typeof errorResponseSchema.safeParse> | null;
      try {
        parsed = errorResponseSchema.safeParse(JSON.parse(answer.body));
      } catch {
        parsed = null;
      }
      if (parsed === null || !parsed.success) {
        failures.push(`refusal is not the protocol's JSON error: ${describeFailure(answer)}`);
        continue;
      }
      observedCodes.set(parsed.data.error.code, (observedCodes.get(parsed.data.error.code) ?? 0) + 1);
    }

    const hostile =
      answers.length -
      [...byFamily].filter(([name]) => name.startsWith("valid")).reduce((sum, [, family]) => sum + family.sent, 0);
    console.log(
      `hostile-input: ${answers.length} requests (${hostile} hostile, ${answers.length - hostile} valid incl. ${resends} resends) in ${seconds.toFixed(1)} s, seed ${SEED}`,
    );
    for (const [name, family] of [...byFamily].sort()) {
      console.log(
        `  ${name.padEnd(20)} sent ${String(family.sent).padStart(5)}  answers ${[...family.statuses]
          .sort()
          .map(([status, count]) => `${status}×${count}`)
          .join(" ")}`,
      );
    }
    console.log(
      `  refusals by code: ${[...observedCodes]
        .sort()
        .map(([code, count]) => `${code}=${count}`)
        .join(" ")}`,
    );
    expect(failures.slice(0, 10)).toEqual([]);
    expect(answers.length).toBeGreaterThanOrEqual(10_000);
    // A resend is answered as a duplicate; a resend racing its original may be the one accepted.
    expect(duplicates).toBe(resends);
    expect(acceptedEvents).toBe(expectedEvents);

    // ClickHouse holds exactly the valid events: none of the hostile ones, none doubled.
    const found = await stack.waitForRows(
      "SELECT count() FROM events WHERE site = {site:String}",
      { site: SITE },
      expectedEvents,
      ROWS_TIMEOUT_MS,
    );
    const [distinct] = await stack.clickhouse.query<{ n: number }>(
      "SELECT uniqExact(batch_id, event_id) AS n FROM events WHERE site = {site:String}",
      { site: SITE },
    );
    const [elsewhere] = await stack.clickhouse.query<{ n: number }>(
      "SELECT count() AS n FROM events WHERE site != {site:String}",
      { site: SITE },
    );
    const [polluted] = await stack.clickhouse.query<{ n: number }>(
      "SELECT count() AS n FROM events WHERE position(props, 'polluted') > 0 OR position(props, '__proto__') > 0",
    );
    console.log(
      `  events: sent ${expectedEvents} valid, acknowledged ${acceptedEvents}, found ${found} (${distinct?.n} distinct), other sites ${elsewhere?.n}`,
    );
    expect(Number(distinct?.n)).toBe(expectedEvents);
    expect(Number(elsewhere?.n)).toBe(0);
    expect(Number(polluted?.n)).toBe(0);

    // Every refusal was counted under its code (the counts travel in the background).
    const deadline = Date.now() + 20_000;
    let delta = new Map<string, number>();
    for (;;) {
      const after = rejectedByCode(await scrape());
      delta = new Map([...after].map(([code, count]) => [code, count - (rejectedBefore.get(code) ?? 0)]));
      const settled = [...observedCodes].every(([code, count]) => delta.get(code) === count);
      if (settled || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(Object.fromEntries([...delta].filter(([, count]) => count > 0))).toEqual(Object.fromEntries(observedCodes));

    // Healthy afterwards: liveness, and a valid batch still accepted.
    expect((await fetch(`${stack.collectorUrl}/healthz`)).status).toBe(200);
    const now = Date.now();
    const after = await fetch(`${stack.collectorUrl}/v1/events`, {
      method: "POST",
      headers: { "Content-Type": "text/plain", "User-Agent": BROWSER_USER_AGENT, Origin: ORIGIN },
      body: JSON.stringify({
        v: 1,
        site: SITE,
        batch: `after-fuzz-${now}`,
        sent_at: now,
        events: [{ type: "page_view", id: "e1", ts: now, url: `${ORIGIN}/` }],
      }),
    });
    expect(after.status).toBe(202);
    expect(await after.json()).toEqual({ accepted: 1, duplicate: false });
    // 10,000 sequential requests through wrangler dev: 160–260 s on a loaded 2-core machine.
  }, 600_000);
});
