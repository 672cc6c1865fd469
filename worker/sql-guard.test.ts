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
  consoleDatabase,
  guardSqlQuery,
  isAllowedFunction,
  siteFilterSetting,
  startsAsSelect,
} from "./sql-guard";

const DATABASE = "edgepulse";
const clickhouse = createClickHouse({ url: env.CLICKHOUSE_URL, username: "default", password: "", database: DATABASE });
/** Where console queries run, as the route runs them. */
const console_ = createClickHouse({
  url: env.CLICKHOUSE_URL,
  username: "default",
  password: "",
  database: consoleDatabase(DATABASE),
});
const runner: ExplainRunner = {
  async explain(statement, settings) {
    return (await console_.query<{ explain: string }>(statement, {}, settings)).map((row) => row.explain);
  },
};
const options = {
  database: DATABASE,
  site: "guard-a",
  maxRows: 100,
  maxExecutionSeconds: 5,
  maxMemoryBytes: 256 * 1024 ** 2,
};
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
  const row = {
    window_start: windowStart,
    window_seconds: 10,
    currency: "",
    events: 3,
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
      { ...row, site: "guard-a", page_views: 2 },
      { ...row, site: "guard-b", page_views: 40 },
    ],
    "sql-guard-test-rows",
  );
});

describe("guardSqlQuery accepts reads of the site's tables", () => {
  it.each([
    "SELECT site, sum(page_views) AS views FROM window_metrics GROUP BY site",
    "SELECT * FROM events LIMIT 5",
    "SELECT e.path, s.entry_path FROM events AS e CROSS JOIN sessions AS s LIMIT 3",
    "SELECT path, item FROM events ARRAY JOIN JSONExtractArrayRaw(items) AS item WHERE type = 'purchase'",
    "SELECT arrayJoin([1, 2, 3]) AS n, countIf(type = 'page_view') FROM events GROUP BY n",
    "SELECT toStartOfHour(ts) AS hour, uniqExactIf(visitor_id, type = 'page_view'), quantileTDigest(0.75)(metric_value) FROM events GROUP BY hour",
    "SELECT domain(url), JSONExtractString(props, 'plan'), arrayMap(x -> x * 2, [1, 2]) FROM events LIMIT 1",
    "SELECT path, row_number() OVER (PARTITION BY session_id ORDER BY ts) AS step FROM events LIMIT 5",
    "SELECT uniqMerge(state) FROM (SELECT uniqState(visitor_id) AS state FROM events)",
    "SELECT throwIf(count() < 0, 'never') FROM events",
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
    ["SELECT * FROM default.events", /default\.events/],
    ["SELECT * FROM edgepulse.events LIMIT 5", /edgepulse\.events/],
    ["SELECT count() FROM edgepulse.quarantine", /edgepulse\.quarantine/],
    ["SELECT count() FROM events WHERE path IN (SELECT path FROM edgepulse.events)", /edgepulse\.events/],
    ["SELECT * FROM url('http://127.0.0.1:9/x', CSV, 'a String')", /table functions/],
    ["SELECT * FROM file('/etc/passwd', LineAsString)", /table functions/],
    ["SELECT * FROM remote('127.0.0.1', system.one)", /table functions/],
    ["SELECT * FROM s3('http://127.0.0.1:9/bucket/x.csv')", /table functions/],
    ["SELECT * FROM numbers(10)", /table functions/],
    ["SELECT * FROM merge('edgepulse', '.*')", /table functions/],
    ["SELECT * FROM events AS e JOIN url('http://127.0.0.1:9/x', CSV, 'a String') AS u ON 1", /table functions/],
    ["SELECT file('secrets.txt')", /function file /],
    ["SELECT dictGet('other.dictionary', 'value', toUInt64(1))", /function dictGet /],
    ["SELECT hasColumnInTable('system', 'users', 'name')", /function hasColumnInTable /],
    [
      "SELECT count() FROM events WHERE hasColumnInTable('other_db', 'customers', 'email')",
      /function hasColumnInTable /,
    ],
    ["SELECT serverUUID()", /function serverUUID /],
    // Got through the old deny-list (issue 11): the allow-list refuses them.
    ["SELECT user()", /function user /],
    ["SELECT current_user()", /function current_user /],
    ["SELECT fullHostName()", /function fullHostName /],
    ["SELECT getMergeTreeSetting('index_granularity')", /function getMergeTreeSetting /],
    ["SELECT globalVariable('max_allowed_packet')", /function globalVariable /],
    ["SELECT count() FROM events WHERE sleep(1) = 0", /function sleep /],
    ["SELECT getSetting('readonly')", /function getSetting /],
    ["SELECT currentDatabase()", /function currentDatabase /],
    ["SELECT joinGetOrNull('j', 'v', 1)", /function joinGetOrNull /],
    ["SELECT version(), uptime()", /function version /],
    ["SELECT aiGenerate('say hi')", /function aiGenerate /],
  ])("%s", async (query, reason) => {
    const error = await refusal(query);
    expect(error).toBeInstanceOf(SqlRejectedError);
    expect(error.message).toMatch(reason);
  });

  it.each([
    "SELECT 1; DROP TABLE events",
    "SELECT 1 FORMAT CSV",
    "SELECT 1 INTO OUTFILE '/tmp/x'",
    "SELEC 1 FROM events",
    // Tables outside the console do not exist where console queries run.
    "SELECT * FROM quarantine",
    "SELECT * FROM schema_migrations",
  ])("%s (ClickHouse itself refuses to parse it)", async (query) => {
    await refusal(query);
    // And nothing happened to the tables.
    expect(
      await clickhouse.query("SELECT count() AS n FROM system.tables WHERE database = 'edgepulse' AND name = 'events'"),
    ).toEqual([{ n: 1 }]);
  });
});

describe("the settings a guarded query runs under", () => {
  it("let ClickHouse filter every allowed table to the site, even when the query asks for another", async () => {
    const guarded = await guard(
      "SELECT site, sum(page_views) AS views FROM window_metrics WHERE site IN ('guard-a', 'guard-b') GROUP BY site",
    );
    expect(await console_.query(guarded.sql, {}, guarded.settings)).toEqual([{ site: "guard-a", views: 2 }]);
    const other = await guard("SELECT count() AS rows FROM window_metrics WHERE site = 'guard-b'");
    expect(await console_.query(other.sql, {}, other.settings)).toEqual([{ rows: 0 }]);
  });

  it("throw instead of truncating when the result has more rows than allowed", async () => {
    const guarded = await guardSqlQuery(
      "SELECT arrayJoin(range(50)) AS n FROM window_metrics",
      { ...options, maxRows: 10 },
      runner,
    );
    await expect(console_.query(guarded.sql, {}, guarded.settings)).rejects.toThrow(/TOO_MANY_ROWS|Limit for result/);
  });

  it("stop a query at the memory limit", async () => {
    const guarded = await guard(
      "SELECT length(groupArray(repeat('x', 1000000))) FROM (SELECT arrayJoin(range(1000)) FROM window_metrics)",
    );
    await expect(console_.query(guarded.sql, {}, guarded.settings)).rejects.toThrow(/MEMORY_LIMIT_EXCEEDED/);
  });

  it("make ClickHouse refuse writes even if a statement slipped through", async () => {
    const guarded = await guard("SELECT 1");
    await expect(
      clickhouse.query("CREATE TABLE guard_escape (x UInt8) ENGINE = Memory", {}, guarded.settings),
    ).rejects.toThrow(/READONLY|readonly/);
  });

  it("quote the site inside additional_table_filters", async () => {
    const filter = "'site = \\'shop\\''";
    expect(siteFilterSetting("edgepulse", "shop")).toBe(
      `{${["events", "events_local", "sessions", "sessions_local", "window_metrics", "window_metrics_local"].map((table) => `'edgepulse.${table}':${filter}`).join(",")}}`,
    );
    // Site keys are validated long before this, but the quoting must hold on its own.
    const hostile = { additional_table_filters: siteFilterSetting(DATABASE, "guard-a' OR '1' = '1"), readonly: 1 };
    expect(
      await clickhouse.query("SELECT count() AS rows FROM window_metrics WHERE site LIKE 'guard-%'", {}, hostile),
    ).toEqual([{ rows: 0 }]);
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
    expect(() => checkSyntaxTree(["InsertQuery (children 1)", " Identifier events"])).toThrow(/only SELECT/);
    expect(() => checkSyntaxTree(["SelectWithUnionQuery (children 1)", " ExpressionList", "2"])).toThrow(
      /exactly one statement/,
    );
    expect(() =>
      checkSyntaxTree(["SelectWithUnionQuery (children 2)", " ExpressionList (children 1)", " Identifier CSV"]),
    ).toThrow(/FORMAT/);
  });

  it("isAllowedFunction takes listed functions and aggregates with combinators, nothing else", () => {
    for (const name of [
      "count",
      "COUNT",
      "countIf",
      "sumArrayIf",
      "uniqExactMerge",
      "quantilesTDigestIf",
      "toStartOfHour",
      "lambda",
    ])
      expect(isAllowedFunction(name), name).toBe(true);
    for (const name of [
      "file",
      "fileIf",
      "joinGetOrNull",
      "hostName",
      "sleepEachRow",
      "getSetting",
      "currentUser",
      "notAFunction",
    ])
      expect(isAllowedFunction(name), name).toBe(false);
  });

  it("checkQueryTree refuses a tree without any table it can name", () => {
    expect(() => checkQueryTree(["QUERY id: 0", "  PROJECTION"], DATABASE)).toThrow(/no table/);
    expect(() => checkQueryTree(["    TABLE_FUNCTION id: 3, table_function_name: url"], DATABASE)).toThrow(
      /table functions/,
    );
    expect(() =>
      checkQueryTree(["    TABLE id: 3, alias: __table1, table_name: edgepulse_console.events"], DATABASE),
    ).not.toThrow();
    // The real table behind the view is never read directly.
    expect(() => checkQueryTree(["    TABLE id: 3, alias: __table1, table_name: edgepulse.events"], DATABASE)).toThrow(
      /not edgepulse\.events/,
    );
  });
});

/** Runs a statement on the local server as the operator would (outside the console). */
async function operator(statement: string): Promise<void> {
  const response = await fetch(`${env.CLICKHOUSE_URL}/?database=${DATABASE}`, { method: "POST", body: statement });
  if (!response.ok) throw new Error(`${statement}: ${response.status} ${await response.text()}`);
}

describe("no expression of a console query is evaluated on another site's row (issue 11)", () => {
  const SECRET = "LEAK-B-SECRET";
  beforeAll(async () => {
    // Both sites' rows in the same parts and granules, merged into one part per partition.
    await operator(
      `INSERT INTO events (site, batch_id, event_id, type, ts, received_at, url, path, title, order_id)
       SELECT if(number % 2 = 0, 'leak-a', 'leak-b'), 'b', toString(number), 'page_view', now64(3) - number, now64(3),
              concat('https://x.example/', if(number % 2 = 0, 'a', '${SECRET}'), toString(number)),
              '/', if(number % 2 = 0, 'A title', '${SECRET} TITLE'), if(number % 2 = 0, '', 'order-b-1')
       FROM numbers(20000)`,
    );
    await operator("OPTIMIZE TABLE events FINAL");
  });

  const site = { ...options, site: "leak-a" };
  async function run(query: string): Promise<string> {
    try {
      const guarded = await guardSqlQuery(query, site, runner);
      return JSON.stringify(await console_.query(guarded.sql, {}, guarded.settings));
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  }

  it.each([
    // The repro of issue 11: a cast that throws on the other site's values, quoting them.
    "SELECT count() FROM events PREWHERE toUInt64(if(site = 'leak-a', '0', concat(site, '|', url, '|', title))) = 1",
    "SELECT count() FROM events WHERE toUInt64(if(site = 'leak-a', '0', concat(site, '|', url, '|', title))) = 1",
    "SELECT count() FROM events WHERE toUInt64(if(site = 'leak-a', '0', url)) = 1 AND type = 'page_view'",
    "SELECT count() FROM events AS e WHERE toUInt64(if(e.site = 'leak-a', '0', e.title)) = 1",
    "SELECT toUInt64(if(site = 'leak-a', '0', title)) FROM events LIMIT 100000",
    "SELECT count() FROM (SELECT * FROM events) WHERE toUInt64(if(site = 'leak-a', '0', title)) = 1",
    "SELECT count() FROM events WHERE site != 'leak-a' AND toUInt64(url) = 1",
    "SELECT count() FROM events WHERE path IN (SELECT toString(toUInt64(if(site = 'leak-a', '0', url))) FROM events)",
  ])("%s", async (query) => {
    const answer = await run(query);
    expect(answer).not.toContain(SECRET);
    expect(answer).not.toContain("leak-b");
  });

  it("throwIf on another site's value is never evaluated (no yes/no oracle)", async () => {
    expect(await run("SELECT count() AS n FROM events WHERE throwIf(order_id = 'order-b-1', 'X') = 0")).toBe(
      '[{"n":10000}]',
    );
    expect(await run("SELECT count() AS n FROM events WHERE throwIf(site = 'leak-b', 'X') = 0")).toBe('[{"n":10000}]');
  });
});
