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
    expect(await response.json()).toEqual({ status: "ok", checks: { clickhouse: "ok", schema: "ok" } });
    expect(response.status).toBe(200);
  });

  it("answers 503 not_ready naming the failing check when ClickHouse is unreachable", async () => {
    // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    const response = await app.fetch(new Request("http://collector.test/readyz"), { ...env, CLICKHOUSE_URL: "http://127.0.0.1:9" }, createExecutionContext());
    expect(response.status).toBe(503);
    const body: { status: string; checks: { clickhouse: string; schema: string } } = await response.json();
    expect(body.status).toBe("not_ready");
    expect(body.checks.clickhouse).not.toBe("ok");
    expect(body.checks.schema).not.toBe("ok");
  });

  it("answers 503 when the schema is older than this code (a database without migrations)", async () => {
    const response = await app.fetch(new Request("http://collector.test/readyz"), { ...env, CLICKHOUSE_DATABASE: "not_migrated" }, createExecutionContext());
    expect(response.status).toBe(503);
    const body: { checks: { clickhouse: string; schema: string } } = await response.json();
    expect(body.checks.clickhouse).toBe("ok");
    expect(body.checks.schema).not.toBe("ok");
  });
});
