import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { errorResponseSchema, overviewSchema, performanceSchema, windowsResponseSchema } from "../../protocol";
import { LiveTestClient } from "../../durable-objects/live-hub/live-test-client";
import { addToSketch, emptySketch } from "../../durable-objects/shared/quantile-sketch";
import {
  counts,
  shardState,
  TEST_WINDOW_MS,
  windowPartial,
  windowStart,
} from "../../durable-objects/shard-to-hub/shard-state-fixture";
import { app } from "../app";
import { DEFAULT_WINDOWS_LIMIT } from "./live-metrics";

const SITE = "metrics-route-shop";
const TOKEN = "metrics-route-shop-token-0123456";
const testEnv: Env = { ...env, SITES: JSON.stringify([{ key: SITE, origins: ["*"], token: TOKEN }]) };
const worker = { fetch: (input: string, init?: RequestInit) => app.fetch(new Request(input, init), testEnv) };
const auth = { Authorization: `Bearer ${TOKEN}` };

async function getJson(
  path: string,
  headers: Record<string, string> = auth,
): Promise<{ status: number; body: unknown }> {
  const response = await worker.fetch(`http://collector.test${path}`, { headers });
  return { status: response.status, body: await response.json() };
}

describe("GET /v1/metrics/*", () => {
  it("answers windows, overview and performance that parse with their schemas and equal the live feed", async () => {
    const now = Date.now();
    const w0 = windowStart(now);
    const hub = env.LIVE_HUB.get(env.LIVE_HUB.idFromName(SITE));
    for (let shard = 0; shard < 3; shard++) {
      const inp = emptySketch();
      for (let i = 0; i < 20; i++) addToSketch(inp, 50 + 10 * i + shard);
      await hub.applyShardState(
        shardState(SITE, shard, 1, now, {
          windows: Array.from({ length: 80 }, (_, index) =>
            windowPartial(w0 - index * TEST_WINDOW_MS, { page_views: shard + index }),
          ),
          today: {
            counts: counts({ page_views: 100 + shard, cart_adds: shard }),
            funnel: { sessions: 9, product_views: 6, cart_adds: 3, checkouts: 2, purchases: 1 },
            referrers: { "google.com": shard + 1 },
            vitals: { "/p/1": { INP: inp } },
          },
          online: 2,
        }),
      );
    }
    const client = await LiveTestClient.connect(worker, `http://collector.test/v1/live?site=${SITE}&token=${TOKEN}`);
    const snapshot = await client.next();
    client.close();

    const windows = await getJson(`/v1/metrics/windows?site=${SITE}`);
    expect(windows.status).toBe(200);
    const parsedWindows = windowsResponseSchema.parse(windows.body);
    expect(parsedWindows.windows).toHaveLength(DEFAULT_WINDOWS_LIMIT);
    expect(parsedWindows.windows).toEqual(snapshot.windows.slice(0, DEFAULT_WINDOWS_LIMIT));
    expect(parsedWindows.windows[0]).toMatchObject({ start: w0, page_views: 0 + 1 + 2 });
    expect(
      windowsResponseSchema.parse((await getJson(`/v1/metrics/windows?site=${SITE}&limit=5`)).body).windows,
    ).toHaveLength(5);

    const overview = overviewSchema.parse((await getJson(`/v1/metrics/overview?site=${SITE}`)).body);
    expect(overview).toEqual(snapshot.overview);
    expect(overview).toMatchObject({
      online: 6,
      totals: { page_views: 303, cart_adds: 3 },
      top_referrers: [{ host: "google.com", visits: 6 }],
    });

    const performance = performanceSchema.parse((await getJson(`/v1/metrics/performance?site=${SITE}`)).body);
    expect(performance).toEqual(snapshot.performance);
    expect(performance.pages[0]?.vitals.INP?.count).toBe(60);
  });

  it("refuses a missing token, a bad site and an unbounded limit with JSON errors", async () => {
    const cases: [string, Record<string, string>, number][] = [
      [`/v1/metrics/overview?site=${SITE}`, {}, 401],
      [`/v1/metrics/performance?site=${SITE}`, { Authorization: "Bearer wrong-token-wrong-token" }, 403],
      ["/v1/metrics/overview", auth, 400],
      [`/v1/metrics/windows?site=${SITE}&limit=0`, auth, 400],
      [`/v1/metrics/windows?site=${SITE}&limit=361`, auth, 400],
      [`/v1/metrics/windows?site=${SITE}&limit=ten`, auth, 400],
      ["/v1/metrics/windows?site=unknown-shop", { Authorization: "Bearer dev-admin-token" }, 403],
    ];
    for (const [path, headers, status] of cases) {
      const answer = await getJson(path, headers);
      expect({ path, status: answer.status }).toEqual({ path, status });
      errorResponseSchema.parse(answer.body);
    }
  });
});
