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
const ADMIN = "dev-admin-token";
const SITES = JSON.stringify([
  { key: SITE, origins: ["*"], token: TOKEN },
  { key: OTHER, origins: ["*"], token: OTHER_TOKEN },
]);
// The rate limit is off here (each test below that needs it sets it); concurrency stays at the default.
const testEnv: Env = { ...env, SITES, SQL_QUERIES_PER_MINUTE: "0" };

async function post(
  body: unknown,
  token: string | null = TOKEN,
  options: { env?: Env; path?: string } = {},
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  const request = new Request(`http://collector.test${options.path ?? "/v1/sql"}`, {
    method: "POST",
    headers,
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const response = await app.fetch(request, options.env ?? testEnv);
  return { status: response.status, body: await response.json(), headers: response.headers };
}

function errorOf(answer: { status: number; body: unknown }) {
  return errorResponseSchema.parse(answer.body).error;
}

beforeAll(async () => {
  const clickhouse = createClickHouse({
    url: env.CLICKHOUSE_URL,
    username: "default",
    password: "",
    database: "edgepulse",
  });
  const row = {
    window_seconds: 10,
    currency: "",
    events: 1,
    visitors: 1,
    sessions: 1,
    bounces: 0,
    cart_adds: 0,
    cart_removes: 0,
    checkouts: 0,
    purchases: 0,
    revenue: 0,
  };
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
    const answer = await post({
      site: SITE,
      query:
        "SELECT site, sum(page_views) AS views, count() AS windows FROM window_metrics GROUP BY site ORDER BY site",
    });
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
    const result = sqlResponseSchema.parse(
      (await post({ site: SITE, query: `SELECT count() AS n FROM window_metrics WHERE site = '${OTHER}'` })).body,
    );
    expect(result.rows).toEqual([["0"]]);
  });

  it("sees the campaign columns of migration 020 through the console views, which it replaced", async () => {
    for (const table of ["events", "sessions"]) {
      const result = sqlResponseSchema.parse(
        (
          await post({
            site: SITE,
            query: `SELECT utm_source, utm_medium, utm_campaign, utm_term, utm_content, channel FROM ${table} WHERE 0`,
          })
        ).body,
      );
      expect(result.columns.map((column) => column.name)).toEqual([
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_term",
        "utm_content",
        "channel",
      ]);
    }
  });

  it("answers the columns of an empty result", async () => {
    const result = sqlResponseSchema.parse(
      (await post({ site: SITE, query: "SELECT path, title FROM events WHERE 0" })).body,
    );
    expect(result.columns.map((column) => column.name)).toEqual(["path", "title"]);
    expect(result.rows).toEqual([]);
  });

  it.each([
    "INSERT INTO window_metrics (site, page_views) VALUES ('sql-shop', 1)",
    "ALTER TABLE window_metrics DELETE WHERE 1",
    "DROP TABLE events",
    "SELECT * FROM system.tables",
    "SELECT * FROM url('http://127.0.0.1:9/x', CSV, 'a String')",
    "SELECT 1 SETTINGS readonly = 0",
  ])("refuses %s with 403", async (query) => {
    const answer = await post({ site: SITE, query });
    expect(answer.status).toBe(403);
    expect(errorOf(answer).code).toBe("forbidden");
  });

  it("answers 400 UNKNOWN_TABLE for EdgePulse's other tables: they do not exist where console queries run", async () => {
    for (const query of ["SELECT * FROM quarantine", "SELECT * FROM schema_migrations"]) {
      const answer = await post({ site: SITE, query });
      expect(answer.status).toBe(400);
      expect(errorOf(answer).clickhouse_error).toBe("UNKNOWN_TABLE");
    }
  });

  it("answers a site token 400 query_failed with ClickHouse's error name and a message of ours", async () => {
    const answer = await post({ site: SITE, query: "SELECT no_such_column FROM events" });
    expect(answer.status).toBe(400);
    const error = errorOf(answer);
    expect(error.code).toBe("query_failed");
    expect(error.clickhouse_error).toBe("UNKNOWN_IDENTIFIER");
    expect(error.message).toBe("the query names a column or alias that does not exist (UNKNOWN_IDENTIFIER)");
  });

  it("places a syntax error in the query as typed, for a site token by line and column only", async () => {
    // ClickHouse reads "FORM" as an alias and stops at "events": character 26, line 2, column 13.
    const query = "SELECT site,\n  path FORM events WHERE";
    const site = errorOf(await post({ site: SITE, query }));
    expect(site).toMatchObject({ code: "query_failed", clickhouse_error: "SYNTAX_ERROR" });
    expect(site.message).toBe("the query has a syntax error at line 2, column 13 (SYNTAX_ERROR)");
    const admin = errorOf(await post({ site: SITE, query }, ADMIN));
    expect(admin.message).toMatch(/failed at position 26 \(events\) \(line 2, col 13\)/);
  });

  it("counts the blank lines and indent before the query into the place of a syntax error", async () => {
    // The same statement as above after two blank lines and an indent of 4: position 26 + 7,
    // line 2 + 2 (the error is on the statement's second line, whose column does not move).
    const indented = errorOf(await post({ site: SITE, query: "\n \n    SELECT site,\n  path FORM events WHERE" }));
    expect(indented.message).toBe("the query has a syntax error at line 4, column 13 (SYNTAX_ERROR)");
    const admin = errorOf(await post({ site: SITE, query: "\n \n    SELECT site,\n  path FORM events WHERE" }, ADMIN));
    expect(admin.message).toMatch(/failed at position 33 \(events\) \(line 4, col 13\)/);
    // On the statement's first line the indent moves the column: "events" at column 18 + 3.
    const firstLine = errorOf(await post({ site: SITE, query: "\n   SELECT path FORM events WHERE" }));
    expect(firstLine.message).toBe("the query has a syntax error at line 2, column 21 (SYNTAX_ERROR)");
  });

  it("never hands a site token ClickHouse's text, which can quote row values", async () => {
    const answer = await post({ site: SITE, query: "SELECT toUInt64(concat('row-value-', site)) FROM window_metrics" });
    expect(answer.status).toBe(400);
    const error = errorOf(answer);
    expect(error.clickhouse_error).toMatch(/^CANNOT_PARSE/);
    expect(JSON.stringify(answer.body)).not.toContain("row-value-");
  });

  it("gives the admin token ClickHouse's own text", async () => {
    const answer = await post(
      { site: SITE, query: "SELECT toUInt64(concat('row-value-', site)) FROM window_metrics" },
      ADMIN,
    );
    expect(answer.status).toBe(400);
    expect(errorOf(answer).message).toContain(`row-value-${SITE}`);
  });

  it("answers 400, not 503, for a query with a NUL or another control character", async () => {
    for (const query of ["SELECT 1\u0000", "SELECT\u0001 1", "SELECT '\u001b[2J'"]) {
      const answer = await post(`{"site":"${SITE}","query":"${query}"}`);
      expect(answer.status, query).toBe(400);
      expect(errorOf(answer).code).toBe("invalid_payload");
    }
    expect((await post({ site: SITE, query: "SELECT\t1\r\n" })).status).toBe(200);
  });

  it("takes the token only from the Authorization header, never from ?token=", async () => {
    const request = new Request(`http://collector.test/v1/sql?token=${TOKEN}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ site: SITE, query: "SELECT 1" }),
    });
    expect((await app.fetch(request, testEnv)).status).toBe(401);
  });

  it("answers 400 when the result exceeds max_rows instead of truncating it", async () => {
    const answer = await post({
      site: SITE,
      query: "SELECT arrayJoin(range(20)) AS n FROM window_metrics",
      max_rows: 5,
    });
    expect(answer.status).toBe(400);
    expect(errorOf(answer).message).toMatch(/limit/i);
    const within = sqlResponseSchema.parse(
      (await post({ site: SITE, query: "SELECT arrayJoin(range(3)) AS n FROM window_metrics", max_rows: 6 })).body,
    );
    expect(within.row_count).toBe(6);
    expect(within.max_rows).toBe(6);
  });
});

describe("POST /v1/sql limits per token", () => {
  it("runs at most SQL_MAX_CONCURRENT_PER_TOKEN queries of a token at once; the others get 429", async () => {
    const token = "sql-concurrency-token-0123456789";
    const limitedEnv: Env = {
      ...testEnv,
      SITES: JSON.stringify([{ key: SITE, origins: ["*"], token }]),
      SQL_MAX_CONCURRENT_PER_TOKEN: "1",
    };
    // A query that takes a while: one that reads many generated rows.
    const slow = {
      site: SITE,
      query: "SELECT count() FROM (SELECT arrayJoin(range(3000000)) AS n FROM window_metrics) WHERE n % 7 = 1",
    };
    const first = post(slow, token, { env: limitedEnv });
    // Give the first query a moment to take its slot, then ask again while it runs.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = await post({ site: SITE, query: "SELECT 1" }, token, { env: limitedEnv });
    expect(second.status).toBe(429);
    expect(errorOf(second).code).toBe("rate_limited");
    expect(Number(second.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
    expect((await first).status).toBe(200);
    // The slot is free again once the first query answered.
    expect((await post({ site: SITE, query: "SELECT 1" }, token, { env: limitedEnv })).status).toBe(200);
  });

  it("rate-limits each token's queries a minute, and another token is not affected", async () => {
    const token = "sql-rate-token-0123456789abcdef";
    const otherToken = "sql-rate-other-token-0123456789";
    const limitedEnv: Env = {
      ...testEnv,
      SITES: JSON.stringify([
        { key: SITE, origins: ["*"], token },
        { key: OTHER, origins: ["*"], token: otherToken },
      ]),
      SQL_QUERIES_PER_MINUTE: "6",
    };
    const statuses: number[] = [];
    for (let query = 0; query < 4; query++)
      statuses.push((await post({ site: SITE, query: "SELECT 1" }, token, { env: limitedEnv })).status);
    // A burst of a third of a minute's queries (2), then one every 10 s.
    expect(statuses).toEqual([200, 200, 429, 429]);
    expect((await post({ site: OTHER, query: "SELECT 1" }, otherToken, { env: limitedEnv })).status).toBe(200);
  });
});

describe("POST /v1/sql when the client goes away", () => {
  it("aborts the ClickHouse request, and the server kills the query", async () => {
    // The request's signal is what workerd aborts when the client disconnects (enable_request_signal);
    // here the test aborts it. A real disconnect does not reach the signal behind Miniflare's
    // entry worker, so this is the nearest the local runtime gets.
    const clickhouse = createClickHouse({
      url: env.CLICKHOUSE_URL,
      username: "default",
      password: "",
      database: "edgepulse",
    });
    const marker = `abandoned_console_${Date.now()}`;
    const running = async () => {
      const [row] = await clickhouse.query<{ n: number }>(
        `SELECT count() AS n FROM system.processes WHERE position(query, '${marker}') > 0 AND position(query, 'system.processes') = 0 AND NOT startsWith(query, 'KILL') AND position(query, 'EXPLAIN') = 0 AND NOT startsWith(query, 'DESCRIBE')`,
      );
      return Number(row?.n);
    };
    const controller = new AbortController();
    const query = `SELECT count() AS ${marker} FROM (SELECT arrayJoin(range(100000)) AS n FROM window_metrics) AS a CROSS JOIN (SELECT arrayJoin(range(100000)) AS m FROM window_metrics) AS b WHERE cityHash64(n, m) % 7 = 1`;
    const request = new Request("http://collector.test/v1/sql", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ site: SITE, query }),
      signal: controller.signal,
    });
    const answer = Promise.resolve(app.fetch(request, testEnv));
    // On a loaded runner the guard's two EXPLAINs and a free engine slot can take seconds: wait
    // up to 30 s for the query to show, and if the route answers first, fail with its answer.
    const early: { response: Response | null } = { response: null };
    void answer.then((response) => {
      early.response = response;
    });
    const showsBy = Date.now() + 30_000;
    while ((await running()) === 0 && Date.now() < showsBy) {
      if (early.response !== null)
        throw new Error(
          `the route answered ${early.response.status} before the query ran: ${await early.response.text()}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await running()).toBe(1);
    controller.abort();
    expect((await answer).status).toBe(499);
    // Without the cancel it would run on to its 10 s limit; polls stop after about 3 s.
    for (let attempt = 0; attempt < 60 && (await running()) > 0; attempt++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await running()).toBe(0);
  });
});
