import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { errorResponseSchema } from "../../protocol";
import { LiveTestClient } from "../../durable-objects/live-test-client";
import { counts, shardState } from "../../durable-objects/shard-state-fixture";
import { app } from "../app";

const SITE = "live-route-shop";
const OTHER = "live-route-other";
const SITE_TOKEN = "live-route-shop-token-0123456789";
const OTHER_TOKEN = "live-route-other-token-012345678";
/** The Worker with two sites of its own, so no other test's traffic reaches these hubs. */
const testEnv: Env = {
  ...env,
  SITES: JSON.stringify([
    { key: SITE, origins: ["*"], token: SITE_TOKEN },
    { key: OTHER, origins: ["*"], token: OTHER_TOKEN },
  ]),
};
const worker = { fetch: (input: string, init?: RequestInit) => app.fetch(new Request(input, init), testEnv) };

async function refusal(url: string, headers: Record<string, string> = { Upgrade: "websocket" }) {
  const response = await worker.fetch(url, { headers });
  expect(response.webSocket).toBeNull();
  return { status: response.status, body: errorResponseSchema.parse(await response.json()) };
}

describe("GET /v1/live", () => {
  it("refuses a client without a token with 401 JSON and no upgrade", async () => {
    const { status, body } = await refusal(`http://collector.test/v1/live?site=${SITE}`);
    expect(status).toBe(401);
    expect(body.error.code).toBe("unauthorized");
  });

  it("refuses a wrong token, another site's token and an unknown site with 403", async () => {
    expect((await refusal(`http://collector.test/v1/live?site=${SITE}&token=not-the-token-at-all`)).status).toBe(403);
    expect((await refusal(`http://collector.test/v1/live?site=${SITE}&token=${OTHER_TOKEN}`)).body.error.code).toBe("forbidden");
    expect((await refusal("http://collector.test/v1/live?site=nobody&token=dev-admin-token")).body.error.code).toBe("unknown_site");
  });

  it("answers a malformed site with 400 and a plain GET with 426", async () => {
    expect((await refusal("http://collector.test/v1/live?site=NO%20SUCH&token=dev-admin-token")).status).toBe(400);
    expect((await refusal(`http://collector.test/v1/live?site=${SITE}&token=${SITE_TOKEN}`, {})).status).toBe(426);
  });

  it("upgrades with the site's token (query or header) and streams the site's hub", async () => {
    const now = Date.now();
    const hub = env.LIVE_HUB.get(env.LIVE_HUB.idFromName(SITE));
    await hub.applyShardState(shardState(SITE, 0, 1, now, { today: { counts: counts({ page_views: 3 }) }, online: 1 }));
    const client = await LiveTestClient.connect(worker, `http://collector.test/v1/live?site=${SITE}&token=${SITE_TOKEN}`);
    expect(await client.next()).toMatchObject({ type: "snapshot", site: SITE, online: 1, totals: { page_views: 3 } });
    await hub.applyShardState(shardState(SITE, 0, 2, now, { today: { counts: counts({ page_views: 4 }) }, online: 1 }));
    expect(await client.next()).toMatchObject({ type: "update", totals: { page_views: 4 } });
    client.close();
    const response = await worker.fetch(`http://collector.test/v1/live?site=${SITE}`, {
      headers: { Upgrade: "websocket", Authorization: "Bearer dev-admin-token" },
    });
    expect(response.status).toBe(101);
    response.webSocket?.accept();
    response.webSocket?.close(1000, "done");
  });
});
