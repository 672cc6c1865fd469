import { createExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../app";

describe("GET /healthz", () => {
  it("answers 200 ok", async () => {
    const response = await exports.default.fetch(new Request("http://collector.test/healthz"));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });
});

describe("GET /readyz", () => {
  it("answers 200 when ClickHouse answers and the schema is current", async () => {
    const response = await exports.default.fetch(new Request("http://collector.test/readyz"));
    expect(await response.json()).toEqual({ status: "ok", checks: { settings: "ok", clickhouse: "ok", schema: "ok" } });
    expect(response.status).toBe(200);
  });

  it("answers 503 not_ready naming the failing check when ClickHouse is unreachable", async () => {
    // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    const response = await app.fetch(
      new Request("http://collector.test/readyz"),
      { ...env, CLICKHOUSE_URL: "http://127.0.0.1:9" },
      createExecutionContext(),
    );
    expect(response.status).toBe(503);
    const body: { status: string; checks: { clickhouse: string; schema: string } } = await response.json();
    expect(body.status).toBe("not_ready");
    expect(body.checks.clickhouse).not.toBe("ok");
    expect(body.checks.schema).not.toBe("ok");
  });

  it("names every missing production setting when LOCAL_DEV is off", async () => {
    const production = { ...env, LOCAL_DEV: "", CLICKHOUSE_URL: "", ADMIN_TOKEN: "", VISITOR_SECRET: "" };
    const response = await app.fetch(new Request("http://collector.test/readyz"), production, createExecutionContext());
    expect(response.status).toBe(503);
    const body: { checks: { settings: string; clickhouse: string } } = await response.json();
    expect(body.checks.settings).toBe("missing: CLICKHOUSE_URL, ADMIN_TOKEN, VISITOR_SECRET");
    expect(body.checks.clickhouse).toBe("CLICKHOUSE_URL is not configured");
  });

  it("has the routes that need a missing setting refuse with 503 naming it", async () => {
    const production = {
      ...env,
      LOCAL_DEV: "",
      CLICKHOUSE_URL: "",
      ADMIN_TOKEN: "",
      VISITOR_SECRET: "",
      SITES: JSON.stringify([{ key: "shop", origins: ["*"], token: "shop-token-0123456789abcdef" }]),
    };
    const call = async (path: string, init: RequestInit = {}) => {
      const response = await app.fetch(
        new Request(`http://collector.test${path}`, init),
        production,
        createExecutionContext(),
      );
      return {
        status: response.status,
        message: ((await response.json()) as { error: { message: string } }).error.message,
      };
    };
    const shop = { Authorization: "Bearer shop-token-0123456789abcdef" };
    expect(await call("/v1/history/pages?site=shop", { headers: shop })).toMatchObject({
      status: 503,
      message: expect.stringContaining("CLICKHOUSE_URL is not set"),
    });
    expect(
      await call("/v1/sql", {
        method: "POST",
        headers: shop,
        body: JSON.stringify({ site: "shop", query: "SELECT 1" }),
      }),
    ).toMatchObject({ status: 503, message: expect.stringContaining("CLICKHOUSE_URL is not set") });
    expect(await call("/v1/admin/sites", { headers: { Authorization: "Bearer anything-at-all" } })).toMatchObject({
      status: 503,
      message: expect.stringContaining("ADMIN_TOKEN is not set"),
    });
    const batch = {
      v: 1,
      site: "shop",
      batch: "b-prod-check",
      sent_at: Date.now(),
      events: [{ type: "page_view", id: "e1", ts: Date.now(), url: "https://shop.example/" }],
    };
    expect(
      await call("/v1/events", {
        method: "POST",
        headers: { "Content-Type": "text/plain" },
        body: JSON.stringify(batch),
      }),
    ).toMatchObject({ status: 503, message: expect.stringContaining("VISITOR_SECRET is not set") });
  });

  it("answers 503 when the schema is older than this code (a database without migrations)", async () => {
    const response = await app.fetch(
      new Request("http://collector.test/readyz"),
      { ...env, CLICKHOUSE_DATABASE: "not_migrated" },
      createExecutionContext(),
    );
    expect(response.status).toBe(503);
    const body: { checks: { clickhouse: string; schema: string } } = await response.json();
    expect(body.checks.clickhouse).toBe("ok");
    expect(body.checks.schema).not.toBe("ok");
  });
});
