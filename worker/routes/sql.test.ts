/**
 * `POST /v1/sql` against the real ClickHouse engine: auth, body validation, results limited
 * to the token's site, refusals of writes and of other tables, and the row limit.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createClickHouse } from "../../clickhouse/client";
import { toDateTime } from "../../clickhouse/rows";
import { errorResponseSchema } from "../../protocol";
import { sqlResponseSchema } from "../../protocol/history";
import { app } from "../app";

const SITE = "sql-shop";
const OTHER = "sql-other";
const TOKEN = "sql-shop-read-token-0123456789abc";
const OTHER_TOKEN = "sql-other-read-token-0123456789ab";
const testEnv: Env = {
  ...env,
  SITES: JSON.stringify([
    { key: SITE, origins: ["*"], token: TOKEN },
    { key: OTHER, origins: ["*"], token: OTHER_TOKEN },
  ]),
};

async function post(body: unknown, token: string | null = TOKEN): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  const request = new Request("http://collector.test/v1/sql", { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) });
  const response = await app.fetch(request, testEnv);
  return { status: response.status, body: await response.json() };
}

function errorOf(answer: { status: number; body: unknown }) {
  return errorResponseSchema.parse(answer.body).error;
}

beforeAll(async () => {
  const clickhouse = createClickHouse({ url: env.CLICKHOUSE_URL, username: "default", password: "", database: "edgepulse" });
  const row = { window_seconds: 10, currency: "", events: 1, visitors: 1, sessions: 1, bounces: 0, cart_adds: 0, cart_removes: 0, checkouts: 0, purchases: 0, revenue: 0 };
  await clickhouse.insert(
    "window_metrics",
    [
      { ...row, site: SITE, window_start: toDateTime(Date.UTC(2025, 3, 1, 10, 0, 0)), page_views: 3 },
      { ...row, site: SITE, window_start: toDateTime(Date.UTC(2025, 3, 1, 10, 0, 10)), page_views: 4 },
      { ...row, site: OTHER, window_start: toDateTime(Date.UTC(2025, 3, 1, 10, 0, 0)), page_views: 1000 },
    ],
    "sql-route-windows",
  );
});

describe("POST /v1/sql access and validation", () => {
  it("answers 401 without a token and 403 for another site's token", async () => {
    expect((await post({ site: SITE, query: "SELECT 1" }, null)).status).toBe(401);
    const forbidden = await post({ site: SITE, query: "SELECT 1" }, OTHER_TOKEN);
    expect(forbidden.status).toBe(403);
    expect(errorOf(forbidden).code).toBe("forbidden");
  });

  it("answers 400 for a body that is not JSON or misses the query", async () => {
    expect(errorOf(await post("SELECT 1")).code).toBe("invalid_payload");
    const missing = await post({ site: SITE });
    expect(missing.status).toBe(400);
    expect(errorOf(missing).issues?.map((issue) => issue.path)).toContain("query");
    expect((await post({ site: SITE, query: "SELECT 1", max_rows: 0 })).status).toBe(400);
  });

  it("answers 413 for a body far beyond the longest query", async () => {
    const answer = await post({ site: SITE, query: `SELECT '${"x".repeat(100_000)}'` });
    expect(answer.status).toBe(413);
  });
});

describe("POST /v1/sql results", () => {
  it("runs a SELECT and answers columns with types and rows, limited to the token's site", async () => {
    const answer = await post({ site: SITE, query: "SELECT site, sum(page_views) AS views, count() AS windows FROM window_metrics GROUP BY site ORDER BY site" });
    expect(answer.status).toBe(200);
    const result = sqlResponseSchema.parse(answer.body);
    expect(result.columns).toEqual([
      { name: "site", type: "LowCardinality(String)" },
      { name: "views", type: "UInt64" },
      { name: "windows", type: "UInt64" },
    ]);
    // 64-bit integers come as strings, exact at any size.
    expect(result.rows).toEqual([[SITE, "7", "2"]]);
    expect(result.row_count).toBe(1);
  });

  it("a query naming the other site still reads nothing of it", async () => {
    const result = sqlResponseSchema.parse((await post({ site: SITE, query: `SELECT count() AS n FROM window_metrics WHERE site = '${OTHER}'` })).body);
    expect(result.rows).toEqual([["0"]]);
  });

  it("answers the columns of an empty result", async () => {
    const result = sqlResponseSchema.parse((await post({ site: SITE, query: "SELECT path, title FROM events WHERE 0" })).body);
    expect(result.columns.map((column) => column.name)).toEqual(["path", "title"]);
    expect(result.rows).toEqual([]);
  });

  it.each([
    "INSERT INTO window_metrics (site, page_views) VALUES ('sql-shop', 1)",
    "ALTER TABLE window_metrics DELETE WHERE 1",
    "DROP TABLE events",
    "SELECT * FROM system.tables",
    "SELECT * FROM quarantine",
    "SELECT * FROM url('http://127.0.0.1:9/x', CSV, 'a String')",
    "SELECT 1 SETTINGS readonly = 0",
  ])("refuses %s with 403", async (query) => {
    const answer = await post({ site: SITE, query });
    expect(answer.status).toBe(403);
    expect(errorOf(answer).code).toBe("forbidden");
  });

  it("answers 400 query_failed with ClickHouse's reason for a query it cannot run", async () => {
    const answer = await post({ site: SITE, query: "SELECT no_such_column FROM events" });
    expect(answer.status).toBe(400);
    const error = errorOf(answer);
    expect(error.code).toBe("query_failed");
    expect(error.message).toMatch(/no_such_column/);
  });

  it("answers 400 when the result exceeds max_rows instead of truncating it", async () => {
    const answer = await post({ site: SITE, query: "SELECT arrayJoin(range(20)) AS n FROM window_metrics", max_rows: 5 });
    expect(answer.status).toBe(400);
    expect(errorOf(answer).message).toMatch(/limit/i);
    const within = sqlResponseSchema.parse((await post({ site: SITE, query: "SELECT arrayJoin(range(3)) AS n FROM window_metrics", max_rows: 6 })).body);
    expect(within.row_count).toBe(6);
    expect(within.max_rows).toBe(6);
  });
});
