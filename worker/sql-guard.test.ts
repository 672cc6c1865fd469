/**
 * The SQL console's guard against the real ClickHouse engine (the workers pool's local
 * server): what it lets through, what it refuses and at which layer, and that the site
 * filter it sets is applied by ClickHouse itself.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createClickHouse } from "../clickhouse/client";
import { toDateTime } from "../clickhouse/rows";
import {
  type ExplainRunner,
  SqlRejectedError,
  checkQueryTree,
  checkSyntaxTree,
  guardSqlQuery,
  siteFilterSetting,
  startsAsSelect,
} from "./sql-guard";

const DATABASE = "edgepulse";
const clickhouse = createClickHouse({ url: env.CLICKHOUSE_URL, username: "default", password: "", database: DATABASE });
const runner: ExplainRunner = {
  async explain(statement, settings) {
    return (await clickhouse.query<{ explain: string }>(statement, {}, settings)).map((row) => row.explain);
  },
};
const options = { database: DATABASE, site: "guard-a", maxRows: 100, maxExecutionSeconds: 5 };
const guard = (query: string) => guardSqlQuery(query, options, runner);

async function refusal(query: string): Promise<Error> {
  const error = await guard(query).then(
    () => null,
    (caught: unknown) => caught,
  );
  if (!(error instanceof Error)) throw new Error(`expected ${query} to be refused`);
  return error;
}

beforeAll(async () => {
  const windowStart = toDateTime(Date.UTC(2025, 0, 2, 10, 0, 0));
  const row = { window_start: windowStart, window_seconds: 10, currency: "", events: 3, visitors: 1, sessions: 1, bounces: 0, cart_adds: 0, cart_removes: 0, checkouts: 0, purchases: 0, revenue: 0 };
  await clickhouse.insert(
    "window_metrics",
    [
      { ...row, site: "guard-a", page_views: 2 },
      { ...row, site: "guard-b", page_views: 40 },
    ],
    "sql-guard-test-rows",
  );
});

describe("guardSqlQuery accepts reads of the site's tables", () => {
  it.each([
    "SELECT site, sum(page_views) AS views FROM window_metrics GROUP BY site",
    "SELECT * FROM edgepulse.events LIMIT 5",
    "WITH recent AS (SELECT * FROM events WHERE ts > now() - INTERVAL 1 DAY) SELECT count() FROM recent",
    "SELECT count() FROM events AS e JOIN sessions AS s ON e.session_id = s.session_id",
    "SELECT path FROM events WHERE session_id IN (SELECT session_id FROM sessions WHERE bounced = 1)",
    "SELECT 1 AS one",
    "(SELECT 1) UNION ALL (SELECT 2)",
    "-- the day's page views\nSELECT count() FROM events WHERE type = 'page_view';",
    "/* leading comment */ select count() from window_metrics -- trailing comment",
  ])("%s", async (query) => {
    const guarded = await guard(query);
    expect(guarded.settings.readonly).toBe(1);
    expect(guarded.sql.endsWith(";")).toBe(false);
  });
});

describe("guardSqlQuery refuses", () => {
  it.each([
    ["INSERT INTO events (site) VALUES ('x')", /only SELECT/],
    ["DROP TABLE events", /only SELECT/],
    ["ALTER TABLE events DELETE WHERE 1", /only SELECT/],
    ["TRUNCATE TABLE sessions", /only SELECT/],
    ["SYSTEM FLUSH LOGS", /only SELECT/],
    ["SELECT 1 SETTINGS max_threads = 1", /SETTINGS/],
    ["SELECT * FROM (SELECT count() FROM events SETTINGS additional_table_filters = {})", /SETTINGS/],
    ["SELECT * FROM system.tables", /not system\.tables/],
    ["SELECT count() FROM events WHERE site IN (SELECT name FROM system.databases)", /system/],
    ["SELECT count() FROM events WHERE path IN system.tables", /system database/],
    ["SELECT (SELECT count() FROM system.processes)", /system/],
    ["WITH tables AS (SELECT 1) SELECT * FROM system.tables", /system/],
    ["SELECT * FROM quarantine", /not edgepulse\.quarantine/],
    ["SELECT * FROM schema_migrations", /not edgepulse\.schema_migrations/],
    ["SELECT * FROM default.events", /default\.events/],
    ["SELECT * FROM url('http://127.0.0.1:9/x', CSV, 'a String')", /table functions/],
    ["SELECT * FROM file('/etc/passwd', LineAsString)", /table functions/],
    ["SELECT * FROM remote('127.0.0.1', system.one)", /table functions/],
    ["SELECT * FROM s3('http://127.0.0.1:9/bucket/x.csv')", /table functions/],
    ["SELECT * FROM numbers(10)", /table functions/],
    ["SELECT * FROM merge('edgepulse', '.*')", /table functions/],
    ["SELECT * FROM events AS e JOIN url('http://127.0.0.1:9/x', CSV, 'a String') AS u ON 1", /table functions/],
    ["SELECT file('secrets.txt')", /function file/],
    ["SELECT dictGet('other.dictionary', 'value', toUInt64(1))", /function dictget/],
    ["SELECT hasColumnInTable('system', 'users', 'name')", /function hascolumnintable/],
    ["SELECT count() FROM events WHERE hasColumnInTable('other_db', 'customers', 'email')", /function hascolumnintable/],
    ["SELECT serverUUID()", /function serveruuid/],
  ])("%s", async (query, reason) => {
    const error = await refusal(query);
    expect(error).toBeInstanceOf(SqlRejectedError);
    expect(error.message).toMatch(reason);
  });

  it.each(["SELECT 1; DROP TABLE events", "SELECT 1 FORMAT CSV", "SELECT 1 INTO OUTFILE '/tmp/x'", "SELEC 1 FROM events"])(
    "%s (ClickHouse itself refuses to parse it)",
    async (query) => {
      await refusal(query);
      // And nothing happened to the tables.
      expect(await clickhouse.query("SELECT count() AS n FROM system.tables WHERE database = 'edgepulse' AND name = 'events'")).toEqual([{ n: 1 }]);
    },
  );
});

describe("the settings a guarded query runs under", () => {
  it("let ClickHouse filter every allowed table to the site, even when the query asks for another", async () => {
    const guarded = await guard("SELECT site, sum(page_views) AS views FROM window_metrics WHERE site IN ('guard-a', 'guard-b') GROUP BY site");
    expect(await clickhouse.query(guarded.sql, {}, guarded.settings)).toEqual([{ site: "guard-a", views: 2 }]);
    const other = await guard("SELECT count() AS rows FROM window_metrics WHERE site = 'guard-b'");
    expect(await clickhouse.query(other.sql, {}, other.settings)).toEqual([{ rows: 0 }]);
  });

  it("throw instead of truncating when the result has more rows than allowed", async () => {
    const guarded = await guardSqlQuery("SELECT arrayJoin(range(50)) AS n FROM window_metrics", { ...options, maxRows: 10 }, runner);
    await expect(clickhouse.query(guarded.sql, {}, guarded.settings)).rejects.toThrow(/TOO_MANY_ROWS|Limit for result/);
  });

  it("make ClickHouse refuse writes even if a statement slipped through", async () => {
    const guarded = await guard("SELECT 1");
    await expect(clickhouse.query("CREATE TABLE guard_escape (x UInt8) ENGINE = Memory", {}, guarded.settings)).rejects.toThrow(/READONLY|readonly/);
  });

  it("quote the site inside additional_table_filters", async () => {
    expect(siteFilterSetting("edgepulse", "shop")).toBe(
      "{'edgepulse.events':'site = \\'shop\\'','edgepulse.sessions':'site = \\'shop\\'','edgepulse.window_metrics':'site = \\'shop\\''}",
    );
    // Site keys are validated long before this, but the quoting must hold on its own.
    const hostile = { additional_table_filters: siteFilterSetting(DATABASE, "guard-a' OR '1' = '1"), readonly: 1 };
    expect(await clickhouse.query("SELECT count() AS rows FROM window_metrics WHERE site LIKE 'guard-%'", {}, hostile)).toEqual([{ rows: 0 }]);
  });
});

describe("the pure checks", () => {
  it("startsAsSelect reads only the first keyword, past comments and parentheses", () => {
    expect(startsAsSelect("  -- hi\n/* x */ ((select 1))")).toBe(true);
    expect(startsAsSelect("WITH 1 AS x SELECT x")).toBe(true);
    expect(startsAsSelect("SELECTED")).toBe(false);
    expect(startsAsSelect("/* SELECT */ DROP TABLE x")).toBe(false);
    expect(startsAsSelect("# comment\nINSERT INTO x VALUES (1)")).toBe(false);
  });

  it("checkSyntaxTree wants exactly one SELECT statement", () => {
    expect(() => checkSyntaxTree(["InsertQuery (children 1)", " Identifier events"], DATABASE)).toThrow(/only SELECT/);
    expect(() => checkSyntaxTree(["SelectWithUnionQuery (children 1)", " ExpressionList", "2"], DATABASE)).toThrow(/exactly one statement/);
    expect(() => checkSyntaxTree(["SelectWithUnionQuery (children 2)", " ExpressionList (children 1)", " Identifier CSV"], DATABASE)).toThrow(/FORMAT/);
  });

  it("checkQueryTree refuses a tree without any table it can name", () => {
    expect(() => checkQueryTree(["QUERY id: 0", "  PROJECTION"], DATABASE)).toThrow(/no table/);
    expect(() => checkQueryTree(["    TABLE_FUNCTION id: 3, table_function_name: url"], DATABASE)).toThrow(/table functions/);
    expect(() => checkQueryTree(["    TABLE id: 3, alias: __table1, table_name: edgepulse.events"], DATABASE)).not.toThrow();
  });
});
