/**
 * Tenant isolation on the real stack: two sites, `a` and `b`, each with an origin allow-list
 * and its own read token. Site b's rows carry a marker ("secret-b") in their paths, ids and
 * names; a token for site a must not see it, or any count that includes b, through any route:
 * the speed layer (`/v1/metrics/*`), history (`/v1/history/*`), the live feed (`/v1/live`),
 * `/metrics`, or the SQL console — including SQL that reaches for other tables, other
 * databases, `system.*`, table functions, settings, multiple statements, comment tricks,
 * UNIONs and subqueries.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorResponseSchema, liveMessageSchema, type EventInput } from "../../protocol";
import { sqlResponseSchema } from "../../protocol/history";
import { startStack, type Stack } from "../support/stack";
import { BROWSER_USER_AGENT } from "../support/browser-user-agent";

const ADMIN_TOKEN = "admin-token-tenant-isolation-0001";
const TOKEN_A = "token-a-tenant-isolation-000001";
const TOKEN_B = "token-b-tenant-isolation-000002";
const ORIGIN_A = "https://a.example";
const ORIGIN_B = "https://b.example";
const MARKER_B = "secret-b";
const SITES = JSON.stringify([
  { key: "a", origins: [ORIGIN_A], token: TOKEN_A },
  { key: "b", origins: [ORIGIN_B], token: TOKEN_B },
]);
const ROWS_TIMEOUT_MS = 60_000;

let stack: Stack;
/** Events stored for site a (after seeding). */
let eventsOfA = 0;

function batch(site: string, label: string, events: EventInput[]) {
  return {
    v: 1,
    site,
    batch: `${label}-${Date.now()}-${Math.random().toString(36).slice(2)}`,
    sent_at: Date.now(),
    visitor: `v-${label}`,
    events,
  };
}

function seedEvents(site: string, label: string): EventInput[] {
  const now = Date.now();
  return [
    {
      type: "page_view",
      id: "e1",
      ts: now - 500,
      url: `https://${site}.example/${label}/home`,
      referrer: `https://${label}.referrer.example/`,
      title: `${label} home`,
    },
    { type: "page_view", id: "e2", ts: now - 400, url: `https://${site}.example/${label}/product` },
    {
      type: "cart",
      id: "e3",
      ts: now - 300,
      action: "add",
      product_id: `${label}-sku`,
      name: `${label} product`,
      price: 10,
      quantity: 1,
      currency: "EUR",
    },
    {
      type: "purchase",
      id: "e4",
      ts: now - 200,
      order_id: `${label}-order`,
      value: 10,
      currency: "EUR",
      items: [{ product_id: `${label}-sku`, price: 10, quantity: 1 }],
    },
    {
      type: "vital",
      id: "e5",
      ts: now - 100,
      url: `https://${site}.example/${label}/home`,
      metric: "LCP",
      value: 1234,
    },
    { type: "custom", id: "e6", ts: now - 50, name: `${label}-signup`, props: { secret: label } },
  ];
}

async function post(
  site: string,
  events: EventInput[],
  origin: string | null,
  label = `seed-${site}`,
): Promise<Response> {
  return fetch(`${stack.collectorUrl}/v1/events`, {
    method: "POST",
    headers: {
      "Content-Type": "text/plain",
      "User-Agent": BROWSER_USER_AGENT,
      ...(origin === null ? {} : { Origin: origin }),
    },
    body: JSON.stringify(batch(site, label, events)),
  });
}

async function get(path: string, token: string | null): Promise<{ status: number; text: string }> {
  const response = await fetch(`${stack.collectorUrl}${path}`, {
    headers: token === null ? {} : { Authorization: `Bearer ${token}` },
  });
  return { status: response.status, text: await response.text() };
}

async function sql(site: string, query: string, token: string): Promise<{ status: number; text: string }> {
  const response = await fetch(`${stack.collectorUrl}/v1/sql`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify({ site, query }),
  });
  return { status: response.status, text: await response.text() };
}

function expectRefused(answer: { status: number; text: string }, statuses: number[] = [401, 403]): string {
  expect(statuses, answer.text).toContain(answer.status);
  return errorResponseSchema.parse(JSON.parse(answer.text)).error.code;
}

/** Opens the live feed and returns the first message (the snapshot), or null when refused. */
async function liveSnapshot(query: string): Promise<unknown> {
  const url = `${stack.collectorUrl.replace("http://", "ws://")}/v1/live?${query}`;
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const timer = setTimeout(() => reject(new Error(`no answer from ${url}`)), 15_000);
    socket.addEventListener("message", (event) => {
      clearTimeout(timer);
      socket.close();
      resolve(JSON.parse(String(event.data)));
    });
    socket.addEventListener("error", () => {
      clearTimeout(timer);
      resolve(null);
    });
  });
}

beforeAll(async () => {
  stack = await startStack({
    vars: {
      // Production-like: no local-dev `demo` site (it allows any origin) and no dev admin token.
      LOCAL_DEV: "0",
      VISITOR_SECRET: "tenant-isolation-visitor-secret",
      SITES,
      ADMIN_TOKEN,
      RATE_LIMIT_SITE_PER_SECOND: "0",
      RATE_LIMIT_CLIENT_PER_SECOND: "0",
      // Hundreds of console queries in a row; the per-token rate limit has its own tests.
      SQL_QUERIES_PER_MINUTE: "0",
    },
  });
  const seeds: [string, string, string][] = [
    ["a", ORIGIN_A, "public-a"],
    ["b", ORIGIN_B, MARKER_B],
  ];
  for (const [site, origin, label] of seeds) {
    for (let copy = 0; copy < 2; copy++) {
      const response = await post(site, seedEvents(site, label), origin, `${label}-${copy}`);
      expect(response.status, await response.text()).toBe(202);
    }
  }
  eventsOfA = 12;
  await stack.waitForRows("SELECT count() FROM events WHERE site = 'a'", {}, eventsOfA, ROWS_TIMEOUT_MS);
  await stack.waitForRows("SELECT count() FROM events WHERE site = 'b'", {}, 12, ROWS_TIMEOUT_MS);
  await interleaveSitesInParts();
});

/** Runs a statement on ClickHouse as its operator (not through the Worker). */
async function operator(statement: string): Promise<void> {
  const response = await fetch(`${stack.clickhouseUrl}/?database=edgepulse`, { method: "POST", body: statement });
  if (!response.ok) throw new Error(`${statement.slice(0, 80)}: ${response.status} ${await response.text()}`);
}

/** Rows of b (carrying the marker) and a, alternating, in every table; then merged into one part each. */
const INTERLEAVED_ROWS = 2000;
async function interleaveSitesInParts(): Promise<void> {
  const site = "if(number % 2 = 0, 'a', 'b')";
  const marked = (column: string) => `if(number % 2 = 0, 'public-a-${column}', '${MARKER_B}-${column}')`;
  await operator(
    `INSERT INTO events (site, batch_id, event_id, type, ts, received_at, visitor_id, session_id, url, path, title, order_id, product_id, name, props)
     SELECT ${site}, ${marked("batch")}, toString(number), 'page_view', now64(3) - number, now64(3), ${marked("visitor")}, ${marked("session")},
            concat('https://x.example/', ${marked("url")}), ${marked("path")}, ${marked("title")}, ${marked("order")}, ${marked("sku")}, ${marked("name")}, '{}'
     FROM numbers(${INTERLEAVED_ROWS})`,
  );
  await operator(
    `INSERT INTO sessions (site, session_id, visitor_id, started_at, ended_at, entry_path, exit_path, referrer_host)
     SELECT ${site}, ${marked("session")}, ${marked("visitor")}, now64(3) - number, now64(3), ${marked("entry")}, ${marked("exit")}, ${marked("referrer")}
     FROM numbers(${INTERLEAVED_ROWS})`,
  );
  await operator(
    `INSERT INTO window_metrics (site, window_start, window_seconds, currency, events)
     SELECT ${site}, toDateTime('2025-01-01 00:00:00') + number * 10, 10, if(number % 2 = 0, 'EUR', 'USD'), 1 FROM numbers(${INTERLEAVED_ROWS})`,
  );
  for (const table of ["events", "sessions", "window_metrics"]) await operator(`OPTIMIZE TABLE ${table} FINAL`);
  eventsOfA += INTERLEAVED_ROWS / 2;
}

afterAll(async () => {
  await stack?.stop();
});

/** Site a's rows as ClickHouse holds them, to compare the console's answers with. */
async function directCount(where: string): Promise<number> {
  const [row] = await stack.clickhouse.query<{ n: number | string }>(`SELECT count() AS n FROM events WHERE ${where}`);
  return Number(row?.n);
}

describe("read routes return only the token's site", () => {
  const readPaths = (site: string) => [
    `/v1/metrics/windows?site=${site}`,
    `/v1/metrics/overview?site=${site}`,
    `/v1/metrics/performance?site=${site}`,
    ...["timeseries", "pages", "referrers", "countries", "devices", "products", "funnel", "sessions", "vitals"].map(
      (resource) => `/v1/history/${resource}?site=${site}`,
    ),
  ];

  it("refuses site b to token a on every read route, and answers site a without a trace of b", async () => {
    for (const path of readPaths("b")) {
      expect(expectRefused(await get(path, TOKEN_A)), path).toBe("forbidden");
      expect(expectRefused(await get(path, null)), path).toBe("unauthorized");
      expect(expectRefused(await get(path, "not-a-token-of-any-site-at-all")), path).toBe("forbidden");
    }
    for (const path of readPaths("a")) {
      const answer = await get(path, TOKEN_A);
      expect(answer.status, `${path}: ${answer.text}`).toBe(200);
      expect(answer.text, path).not.toContain(MARKER_B);
    }
    // The pages a's token sees are a's pages; b's token sees b's (so the marker check has teeth).
    expect((await get("/v1/history/pages?site=a", TOKEN_A)).text).toContain("public-a");
    expect((await get("/v1/history/pages?site=b", TOKEN_B)).text).toContain(MARKER_B);
    expect((await get("/v1/history/pages?site=b", ADMIN_TOKEN)).status).toBe(200);
  });

  it("is not fooled by repeated, encoded or odd site parameters", async () => {
    for (const query of [
      "site=a&site=b",
      "site=b&site=a",
      "site=A",
      "site=a%00",
      "site=a%2Fb",
      "site=a/../b",
      "site=%62",
      "site[]=b",
      "site=a,b",
      "site=*",
    ]) {
      for (const route of ["/v1/metrics/overview", "/v1/history/pages"]) {
        const answer = await get(`${route}?${query}`, TOKEN_A);
        expect(answer.status, `${route}?${query}: ${answer.text}`).toBeLessThan(500);
        expect(answer.text, `${route}?${query}`).not.toContain(MARKER_B);
      }
    }
  });

  it("lets token a open the live feed of a only, and the feed carries only a", async () => {
    const message = liveMessageSchema.parse(await liveSnapshot(`site=a&token=${TOKEN_A}`));
    expect(message.site).toBe("a");
    expect(JSON.stringify(message)).not.toContain(MARKER_B);
    expect(await liveSnapshot(`site=b&token=${TOKEN_A}`)).toBeNull();
    expect(await liveSnapshot("site=b")).toBeNull();
    // The refusal comes before any upgrade, so plain HTTP shows what it was (a URL token counts
    // only on the upgrade itself).
    expect(expectRefused(await get(`/v1/live?site=b&token=${TOKEN_A}`, null))).toBe("unauthorized");
    expect(expectRefused(await get("/v1/live?site=b", TOKEN_A))).toBe("forbidden");
    expect(expectRefused(await get("/v1/live?site=b", null))).toBe("unauthorized");
    const repeated = await liveSnapshot(`site=a&token=${TOKEN_A}&site=b`);
    expect(JSON.stringify(repeated ?? null)).not.toContain(MARKER_B);
  });

  it("keeps /metrics for the admin token", async () => {
    expect(expectRefused(await get("/metrics", TOKEN_A))).toBe("forbidden");
    expect((await get("/metrics", ADMIN_TOKEN)).status).toBe(200);
  });
});

describe("SQL console: a token for site a cannot read site b", () => {
  it("answers plain queries over a's rows only", async () => {
    const count = await sql("a", "SELECT count() AS n FROM events", TOKEN_A);
    expect(count.status, count.text).toBe(200);
    expect(Number(sqlResponseSchema.parse(JSON.parse(count.text)).rows[0]?.[0])).toBe(await directCount("site = 'a'"));
    const all = await sql("a", "SELECT * FROM events ORDER BY ts DESC LIMIT 1000", TOKEN_A);
    expect(all.status).toBe(200);
    const parsed = sqlResponseSchema.parse(JSON.parse(all.text));
    const siteColumn = parsed.columns.findIndex((column) => column.name === "site");
    expect(parsed.rows.length).toBeGreaterThan(0);
    expect(new Set(parsed.rows.map((row) => row[siteColumn]))).toEqual(new Set(["a"]));
    expect(all.text).not.toContain(MARKER_B);
    // The console is the site's: asking for b with a's token is refused before anything runs.
    expect(expectRefused(await sql("b", "SELECT 1", TOKEN_A))).toBe("forbidden");
  });

  /** Each is refused or answers without any of b's rows; the comment says what it tries. */
  const attacks: string[] = [
    // b's rows through filters the site filter must still apply to
    "SELECT * FROM events WHERE site = 'b'",
    "SELECT * FROM events WHERE 1 OR site = 'b'",
    "SELECT * FROM events PREWHERE site = 'b'",
    "SELECT * FROM events FINAL WHERE site != 'a'",
    "SELECT count() FROM events WHERE site = 'b' OR 1 = 1 GROUP BY site",
    "SELECT * FROM edgepulse.events WHERE site = 'b'",
    "SELECT * FROM `edgepulse`.`events` WHERE site = 'b'",
    'SELECT * FROM "edgepulse"."events" WHERE site = \'b\'',
    "SELECT * FROM sessions WHERE site = 'b'",
    "SELECT * FROM window_metrics WHERE site = 'b'",
    // UNIONs, subqueries, CTEs, joins
    "SELECT url FROM events UNION ALL SELECT url FROM events WHERE site = 'b'",
    "SELECT url FROM events WHERE site = 'a' UNION DISTINCT SELECT url FROM edgepulse.events WHERE site = 'b'",
    "SELECT (SELECT groupArray(url) FROM events WHERE site = 'b')",
    "SELECT * FROM (SELECT * FROM events WHERE site = 'b')",
    "WITH x AS (SELECT * FROM events WHERE site = 'b') SELECT * FROM x",
    "WITH (SELECT any(url) FROM events WHERE site = 'b') AS leak SELECT leak",
    "SELECT * FROM events WHERE batch_id IN (SELECT batch_id FROM events WHERE site = 'b')",
    "SELECT e.url, s.site FROM events AS e CROSS JOIN events AS s WHERE s.site = 'b'",
    "SELECT * FROM events AS e LEFT JOIN window_metrics AS w ON 1 = 1 WHERE w.site = 'b'",
    "SELECT arrayMap(x -> x, (SELECT groupArray(url) FROM events WHERE site = 'b'))",
    "SELECT * FROM events LIMIT 1 BY site",
    // other tables, databases and system tables
    "SELECT * FROM quarantine",
    "SELECT * FROM schema_migrations",
    "SELECT * FROM system.tables",
    "SELECT * FROM system.query_log",
    "SELECT * FROM system.parts WHERE table = 'events'",
    "SELECT * FROM system.settings WHERE name = 'additional_table_filters'",
    "SELECT * FROM system.users",
    "SELECT * FROM `system`.`tables`",
    'SELECT * FROM "system"."databases"',
    "SELECT * FROM information_schema.tables",
    "SELECT * FROM INFORMATION_SCHEMA.COLUMNS",
    "SELECT * FROM default.events",
    "SELECT * FROM events AS system",
    "SELECT name FROM system.tables UNION ALL SELECT url FROM events",
    "SELECT url FROM events WHERE url IN (SELECT name FROM system.tables)",
    "SELECT * FROM events WHERE site IN (SELECT database FROM system.tables)",
    // table functions
    "SELECT * FROM url('http://127.0.0.1:8123/?query=SELECT+url+FROM+edgepulse.events', 'TSV', 'url String')",
    "SELECT * FROM file('/etc/passwd', 'LineAsString')",
    "SELECT * FROM remote('127.0.0.1', edgepulse.events)",
    "SELECT * FROM remoteSecure('127.0.0.1', 'edgepulse', 'events')",
    "SELECT * FROM cluster('default', edgepulse.events)",
    "SELECT * FROM s3('http://127.0.0.1:9000/bucket/x.csv', 'CSV', 'a String')",
    "SELECT * FROM input('url String')",
    "SELECT * FROM merge('edgepulse', '^events$')",
    "SELECT * FROM merge(currentDatabase(), 'events')",
    "SELECT * FROM view(SELECT * FROM events WHERE site = 'b')",
    "SELECT * FROM loop(events) LIMIT 10",
    "SELECT * FROM numbers(10)",
    "SELECT * FROM values('x String', 'secret')",
    "SELECT * FROM generateRandom('a String') LIMIT 1",
    "SELECT * FROM executable('cat /etc/passwd', 'LineAsString', 'x String')",
    "SELECT * FROM mysql('127.0.0.1:3306', 'db', 't', 'u', 'p')",
    "SELECT * FROM postgresql('127.0.0.1:5432', 'db', 't', 'u', 'p')",
    "SELECT * FROM dictionary('d')",
    "SELECT * FROM hdfs('hdfs://h/x', 'CSV', 'a String')",
    "SELECT * FROM azureBlobStorage('http://x', 'c', 'b', 'CSV')",
    "SELECT * FROM events WHERE url IN (SELECT * FROM url('http://127.0.0.1/', 'LineAsString', 'x String'))",
    // functions that read outside the tables
    "SELECT file('/etc/passwd')",
    "SELECT getSetting('additional_table_filters')",
    "SELECT dictGet('d', 'x', 1)",
    "SELECT joinGet('j', 'x', 1)",
    "SELECT hasColumnInTable('system', 'tables', 'name')",
    "SELECT getServerPort('http_port')",
    "SELECT * FROM events WHERE site = (SELECT 'b')",
    // error messages: a conversion error names the value it failed on
    "SELECT * FROM events WHERE toUInt32(url) = 1",
    "SELECT * FROM events PREWHERE toUInt32(url) = 1",
    "SELECT * FROM events WHERE site = 'b' AND toUInt32(url) = 1",
    "SELECT toUInt32(url) FROM events",
    "SELECT * FROM events WHERE toDate(title) = today()",
    "SELECT * FROM events WHERE throwIf(position(url, 'secret-b') > 0, 'leak') = 0",
    "SELECT * FROM events WHERE JSONExtract(props, 'UInt8') = 1 AND toUInt64(concat('x', url)) = 1",
    "SELECT * FROM sessions WHERE toUInt32(session_id) = 1",
    "SELECT * FROM window_metrics WHERE toUInt32(toString(site)) = 1",
    // settings
    "SELECT * FROM events WHERE site = 'b' SETTINGS additional_table_filters = {'edgepulse.events': '1'}",
    "SELECT * FROM events SETTINGS readonly = 0",
    "SELECT * FROM events WHERE site = 'b' SETTINGS additional_table_filters = {}",
    "SET additional_table_filters = {}",
    "SET readonly = 0",
    "SELECT * FROM (SELECT * FROM events WHERE site = 'b' SETTINGS additional_table_filters = {})",
    // multiple statements and comment tricks
    "SELECT 1; SELECT * FROM events WHERE site = 'b'",
    "SELECT 1; SELECT * FROM system.tables",
    "SELECT 1;\nDROP TABLE events",
    "SELECT * FROM events -- WHERE site = 'a'\nWHERE site = 'b'",
    "SELECT * FROM /* events */ system.tables",
    "SELECT * FROM events /* ; SELECT * FROM system.tables */ WHERE site = 'b'",
    "/* SELECT */ SELECT * FROM system.tables",
    "SELECT * FROM events #\nWHERE site = 'b'",
    "SELECT url FROM events WHERE site = 'b' -- ; SETTINGS additional_table_filters = {}",
    "SELECT * FROM events WHERE site = 'b' /*!50000 UNION ALL SELECT * FROM system.tables */",
    "SELECT '; SELECT * FROM system.tables'",
    // writes, DDL and everything that is not a SELECT
    "INSERT INTO events (site, url) VALUES ('b', 'x')",
    "DROP TABLE events",
    "TRUNCATE TABLE events",
    "ALTER TABLE events DELETE WHERE site = 'b'",
    "ALTER TABLE events UPDATE site = 'a' WHERE site = 'b'",
    "CREATE TABLE leak AS events",
    "CREATE VIEW leak AS SELECT * FROM events",
    "OPTIMIZE TABLE events FINAL",
    "KILL QUERY WHERE 1",
    "SYSTEM FLUSH LOGS",
    "GRANT SELECT ON *.* TO default",
    "DETACH TABLE events",
    "ATTACH TABLE events",
    "RENAME TABLE events TO leaked",
    "SHOW TABLES FROM system",
    "SHOW DATABASES",
    "SHOW CREATE TABLE quarantine",
    "DESCRIBE TABLE system.tables",
    "EXISTS TABLE system.tables",
    "EXPLAIN SELECT * FROM events WHERE site = 'b'",
    "EXPLAIN AST SELECT * FROM system.tables",
    "USE system",
    "SELECT * FROM events INTO OUTFILE '/tmp/leak.csv'",
    "SELECT * FROM events WHERE site = 'b' FORMAT JSON",
    "SELECT {site:String}",
    // issue 11's repro and its relatives: expressions that throw on another site's value, quoting it
    "SELECT count() FROM events PREWHERE toUInt64(if(site = 'a', '0', concat(site, '|', url, '|', title))) = 1",
    "SELECT count() FROM events WHERE toUInt64(if(site = 'a', '0', concat(site, '|', url, '|', title))) = 1",
    "SELECT count() FROM window_metrics PREWHERE toUInt64(if(site = 'a', '0', concat(site, currency))) = 1",
    "SELECT count() FROM window_metrics WHERE toUInt64(if(site = 'a', '0', concat(site, currency))) = 1",
    "SELECT count() FROM sessions WHERE toUInt64(if(site = 'a', '0', entry_path)) = 1",
    "SELECT count() FROM sessions PREWHERE toUInt64(if(site = 'a', '0', exit_path)) = 1",
    "SELECT count() FROM events WHERE toUInt64(if(site = 'a', '0', visitor_id)) = 1",
    "SELECT count() FROM events WHERE toUInt64(if(site = 'a', '0', order_id)) = 1",
    "SELECT count() FROM events WHERE toUInt64(if(site = 'a', '0', batch_id)) = 1",
    "SELECT count() FROM events WHERE toUInt64(if(site = 'a', '0', session_id)) = 1",
    "SELECT count() FROM events WHERE toUInt64(if(site = 'a', '0', product_id)) = 1",
    "SELECT count() FROM events WHERE toUInt64(if(site = 'a', '0', name)) = 1",
    "SELECT count() FROM events WHERE toInt32(if(site = 'a', '1', path)) = 1",
    "SELECT count() FROM events WHERE toFloat64(if(site = 'a', '1', title)) = 1",
    "SELECT count() FROM events WHERE toDate(if(site = 'a', '2025-01-01', url)) = today()",
    "SELECT count() FROM events WHERE toDateTime(if(site = 'a', '2025-01-01 00:00:00', url)) > now()",
    "SELECT count() FROM events WHERE toDecimal64(if(site = 'a', '1', url), 2) = 1",
    "SELECT count() FROM events WHERE toUUID(if(site = 'a', '00000000-0000-0000-0000-000000000000', url)) = toUUID('00000000-0000-0000-0000-000000000001')",
    "SELECT count() FROM events WHERE toIPv4(if(site = 'a', '1.2.3.4', url)) = toIPv4('1.2.3.5')",
    "SELECT count() FROM events WHERE toIPv6(if(site = 'a', '::1', title)) = toIPv6('::2')",
    "SELECT count() FROM events WHERE parseDateTimeBestEffort(if(site = 'a', '2025-01-01', title)) > now()",
    "SELECT count() FROM events WHERE CAST(if(site = 'a', 'x', url) AS Enum8('x' = 1)) = 'x'",
    "SELECT count() FROM events WHERE CAST(if(site = 'a', '[]', url) AS Array(UInt8)) = []",
    "SELECT count() FROM events WHERE JSONExtract(if(site = 'a', '1', url), 'UInt8') = 2",
    "SELECT count() FROM events WHERE match(url, if(site = 'a', 'x', concat('(', url)))",
    "SELECT count() FROM events WHERE extract(url, if(site = 'a', 'x', concat('[', title))) != ''",
    "SELECT count() FROM events WHERE length(unhex(if(site = 'a', '00', url))) > 100",
    "SELECT count() FROM events WHERE base64Decode(if(site = 'a', 'AA==', url)) != ''",
    "SELECT count() FROM events WHERE throwIf(site != 'a', 'not a') = 0",
    "SELECT count() FROM events WHERE throwIf(position(title, 'secret') > 0) = 0",
    "SELECT count() FROM events WHERE throwIf(startsWith(visitor_id, 'secret'), 'v') = 0",
    "SELECT count() FROM sessions WHERE throwIf(startsWith(entry_path, 'secret'), 's') = 0",
    "SELECT count() FROM window_metrics WHERE throwIf(currency = 'USD', 'usd') = 0",
    "SELECT count() FROM events WHERE intDiv(1, if(site = 'a', 1, 0)) = 1",
    "SELECT count() FROM events WHERE 1 % if(site = 'a', 1, 0) = 0",
    "SELECT count() FROM events WHERE arrayElement([1], if(site = 'a', 1, 1000000000)) = 1",
    "SELECT count() FROM events WHERE tupleElement(tuple(1), if(site = 'a', 1, 2)) = 1",
    "SELECT count() FROM events WHERE repeat(url, if(site = 'a', 1, 1000000000)) != ''",
    "SELECT count() FROM events WHERE formatDateTime(now(), if(site = 'a', '%Y', concat('%', url))) != ''",
    "SELECT count() FROM events WHERE toUInt64(site) = 0",
    "SELECT count() FROM events AS e1 JOIN events AS e2 ON e1.url = e2.url WHERE toUInt64(if(e2.site = 'a', '0', e2.url)) = 1",
    "SELECT count() FROM events WHERE url IN (SELECT toString(toUInt64(if(site = 'a', '0', url))) FROM events)",
    "SELECT count() FROM events WHERE (SELECT count() FROM events WHERE toUInt64(if(site = 'a', '0', url)) = 1) = 0",
    "SELECT max(toUInt64(if(site = 'a', '0', url))) FROM events",
    "SELECT groupArray(if(site = 'a', '', url)) FROM events",
    "SELECT any(url) FROM events WHERE site != 'a'",
    "SELECT argMax(url, site != 'a') FROM events",
    "SELECT uniqExact(site) AS sites, groupUniqArray(site) FROM events",
    "SELECT count() FROM events GROUP BY site HAVING site != 'a'",
    "SELECT site, count() FROM events GROUP BY site WITH TOTALS",
    "SELECT site, count() FROM events GROUP BY site WITH ROLLUP",
    "SELECT url FROM events ORDER BY site DESC LIMIT 1",
    "SELECT url FROM events ORDER BY site != 'a' DESC LIMIT 1",
    "SELECT url, row_number() OVER (PARTITION BY site) FROM events WHERE site != 'a'",
    "SELECT lagInFrame(url) OVER (ORDER BY site DESC) FROM events LIMIT 5",
    "SELECT neighbor(url, 1) FROM events WHERE site = 'b'",
    "SELECT runningDifference(number) FROM (SELECT toUInt64(if(site = 'a', '0', url)) AS number FROM events)",
    "SELECT arrayJoin(groupArray(url)) FROM events WHERE site = 'b'",
    "SELECT url FROM events ARRAY JOIN [site] AS s WHERE s = 'b'",
    "SELECT url FROM events ARRAY JOIN [url] AS u WHERE toUInt64(if(site = 'a', '0', u)) = 1",
    "SELECT s.entry_path FROM events AS e CROSS JOIN sessions AS s WHERE s.site = 'b'",
    "SELECT w.currency FROM window_metrics AS w CROSS JOIN events AS e WHERE toUInt64(if(w.site = 'a', '0', w.currency)) = 1",
    "SELECT count() FROM events WHERE site = 'b' SETTINGS optimize_move_to_prewhere = 0",
    "SELECT * FROM events SAMPLE 0.5",
    "SELECT * FROM events FINAL",
    "SELECT _part, _part_offset FROM events",
    "SELECT _table, _database FROM events",
    "SELECT * FROM edgepulse_console.events WHERE site = 'b'",
    "SELECT * FROM `edgepulse_console`.`events`",
    "SELECT count() FROM edgepulse.events PREWHERE toUInt64(url) = 1",
    "WITH events AS (SELECT * FROM edgepulse.events) SELECT * FROM events WHERE site = 'b'",
    "WITH events AS (SELECT * FROM events) SELECT count() FROM events WHERE toUInt64(if(site = 'a', '0', url)) = 1",
    "SELECT count() FROM (SELECT * FROM events LIMIT 1000000) WHERE toUInt64(if(site = 'a', '0', url)) = 1",
    // functions that say who and where the server is (let through by the old deny-list)
    "SELECT user()",
    "SELECT current_user()",
    "SELECT currentUser()",
    "SELECT fullHostName()",
    "SELECT hostName()",
    "SELECT FQDN()",
    "SELECT version()",
    "SELECT uptime()",
    "SELECT serverUUID()",
    "SELECT getMergeTreeSetting('index_granularity')",
    "SELECT globalVariable('max_allowed_packet')",
    "SELECT currentDatabase()",
    "SELECT database()",
    "SELECT currentProfiles()",
    "SELECT currentRoles()",
    "SELECT queryID()",
    "SELECT initialQueryID()",
    "SELECT getOSKernelVersion()",
    "SELECT tcpPort()",
    "SELECT displayName()",
    "SELECT getClientHTTPHeader('Authorization')",
    "SELECT getSettingOrDefault('readonly', 0)",
    "SELECT getServerSetting('max_server_memory_usage')",
    "SELECT filesystemAvailable()",
    "SELECT buildId()",
    "SELECT sleep(3)",
    "SELECT sleepEachRow(1) FROM events",
    "SELECT count() FROM events WHERE sleepEachRow(if(site = 'a', 0, 1)) = 0",
    "SELECT formatQuery('SELECT 1')",
    "SELECT generateSerialID('x')",
    "SELECT dictGetOrDefault('d', 'x', 1, 'y')",
    "SELECT joinGetOrNull('j', 'x', 1)",
    "SELECT aiGenerate('hello')",
    "SELECT evalMLMethod(1, 2)",
    "SELECT addressToSymbol(1)",
    "SELECT demangle('x')",
    "SELECT encrypt('aes-128-ecb', 'x', '1234567890123456')",
    "SELECT transactionID()",
    "SELECT zookeeperSessionUptime()",
    "SELECT showCertificate()",
    "SELECT __getScalar('x')",
    "SELECT _CAST(url, 'UInt64') FROM events WHERE site = 'b'",
  ];

  it(`refuses or contains every one of ${attacks.length} hostile queries`, async () => {
    const outcomes = new Map<string, number>();
    const leaks: string[] = [];
    for (const query of attacks) {
      const answer = await sql("a", query, TOKEN_A);
      const outcome =
        answer.status === 200
          ? "answered"
          : `${answer.status} ${errorResponseSchema.safeParse(JSON.parse(answer.text)).data?.error.code ?? "non-JSON"}`;
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      if (process.env.EDGEPULSE_VERBOSE_SQL === "1")
        console.log(
          `${outcome.padEnd(20)} ${query.replace(/\s+/g, " ")}  ${answer.status === 200 ? answer.text.slice(0, 120) : ""}`,
        );
      // Every refusal is a 4xx JSON error: never a 5xx, never ClickHouse's own text.
      if (answer.status >= 500) leaks.push(`${query} → ${answer.status} ${answer.text.slice(0, 200)}`);
      if (answer.status !== 200 && !errorResponseSchema.safeParse(JSON.parse(answer.text)).success)
        leaks.push(`${query} → not a JSON error: ${answer.text.slice(0, 200)}`);
      if (answer.text.includes("DB::Exception") || answer.text.includes("Code: "))
        leaks.push(`${query} → ClickHouse's own text: ${answer.text.slice(0, 200)}`);
      // Nothing of b, in an answer or in an error message.
      if (answer.text.includes(MARKER_B)) leaks.push(`${query} → leaked ${MARKER_B}: ${answer.text.slice(0, 300)}`);
      if (answer.status !== 200) continue;
      const parsed = sqlResponseSchema.parse(JSON.parse(answer.text));
      parsed.columns.forEach((column, index) => {
        // '' is the site of a ROLLUP/TOTALS row: a's own total.
        if (column.name.endsWith("site") && parsed.rows.some((row) => row[index] !== "a" && row[index] !== ""))
          leaks.push(`${query} → a site other than a in ${column.name}`);
      });
    }
    console.log(
      `tenant-isolation: ${attacks.length} hostile SQL queries with token a: ${[...outcomes].map(([outcome, n]) => `${outcome}×${n}`).join(", ")}`,
    );
    expect(leaks).toEqual([]);
    expect(attacks.length).toBeGreaterThanOrEqual(200);
    // Metadata of other databases is not the site's either (hasColumnInTable answered 1 before the guard refused it).
    expect(expectRefused(await sql("a", "SELECT hasColumnInTable('system', 'tables', 'name')", TOKEN_A))).toBe(
      "forbidden",
    );
    // Still there: none of the attempted writes changed anything.
    expect(await directCount("site = 'b'")).toBe(12 + INTERLEAVED_ROWS / 2);
    // 231 sequential queries: ~90 s when the runner's two cores are shared.
  }, 600_000);

  it("gives no yes/no oracle on b's rows: a condition on b answers as one that matches nothing", async () => {
    // If the user's WHERE ran on b's rows before the site filter, throwIf would fire for b's
    // values and not for values nobody has: the difference would reveal b's data bit by bit.
    const probes = [
      (value: string) => `SELECT count() FROM events WHERE throwIf(position(url, '${value}') > 0, 'hit') = 0`,
      (value: string) => `SELECT count() FROM events PREWHERE throwIf(position(url, '${value}') > 0, 'hit') = 0`,
      (value: string) => `SELECT count() FROM sessions WHERE throwIf(site = '${value}', 'hit') = 0`,
      (value: string) => `SELECT count() FROM events WHERE site = '${value}' AND throwIf(1, 'hit') = 0`,
    ];
    for (const probe of probes) {
      const onB = await sql("a", probe(MARKER_B), TOKEN_A);
      const onNothing = await sql("a", probe("nobody-has-this"), TOKEN_A);
      expect(onB.status, `${probe(MARKER_B)}: ${onB.text}`).toBe(onNothing.status);
      expect(onB.text.replaceAll(MARKER_B, "X").replace(/"elapsed_ms":\d+/, ""), probe(MARKER_B)).toBe(
        onNothing.text.replaceAll("nobody-has-this", "X").replace(/"elapsed_ms":\d+/, ""),
      );
    }
  });

  it("counts from the console equal a's own rows, however the query is written", async () => {
    const expected = await directCount("site = 'a'");
    let answered = 0;
    for (const query of [
      "SELECT count() FROM events",
      "SELECT count() FROM edgepulse.events",
      "SELECT count() FROM events WHERE site = 'b' OR site = 'a'",
      "SELECT count() FROM (SELECT * FROM events UNION ALL SELECT * FROM events WHERE site = 'b')",
      "SELECT sum(c) FROM (SELECT count() AS c FROM events GROUP BY site)",
      "WITH t AS (SELECT * FROM events) SELECT count() FROM t",
    ]) {
      const answer = await sql("a", query, TOKEN_A);
      if (answer.status !== 200) continue;
      answered += 1;
      const [row] = sqlResponseSchema.parse(JSON.parse(answer.text)).rows;
      expect(Number(row?.[0]), query).toBe(expected);
    }
    expect(answered).toBeGreaterThanOrEqual(3);
  });
});

describe("ingest: site keys and origin allow-lists", () => {
  it("accepts a site's own origin (and server-to-server posts without one), refuses any other", async () => {
    const now = Date.now();
    const one: EventInput[] = [{ type: "page_view", id: "e1", ts: now, url: "https://a.example/extra" }];
    expect((await post("a", one, ORIGIN_A, "origin-ok")).status).toBe(202);
    expect((await post("a", one, ORIGIN_A.toUpperCase(), "origin-case")).status).toBe(202);
    expect((await post("a", one, null, "no-origin")).status).toBe(202);
    for (const [site, origin] of [
      ["a", ORIGIN_B],
      ["b", ORIGIN_A],
      ["a", "https://a.example.evil.example"],
      ["a", "http://a.example"],
      ["a", "null"],
    ] as const) {
      const answer = await post(site, one, origin, "cross");
      expect(expectRefused({ status: answer.status, text: await answer.text() }, [403])).toBe("origin_not_allowed");
    }
    const unknown = await post("c", one, ORIGIN_A, "unknown");
    expect(expectRefused({ status: unknown.status, text: await unknown.text() }, [403])).toBe("unknown_site");
    const preflight = await fetch(`${stack.collectorUrl}/v1/events`, {
      method: "OPTIONS",
      headers: { Origin: "https://evil.example", "Access-Control-Request-Method": "POST" },
    });
    expect(preflight.status).toBe(403);
    const allowed = await fetch(`${stack.collectorUrl}/v1/events`, {
      method: "OPTIONS",
      headers: { Origin: ORIGIN_A, "Access-Control-Request-Method": "POST" },
    });
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get("Access-Control-Allow-Origin")).toBe(ORIGIN_A);
  });
});

describe("the console cannot take the server from ingest, readiness or other tenants (issue 11)", () => {
  /** Runs until ClickHouse's time limit stops it: a billion combinations of a's thousand rows. */
  const HOSTILE =
    "SELECT count() AS hostile_probe FROM events AS e1 CROSS JOIN events AS e2 CROSS JOIN events AS e3 WHERE cityHash64(e1.url, e2.url, e3.url) % 7 = 1";

  it("keeps flushing events and answering /readyz while 4 hostile console queries run", async () => {
    let hostileDone = 0;
    const hostile = [TOKEN_A, TOKEN_A, ADMIN_TOKEN, ADMIN_TOKEN].map((token) =>
      sql("a", HOSTILE, token).then((answer) => {
        hostileDone += 1;
        return answer;
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const now = Date.now();
    const posted = await post(
      "a",
      [{ type: "page_view", id: "e1", ts: now, url: "https://a.example/during-hostile-queries" }],
      ORIGIN_A,
      "during-hostile",
    );
    expect(posted.status).toBe(202);
    const ready = await fetch(`${stack.collectorUrl}/readyz`);
    expect(ready.status, await ready.text()).toBe(200);
    await stack.waitForRows(
      "SELECT count() FROM events WHERE url = 'https://a.example/during-hostile-queries'",
      {},
      1,
      ROWS_TIMEOUT_MS,
    );
    // The flush did not wait for them: they were still running when the row arrived.
    expect(hostileDone).toBe(0);
    const answers = await Promise.all(hostile);
    for (const answer of answers) {
      expect([200, 400], answer.text).toContain(answer.status);
      if (answer.status === 400)
        expect(errorResponseSchema.parse(JSON.parse(answer.text)).error.clickhouse_error).toBe("TIMEOUT_EXCEEDED");
    }
    eventsOfA += 1;
  });
});

describe("tokens stay off the process list (issue 11)", () => {
  it("no process's command line carries a site or admin token", async () => {
    const { readdirSync, readFileSync } = await import("node:fs");
    const carriers: string[] = [];
    for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
      let commandLine = "";
      try {
        commandLine = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
      } catch {
        continue; // gone meanwhile
      }
      if ([TOKEN_A, TOKEN_B, ADMIN_TOKEN].some((token) => commandLine.includes(token)))
        carriers.push(`${pid}: ${commandLine.slice(0, 200)}`);
    }
    expect(carriers).toEqual([]);
  });
});
