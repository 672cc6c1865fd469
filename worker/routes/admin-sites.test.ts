import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createClickHouse } from "../../clickhouse/client";
import { toDateTime } from "../../clickhouse/rows";
import { eventRow } from "../../test/support/clickhouse-rows";
import { LiveTestClient } from "../../durable-objects/live-hub/live-test-client";
import { ingestShardName } from "../../common/shard-routing";
import { errorResponseSchema } from "../../protocol";
import { createdTokenSchema, siteDeletionSchema, siteSchema, tokenInfoSchema } from "../../protocol/sites";

const ADMIN = "dev-admin-token";
let counter = 0;
const uniqueKey = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${counter++}`;

async function call(
  method: string,
  path: string,
  options: { token?: string | null; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Response> {
  const token = options.token === undefined ? ADMIN : options.token;
  const headers: Record<string, string> = {
    ...(token === null ? {} : { Authorization: `Bearer ${token}` }),
    ...options.headers,
  };
  const init: RequestInit = { method, headers };
  if (options.body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
  }
  return exports.default.fetch(new Request(`http://collector.test${path}`, init));
}

async function expectError(response: Response, status: number, code: string): Promise<string> {
  expect(response.status).toBe(status);
  const body = errorResponseSchema.parse(await response.json());
  expect(body.error.code).toBe(code);
  return body.error.message;
}

async function createSite(origins: string[] = ["https://shop.example"]): Promise<string> {
  const key = uniqueKey("s");
  const response = await call("POST", "/v1/admin/sites", { body: { key, origins, time_zone: "Europe/Berlin" } });
  expect(response.status).toBe(201);
  return key;
}

async function createToken(key: string, scopes: string[]) {
  const response = await call("POST", `/v1/admin/sites/${key}/tokens`, { body: { scopes, label: "test" } });
  expect(response.status).toBe(201);
  return createdTokenSchema.parse(await response.json());
}

function batch(site: string, now = Date.now()) {
  return JSON.stringify({
    v: 1,
    site,
    batch: uniqueKey("b"),
    sent_at: now,
    visitor: "visitor-1",
    events: [{ type: "page_view", id: "e1", ts: now - 10, url: "https://shop.example/" }],
  });
}

describe("/v1/admin/sites: access", () => {
  it("answers 401 without a token and 403 with a site token", async () => {
    await expectError(await call("GET", "/v1/admin/sites", { token: null }), 401, "unauthorized");
    const key = await createSite();
    const { token } = await createToken(key, ["read", "sql", "alerts"]);
    await expectError(await call("GET", "/v1/admin/sites", { token }), 403, "forbidden");
  });
});

describe("/v1/admin/sites: sites", () => {
  it("creates, lists, gets and updates a site; the seed is listed read-only", async () => {
    const key = await createSite();
    const listed = siteSchema
      .array()
      .parse(((await (await call("GET", "/v1/admin/sites")).json()) as { sites: unknown }).sites);
    expect(listed.find((site) => site.key === "demo")).toMatchObject({ source: "config", origins: ["*"] });
    expect(listed.find((site) => site.key === key)).toMatchObject({
      source: "registry",
      origins: ["https://shop.example"],
      time_zone: "Europe/Berlin",
    });

    const patched = await call("PATCH", `/v1/admin/sites/${key}`, {
      body: { origins: ["https://new.example"], limits: { batches_per_second: 5, batch_burst: 10 } },
    });
    expect(patched.status).toBe(200);
    expect(siteSchema.parse(await patched.json())).toMatchObject({
      origins: ["https://new.example"],
      limits: { batches_per_second: 5, batch_burst: 10 },
      time_zone: "Europe/Berlin",
    });
    expect(siteSchema.parse(await (await call("GET", `/v1/admin/sites/${key}`)).json()).origins).toEqual([
      "https://new.example",
    ]);
  });

  it("refuses a duplicate key, a seed key, bad input and unknown sites with 4xx JSON", async () => {
    const key = await createSite();
    await expectError(await call("POST", "/v1/admin/sites", { body: { key } }), 409, "conflict");
    await expectError(await call("POST", "/v1/admin/sites", { body: { key: "demo" } }), 409, "conflict");
    await expectError(await call("PATCH", "/v1/admin/sites/demo", { body: { origins: [] } }), 409, "conflict");
    await expectError(await call("POST", "/v1/admin/sites", { body: { key: "Bad Key" } }), 400, "invalid_payload");
    await expectError(
      await call("POST", "/v1/admin/sites", { body: { key: uniqueKey("s"), origins: ["https://x.example/path"] } }),
      400,
      "invalid_payload",
    );
    await expectError(
      await call("POST", "/v1/admin/sites", { body: { key: uniqueKey("s"), time_zone: "Mars/Olympus" } }),
      400,
      "invalid_payload",
    );
    await expectError(await call("POST", "/v1/admin/sites", { body: "{not json" }), 400, "invalid_payload");
    await expectError(await call("PATCH", `/v1/admin/sites/${key}`, { body: {} }), 400, "invalid_payload");
    await expectError(await call("GET", "/v1/admin/sites/nope-never"), 404, "not_found");
    await expectError(await call("PATCH", "/v1/admin/sites/nope-never", { body: { origins: [] } }), 404, "not_found");
  });

  it("lets a new site ingest from its origins only, without a redeploy", async () => {
    const key = await createSite(["https://shop.example"]);
    const post = (origin: string) =>
      call("POST", "/v1/events", {
        token: null,
        body: batch(key),
        headers: { Origin: origin, "Content-Type": "text/plain" },
      });
    expect((await post("https://shop.example")).status).toBe(202);
    await expectError(await post("https://evil.example"), 403, "origin_not_allowed");
    const preflight = await exports.default.fetch(
      new Request("http://collector.test/v1/events", {
        method: "OPTIONS",
        headers: { Origin: "https://shop.example" },
      }),
    );
    expect(preflight.status).toBe(204);
  });
});

describe("/v1/admin/sites/:key/tokens", () => {
  it("shows a token once, lists it without the secret, and enforces its scopes", async () => {
    const key = await createSite();
    const other = await createSite();
    const created = await createToken(key, ["read"]);
    expect(created.token).toMatch(/^ep_[A-Za-z0-9_-]{43}$/);
    const listText = await (await call("GET", `/v1/admin/sites/${key}/tokens`)).text();
    expect(listText).not.toContain(created.token);
    const listed = tokenInfoSchema.array().parse((JSON.parse(listText) as { tokens: unknown }).tokens);
    expect(listed).toEqual([
      {
        id: created.id,
        site: key,
        scopes: ["read"],
        label: "test",
        hint: created.token.slice(0, 7),
        created_at: created.created_at,
        revoked_at: null,
      },
    ]);

    expect((await call("GET", `/v1/metrics/overview?site=${key}`, { token: created.token })).status).toBe(200);
    await expectError(
      await call("GET", `/v1/metrics/overview?site=${other}`, { token: created.token }),
      403,
      "forbidden",
    );
    const sqlBody = { site: key, query: "SELECT count() FROM events" };
    expect(
      await expectError(await call("POST", "/v1/sql", { token: created.token, body: sqlBody }), 403, "forbidden"),
    ).toContain('"sql" scope');
    const sqlToken = await createToken(key, ["sql"]);
    expect((await call("POST", "/v1/sql", { token: sqlToken.token, body: sqlBody })).status).toBe(200);
    await expectError(
      await call("GET", `/v1/metrics/overview?site=${key}`, { token: sqlToken.token }),
      403,
      "forbidden",
    );

    const mine = await call("GET", "/v1/sites", { token: created.token });
    expect(await mine.json()).toEqual({ admin: false, sites: [{ key, time_zone: "Europe/Berlin", scopes: ["read"] }] });
  });

  it("closes the live sockets a token holds when it is revoked", async () => {
    const key = await createSite();
    const created = await createToken(key, ["read"]);
    const client = await LiveTestClient.connect(
      exports.default,
      `http://collector.test/v1/live?site=${key}&token=${created.token}`,
    );
    await client.next((message) => message.type === "snapshot");
    const closed = new Promise<number>((resolve) =>
      client.socket.addEventListener("close", (event) => resolve(event.code)),
    );
    expect((await call("DELETE", `/v1/admin/sites/${key}/tokens/${created.id}`)).status).toBe(200);
    expect(await closed).toBe(4401);
    const again = await exports.default.fetch(
      new Request(`http://collector.test/v1/live?site=${key}&token=${created.token}`, {
        headers: { Upgrade: "websocket" },
      }),
    );
    await expectError(again, 403, "forbidden");
  });

  it("revokes a token (refused from then on) and rotates one (old refused, new works, same scopes)", async () => {
    const key = await createSite();
    const first = await createToken(key, ["read", "sql"]);
    const rotated = await call("POST", `/v1/admin/sites/${key}/tokens/${first.id}/rotate`);
    expect(rotated.status).toBe(201);
    const second = createdTokenSchema.parse(await rotated.json());
    expect(second.scopes).toEqual(["read", "sql"]);
    expect(second.token).not.toBe(first.token);
    await expectError(await call("GET", `/v1/metrics/overview?site=${key}`, { token: first.token }), 403, "forbidden");
    expect((await call("GET", `/v1/metrics/overview?site=${key}`, { token: second.token })).status).toBe(200);

    const revoked = await call("DELETE", `/v1/admin/sites/${key}/tokens/${second.id}`);
    expect(tokenInfoSchema.parse(await revoked.json()).revoked_at).toBeTypeOf("number");
    await expectError(await call("GET", `/v1/metrics/overview?site=${key}`, { token: second.token }), 403, "forbidden");
    await expectError(await call("GET", "/v1/sites", { token: second.token }), 403, "forbidden");
    await expectError(await call("DELETE", `/v1/admin/sites/${key}/tokens/tok_nope`), 404, "not_found");
    await expectError(await call("DELETE", `/v1/admin/sites/${key}/tokens/not-an-id`), 400, "invalid_payload");
    await expectError(
      await call("POST", `/v1/admin/sites/${key}/tokens`, { body: { scopes: ["write"] } }),
      400,
      "invalid_payload",
    );
  });
});

const event = (site: string, id: string, ts: number) =>
  eventRow(site, id, ts, { batch_id: "admin-test", url: "https://shop.example/" });

describe("export and delete", () => {
  const clickhouse = createClickHouse({
    url: env.CLICKHOUSE_URL,
    username: "default",
    password: "",
    database: "edgepulse",
  });
  const count = async (table: string, site: string) =>
    Number(
      (
        await clickhouse.query<{ n: number }>(`SELECT count() AS n FROM ${table} WHERE site = {site:String}`, { site })
      )[0]?.n,
    );

  it("exports a site's raw events as NDJSON and CSV", async () => {
    const key = await createSite();
    const t0 = Date.UTC(2025, 5, 1);
    await clickhouse.insert(
      "events",
      [event(key, "e1", t0), event(key, "e2", t0 + 1000), event("demo", "x", t0)],
      `export-${key}`,
    );
    const ndjson = await call("GET", `/v1/admin/sites/${key}/export?format=ndjson`);
    expect(ndjson.headers.get("Content-Type")).toContain("application/x-ndjson");
    const lines = (await ndjson.text())
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { site: string; event_id: string });
    expect(lines.map((line) => [line.site, line.event_id])).toEqual([
      [key, "e1"],
      [key, "e2"],
    ]);
    const csv = await call("GET", `/v1/admin/sites/${key}/export?format=csv`);
    const rows = (await csv.text()).trim().split("\n");
    expect(rows).toHaveLength(3);
    expect(rows[0]).toContain('"event_id"');
    await expectError(await call("GET", `/v1/admin/sites/${key}/export?format=xml`), 400, "invalid_payload");
    await expectError(await call("GET", "/v1/admin/sites/nope-never/export"), 404, "not_found");
  });

  it("deletes the site, its tokens, its ClickHouse rows and its shards' state, and says so", async () => {
    const key = await createSite();
    const { token } = await createToken(key, ["read"]);
    expect(
      (await call("POST", "/v1/events", { token: null, body: batch(key), headers: { "Content-Type": "text/plain" } }))
        .status,
    ).toBe(202);
    const t0 = Date.UTC(2025, 5, 2);
    await clickhouse.insert(
      "events",
      [event(key, "e1", t0), event(key, "e2", t0), event("demo", `keep-${key}`, t0)],
      `delete-${key}`,
    );
    await clickhouse.insert(
      "window_metrics",
      [
        {
          site: key,
          window_start: toDateTime(t0),
          window_seconds: 10,
          currency: "",
          events: 2,
          page_views: 2,
          visitors: 1,
          sessions: 1,
          bounces: 0,
          cart_adds: 0,
          cart_removes: 0,
          checkouts: 0,
          purchases: 0,
          revenue: 0,
        },
      ],
      `delete-w-${key}`,
    );

    const response = await call("DELETE", `/v1/admin/sites/${key}`);
    expect(response.status).toBe(200);
    const answer = siteDeletionSchema.parse(await response.json());
    expect(answer.deleted.registry).toEqual({ site: true, tokens: 1 });
    expect(answer.deleted.clickhouse.events).toBeGreaterThanOrEqual(2);
    expect(answer.deleted.clickhouse.window_metrics).toBeGreaterThanOrEqual(1);
    expect(Object.keys(answer.deleted.clickhouse)).toEqual(
      expect.arrayContaining(["events", "sessions", "window_metrics"]),
    );
    expect(answer.deleted.durable_objects.ingest_shards).toBeGreaterThan(0);

    expect(await count("events", key)).toBe(0);
    expect(await count("window_metrics", key)).toBe(0);
    expect(await count("events", "demo")).toBeGreaterThan(0);
    for (let shard = 0; shard < answer.deleted.durable_objects.ingest_shards; shard++) {
      const stats = await env.INGEST_SHARD.get(env.INGEST_SHARD.idFromName(ingestShardName(key, shard))).stats();
      expect(stats.site).toBeNull();
    }
    await expectError(await call("GET", `/v1/admin/sites/${key}`), 404, "not_found");
    await expectError(await call("GET", `/v1/metrics/overview?site=${key}`, { token }), 403, "forbidden");
    await expectError(
      await call("POST", "/v1/events", { token: null, body: batch(key), headers: { "Content-Type": "text/plain" } }),
      403,
      "unknown_site",
    );
    await expectError(await call("DELETE", "/v1/admin/sites/demo"), 409, "conflict");
  }, 60_000);
});
