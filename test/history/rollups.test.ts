/**
 * The rollups of migrations/002_rollups.sql against raw rows, on the real engine behind the
 * local server: every rollup-backed history answer (worker/history-answers.ts) equals the same
 * question asked of raw `events` / `sessions` / `window_metrics` (rollups-reference-queries.ts)
 * for counts and sums, and is within the stated bound for distinct counts (uniqCombined(12)) and
 * Web Vitals quantiles (DDSketch) — over data that was there before the migration (backfill),
 * inserted straight into `events` after it, retried under the same dedup token, and late.
 */
import { mkdtempSync, readdirSync, copyFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HistoryResource } from "../../protocol/history";
import { generateHistoryDataset } from "../../bench/history";
import { historyAnswers, HISTORY_QUERY_SETTINGS } from "../../worker/history-answers";
import {
  devicesQuery,
  filteredTimeseriesQuery,
  funnelQuery,
  type HistoryQuery,
  type HistoryQueryRange,
  pagesQuery,
  pageViewsByPathQuery,
  productsQuery,
  SESSION_VISITORS,
  sessionsInRange,
  vitalsQuery,
} from "../../worker/history-queries";
import { eventGoalsQuery } from "../../worker/goal-queries";
import { entryPagesQuery, exitPagesQuery } from "../../worker/session-page-queries";
import { campaignsQuery, channelsQuery, sourcesQuery } from "../../worker/campaign-history-queries";
import { type ClickHouse, createClickHouse } from "../../clickhouse/client";
import { type LocalClickHouse, startLocalClickHouse } from "../../clickhouse/local-server";
import { applyMigrations, DEFAULT_MIGRATIONS_DIR } from "../../clickhouse/migrate";
import { type EventRow, type SessionRow, toDateTime, toDateTime64 } from "../../clickhouse/rows";
import { eventRow, sessionRow } from "../support/clickhouse-rows";
import {
  referenceCountriesQuery,
  referenceDevicesQuery,
  referenceEventGoalsQuery,
  referenceFunnelQuery,
  referencePagesQuery,
  referencePageViewsByPathQuery,
  referenceSessionsWithAttributesQuery,
  referenceProductsQuery,
  referenceReferrersQuery,
  referenceSessionsQuery,
  referenceTimeseriesVisitorsQuery,
  referenceTimeseriesWindowsQuery,
} from "./rollups-reference-queries";

/**
 * uniqCombined(12) is exact for small sets, then a HyperLogLog of 2^12 cells: 1.04 / sqrt(4096)
 * = 1.6 % standard error; 5 % is over 3 sigma. (Precision 12, not the default 17, keeps a busy
 * day's state at 3 KB instead of 96 KB: see migrations/002_rollups.sql.)
 */
const DISTINCT_RELATIVE_BOUND = 0.05;
/**
 * Session answers' visitors (SESSION_VISITORS, uniqCombined(17)): 2^17 cells, 0.29 % standard
 * error; 2 % is about 7 sigma.
 */
const SESSION_DISTINCT_RELATIVE_BOUND = 0.02;
/** quantilesDD(0.01, …): 1 % relative accuracy. */
const QUANTILE_RELATIVE_ACCURACY = 0.01;

const DATABASE = "rollups";
const SITE = "rollup-shop";
const LATE_SITE = "rollup-late";
const GOAL_SITE = "rollup-goals";
const WINDOW_SECONDS = 10;
const HOUR = 3600_000;
const DAY = 24 * HOUR;
/** Deliberately unaligned: the ragged edges come from raw rows. */
const START = Date.UTC(2025, 0, 1, 3, 17, 45, 250);
const END = START + 30 * DAY;

let dataDir: string;
let server: LocalClickHouse;
let clickhouse: ClickHouse;

async function statement(sql: string): Promise<void> {
  const response = await fetch(`${server.url}/?database=${DATABASE}`, { method: "POST", body: sql });
  if (!response.ok) throw new Error(`ClickHouse ${response.status}: ${await response.text()}`);
}

async function reference<T>(query: HistoryQuery): Promise<T[]> {
  return clickhouse.query<T>(query.sql, query.params, HISTORY_QUERY_SETTINGS);
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "edgepulse-rollups-"));
  server = await startLocalClickHouse({ port: 0, dataDir });
  const connection = { url: server.url, username: "default", password: "", database: DATABASE };
  clickhouse = createClickHouse(connection, { timeoutMs: 120_000 });
  // Half the data before the rollups exist (the migration backfills it), half after (the views add it).
  const firstOnly = mkdtempSync(join(tmpdir(), "edgepulse-migrations-"));
  try {
    const [first] = readdirSync(DEFAULT_MIGRATIONS_DIR)
      .filter((file) => file.endsWith(".sql"))
      .sort();
    if (first === undefined) throw new Error("no migrations");
    copyFileSync(join(DEFAULT_MIGRATIONS_DIR, first), join(firstOnly, first));
    await applyMigrations({ ...connection, migrationsDir: firstOnly });
  } finally {
    rmSync(firstOnly, { recursive: true, force: true });
  }
  await generateHistoryDataset({
    clickhouseUrl: server.url,
    database: DATABASE,
    site: SITE,
    rows: 150_000,
    start: START,
    end: START + 16 * DAY,
  });
  await applyMigrations(connection);
  await generateHistoryDataset({
    clickhouseUrl: server.url,
    database: DATABASE,
    site: SITE,
    rows: 150_000,
    start: START + 14 * DAY,
    end: END,
  });
}, 300_000);

afterAll(async () => {
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const event = (id: string, ts: number, fields: Partial<EventRow>) =>
  eventRow(LATE_SITE, id, ts, { batch_id: "late", items: "[]", props: "{}", ...fields });

/** A session of the late site that started an hour into the range. */
const session = (id: string, endedAt: number, fields: Partial<SessionRow>) =>
  sessionRow(LATE_SITE, id, START + HOUR, {
    ended_at: toDateTime64(endedAt),
    exit_path: "/p/mug",
    product_views: 1,
    currency: "EUR",
    ...fields,
  });

function expectDistinctWithinBound(actual: number, exact: number, what: string): void {
  expect(Math.abs(actual - exact), `${what}: ${actual} vs exact ${exact}`).toBeLessThanOrEqual(
    DISTINCT_RELATIVE_BOUND * exact,
  );
}

type Row = Record<string, unknown>;
const rowsOf = (answer: Row): Row[] => (answer.rows as Row[] | undefined) ?? [];

/** Compares a top list by key: exact fields equal, distinct fields within the bound, same keys. */
function compareRows(
  site: string,
  resource: string,
  actual: Row[],
  exact: Row[],
  key: (row: Row) => string,
  exactFields: string[],
  distinctFields: string[],
): void {
  expect(exact.length, `${resource}: the data set answers something`).toBeGreaterThan(0);
  expect(actual.map(key).sort(), `${resource} keys`).toEqual(exact.map(key).sort());
  const byKey = new Map(exact.map((row) => [key(row), row]));
  for (const row of actual) {
    const expected = byKey.get(key(row)) ?? {};
    for (const field of exactFields)
      expect(Number(row[field]), `${site} ${resource} ${key(row)} ${field}`).toBe(Number(expected[field]));
    for (const field of distinctFields)
      expectDistinctWithinBound(
        Number(row[field]),
        Number(expected[field]),
        `${site} ${resource} ${key(row)} ${field}`,
      );
  }
}

async function compareRoute(resource: HistoryResource, range: HistoryQueryRange): Promise<void> {
  const answer = await historyAnswers[resource](clickhouse, range, WINDOW_SECONDS);
  const label = `${resource} ${new Date(range.from).toISOString()}..${new Date(range.to).toISOString()} /${range.interval}`;
  switch (resource) {
    case "timeseries": {
      const points = answer.points as Row[];
      const windows = await reference<Row>(referenceTimeseriesWindowsQuery(range));
      const visitors = new Map(
        (await reference<Row>(referenceTimeseriesVisitorsQuery(range))).map((row) => [
          Number(row.start),
          Number(row.visitors),
        ]),
      );
      expect(windows.length, label).toBeGreaterThan(0);
      expect(
        points.map((point) => point.start),
        label,
      ).toEqual(windows.map((point) => Number(point.start)));
      for (const [index, point] of points.entries()) {
        const expected = windows[index] ?? {};
        for (const field of [
          "events",
          "page_views",
          "sessions",
          "bounces",
          "cart_adds",
          "checkouts",
          "purchases",
          "revenue",
        ]) {
          expect(Number(point[field]), `${label} ${String(point.start)} ${field}`).toBe(Number(expected[field]));
        }
        const exactVisitors =
          range.interval === WINDOW_SECONDS ? Number(expected.visitors) : (visitors.get(Number(point.start)) ?? 0);
        expectDistinctWithinBound(Number(point.visitors), exactVisitors, `${label} ${String(point.start)} visitors`);
      }
      return;
    }
    case "pages":
      return compareRows(
        range.site,
        label,
        rowsOf(answer),
        await reference(referencePagesQuery(range)),
        (row) => String(row.path),
        ["views"],
        ["visitors"],
      );
    case "referrers":
      return compareRows(
        range.site,
        label,
        rowsOf(answer),
        await reference(referenceReferrersQuery(range)),
        (row) => String(row.host),
        ["page_views"],
        ["visits"],
      );
    case "countries":
      return compareRows(
        range.site,
        label,
        rowsOf(answer),
        await reference(referenceCountriesQuery(range)),
        (row) => String(row.country),
        ["page_views"],
        ["visitors"],
      );
    case "devices":
      return compareRows(
        range.site,
        label,
        rowsOf(answer),
        await reference(referenceDevicesQuery(range)),
        (row) => `${String(row.dimension)}:${String(row.value)}`,
        ["page_views"],
        ["visitors"],
      );
    case "products":
      // Ranked by exact sums, so the same products in the same order, names included.
      expect(rowsOf(answer), label).toEqual(
        (await reference<Row>(referenceProductsQuery(range))).map((row) => ({
          ...row,
          views: Number(row.views),
          cart_adds: Number(row.cart_adds),
          purchases: Number(row.purchases),
          revenue: Number(row.revenue),
        })),
      );
      return;
    case "funnel": {
      const [steps] = await reference<Row>(referenceFunnelQuery(range));
      const funnel = answer.funnel as Row;
      for (const field of ["sessions", "product_views", "cart_adds", "checkouts", "purchases"])
        expect(Number(funnel[field]), `${label} ${field}`).toBe(Number(steps?.[field]));
      return;
    }
    case "sessions": {
      const [row] = await reference<Row>(referenceSessionsQuery(range));
      expect(answer.sessions, label).toBe(Number(row?.sessions ?? 0));
      expect(answer.abandoned_carts, label).toEqual({
        sessions: Number(row?.abandoned_sessions ?? 0),
        value: Number(row?.abandoned_value ?? 0),
      });
      expect(answer.avg_duration_seconds, label).toBeCloseTo(Number(row?.avg_duration_seconds ?? 0), 9);
      return;
    }
    case "vitals": {
      // The exact values at the ranks a quantile may take: DDSketch's q·(n−1), quantileExact's ⌊q·n⌋.
      const exact = await clickhouse.query<{ path: string; metric: string; count: number; lo: number[]; hi: number[] }>(
        `SELECT path, toString(metric) AS metric, count() AS count, arraySort(groupArray(metric_value)) AS v,
           arrayMap(q -> v[toUInt64(floor(q * (length(v) - 1))) + 1], [0.5, 0.75, 0.95]) AS lo,
           arrayMap(q -> v[least(length(v), toUInt64(floor(q * length(v))) + 1)], [0.5, 0.75, 0.95]) AS hi
         FROM events WHERE site = {site:String} AND type = 'vital' AND ts >= {from:DateTime64(3, 'UTC')} AND ts < {to:DateTime64(3, 'UTC')}
         GROUP BY path, metric`,
        { site: range.site, from: toDateTime64(range.from), to: toDateTime64(range.to) },
      );
      expect(exact.length, label).toBeGreaterThan(0);
      const byKey = new Map(exact.map((row) => [`${row.path} ${row.metric}`, row]));
      const topPaths = [...new Map(exact.map((row) => [row.path, 0])).keys()]
        .map((path) => ({
          path,
          count: exact.filter((row) => row.path === path).reduce((sum, row) => sum + Number(row.count), 0),
        }))
        .sort((a, b) => b.count - a.count || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
        .slice(0, range.limit)
        .map((entry) => entry.path);
      const rows = rowsOf(answer);
      expect([...new Set(rows.map((row) => String(row.path)))].sort(), label).toEqual([...topPaths].sort());
      for (const row of rows) {
        const expected = byKey.get(`${String(row.path)} ${String(row.metric)}`);
        expect(Number(row.count), `${label} ${String(row.path)} count`).toBe(Number(expected?.count));
        for (const [index, field] of ["p50", "p75", "p95"].entries()) {
          const lo = (expected?.lo[index] ?? 0) * (1 - QUANTILE_RELATIVE_ACCURACY) - 1e-9;
          const hi = (expected?.hi[index] ?? 0) * (1 + QUANTILE_RELATIVE_ACCURACY) + 1e-9;
          expect(
            Number(row[field]),
            `${label} ${String(row.path)} ${String(row.metric)} ${field}`,
          ).toBeGreaterThanOrEqual(lo);
          expect(Number(row[field]), `${label} ${String(row.path)} ${String(row.metric)} ${field}`).toBeLessThanOrEqual(
            hi,
          );
        }
      }
      return;
    }
  }
}

const RESOURCES: HistoryResource[] = [
  "timeseries",
  "pages",
  "referrers",
  "countries",
  "devices",
  "products",
  "funnel",
  "sessions",
  "vitals",
];
/** Ranges that exercise every source: days + hours + raw edges, hours only, raw only, aligned. */
const RANGES = [
  { name: "30 days, unaligned", from: START, to: END, interval: 3 * 3600 },
  { name: "30 days, daily buckets", from: START, to: END, interval: 86400 },
  { name: "24 hours, unaligned", from: END - DAY - 1, to: END - 1, interval: 300 },
  { name: "3 days, aligned to days", from: Date.UTC(2025, 0, 10), to: Date.UTC(2025, 0, 13), interval: 3600 },
  {
    name: "40 minutes inside an hour",
    from: START + 5 * DAY + 7 * 60_000,
    to: START + 5 * DAY + 47 * 60_000,
    interval: WINDOW_SECONDS,
  },
  {
    name: "26 hours across midnight, 45-minute buckets",
    from: Date.UTC(2025, 0, 20, 22, 30, 0, 999),
    to: Date.UTC(2025, 0, 22, 0, 30),
    interval: 2700,
  },
];

/**
 * The goals route's custom-event rows (goal_rollup for whole days, raw edges) against raw
 * events: same goals, conversions and events equal; revenue, a Float64 sum in the raw answer
 * too, equal to 1e-6 (the order of float additions differs).
 */
async function compareGoals(range: HistoryQueryRange, label: string): Promise<Row[]> {
  const actual = await reference<Row>(eventGoalsQuery(range));
  const exact = await reference<Row>(referenceEventGoalsQuery(range));
  expect(
    actual.map((row) => String(row.name)),
    label,
  ).toEqual(exact.map((row) => String(row.name)));
  for (const [index, row] of actual.entries()) {
    const expected = exact[index] ?? {};
    expect(Number(row.conversions), `${label} ${String(row.name)} conversions`).toBe(Number(expected.conversions));
    expect(Number(row.events), `${label} ${String(row.name)} events`).toBe(Number(expected.events));
    expect(Number(row.revenue), `${label} ${String(row.name)} revenue`).toBeCloseTo(Number(expected.revenue), 6);
  }
  return actual;
}

describe("rollup-backed history equals the raw answer", () => {
  for (const range of RANGES) {
    it(`for every route over ${range.name}`, async () => {
      for (const resource of RESOURCES)
        await compareRoute(resource, {
          site: SITE,
          from: range.from,
          to: range.to,
          interval: range.interval,
          limit: 100,
        });
    });
  }
});

describe("page views per path (the exit-pages route's divisor) equal the raw count", () => {
  for (const range of RANGES) {
    it(`over ${range.name}`, async () => {
      const query: HistoryQueryRange = {
        site: SITE,
        from: range.from,
        to: range.to,
        interval: range.interval,
        limit: 100,
      };
      const byPath = (rows: Row[]) =>
        Object.fromEntries(rows.map((row) => [String(row.path), Number(row.page_views)] as const));
      const exact = byPath(await reference<Row>(referencePageViewsByPathQuery(query)));
      expect(Object.keys(exact).length, range.name).toBeGreaterThan(0);
      expect(byPath(await reference<Row>(pageViewsByPathQuery(query))), range.name).toEqual(exact);
    });
  }
});

describe("sessions matched on an event attribute (session_attribute_rollup) equal the raw match", () => {
  const FILTER_SETS = [
    [{ dimension: "country", op: "is", value: "DE" }],
    [
      { dimension: "device", op: "is_not", value: "mobile" },
      { dimension: "page", op: "is", value: "/checkout" },
    ],
    [{ dimension: "referrer", op: "is", value: "www.google.com" }],
    [
      { dimension: "browser", op: "is", value: "Safari" },
      { dimension: "os", op: "is_not", value: "iOS" },
    ],
    // Cart and purchase events have no page: '' is a value like any other.
    [{ dimension: "page", op: "is", value: "" }],
  ] as const;
  for (const range of RANGES) {
    it(`over ${range.name}`, async () => {
      for (const filters of FILTER_SETS) {
        const query: HistoryQueryRange = {
          site: SITE,
          from: range.from,
          to: range.to,
          interval: range.interval,
          limit: 100,
          filters,
        };
        const sessions = sessionsInRange(query);
        const [actual] = await reference<Row>({
          sql: `SELECT count() AS sessions, groupBitXor(sipHash64(session_id)) AS digest FROM sessions FINAL WHERE ${sessions.where}`,
          params: sessions.params,
        });
        const [exact] = await reference<Row>(referenceSessionsWithAttributesQuery(query, filters));
        const label = `${range.name} ${JSON.stringify(filters)}`;
        // A 40-minute range may hold no such session; a day or more always does.
        if (range.to - range.from >= DAY) expect(Number(exact?.sessions), label).toBeGreaterThan(0);
        expect(actual, label).toEqual(exact);
      }
    });
  }
});

describe("filtered history reads raw rows and equals the same reference", () => {
  // A filter that keeps every row sends every route to the raw tables (history-queries.ts, plan),
  // so this holds the raw path to the same answers as the rollup path above.
  it("for every route but timeseries over 30 days, unaligned, with a filter that keeps everything", async () => {
    for (const resource of RESOURCES.filter((name) => name !== "timeseries"))
      await compareRoute(resource, {
        site: SITE,
        from: START,
        to: END,
        interval: 3 * 3600,
        limit: 100,
        filters: [{ dimension: "page", op: "is_not", value: "/never-visited" }],
      });
  });
});

describe("custom-event goals (goal_rollup) equal the raw answer", () => {
  const FILTER_SETS = [
    [],
    [{ dimension: "country", op: "is", value: "DE" }],
    [
      { dimension: "device", op: "is", value: "mobile" },
      { dimension: "entry_page", op: "is_not", value: "/c/mugs" },
    ],
  ] as const;
  for (const range of RANGES) {
    it(`over ${range.name}`, async () => {
      for (const filters of FILTER_SETS) {
        const query: HistoryQueryRange = {
          site: SITE,
          from: range.from,
          to: range.to,
          interval: range.interval,
          limit: 100,
          filters,
        };
        const rows = await compareGoals(query, `${range.name} ${JSON.stringify(filters)}`);
        if (range.to - range.from >= DAY) expect(rows.length, range.name).toBeGreaterThan(0);
      }
    });
  }
});

describe("session answers count visitors within the stated bound", () => {
  const exactVisitors = (query: HistoryQuery): HistoryQuery => ({
    sql: query.sql.replaceAll(SESSION_VISITORS, "uniqExact(visitor_id)"),
    params: query.params,
  });
  const ROUTES = [
    { name: "entry pages", build: entryPagesQuery, key: (row: Row) => String(row.path) },
    { name: "exit pages", build: exitPagesQuery, key: (row: Row) => String(row.path) },
    { name: "channels", build: channelsQuery, key: (row: Row) => String(row.channel) },
    { name: "sources", build: sourcesQuery, key: (row: Row) => String(row.source) },
    { name: "campaigns", build: campaignsQuery, key: (row: Row) => `${String(row.campaign)} ${String(row.source)}` },
  ];
  for (const range of RANGES.slice(0, 3)) {
    it(`over ${range.name}`, async () => {
      const query: HistoryQueryRange = {
        site: SITE,
        from: range.from,
        to: range.to,
        interval: range.interval,
        limit: 100,
      };
      let compared = 0;
      for (const route of ROUTES) {
        const built = route.build(query);
        expect(built.sql, route.name).toContain(SESSION_VISITORS);
        const actual = await reference<Row>(built);
        const exact = await reference<Row>(exactVisitors(built));
        expect(actual.map(route.key), route.name).toEqual(exact.map(route.key));
        for (const [index, row] of actual.entries()) {
          const expected = exact[index] ?? {};
          const { visitors, ...rest } = row;
          const { visitors: exactCount, ...exactRest } = expected;
          expect(rest, `${range.name} ${route.name} ${route.key(row)}`).toEqual(exactRest);
          expect(
            Math.abs(Number(visitors) - Number(exactCount)),
            `${range.name} ${route.name} ${route.key(row)} visitors ${String(visitors)} vs ${String(exactCount)}`,
          ).toBeLessThanOrEqual(SESSION_DISTINCT_RELATIVE_BOUND * Number(exactCount));
          compared++;
        }
      }
      expect(compared, range.name).toBeGreaterThan(0);
    });
  }
});

describe("filtered event answers read the attribute projection and equal the table's answer", () => {
  // The projection (migration 040) is the same rows sorted by (site, country, device, type,
  // browser, os, ts); the engine picks it when it reads fewer granules. Half the data set was
  // there before the migration, so this also covers MATERIALIZE PROJECTION.
  const FILTER_SETS = [
    [
      { dimension: "country", op: "is", value: "DE" },
      { dimension: "device", op: "is", value: "mobile" },
    ],
    [{ dimension: "country", op: "is", value: "US" }],
    [
      { dimension: "browser", op: "is", value: "Safari" },
      { dimension: "channel", op: "is_not", value: "Email" },
    ],
  ] as const;
  const QUERIES = { filteredTimeseriesQuery, funnelQuery, productsQuery, vitalsQuery, pagesQuery, devicesQuery };
  it("over 30 days, unaligned", async () => {
    for (const filters of FILTER_SETS) {
      const range: HistoryQueryRange = { site: SITE, from: START, to: END, interval: 3 * 3600, limit: 100, filters };
      for (const [name, build] of Object.entries(QUERIES)) {
        const query = build(range);
        const label = `${name} ${JSON.stringify(filters)}`;
        const plan = await clickhouse.query<{ explain: string }>(`EXPLAIN indexes = 1 ${query.sql}`, query.params);
        // Where a filter keeps a twelfth of the rows, the projection reads fewer granules for every
        // query; with one country (a quarter) the table may still win for types its key prunes.
        if (filters.length === 2 && filters[1].dimension === "device")
          expect(plan.map((line) => line.explain).join("\n"), label).toContain(
            "ReadFromMergeTree (events_by_visit_attributes)",
          );
        const withProjection = await clickhouse.query<Row>(query.sql, query.params, HISTORY_QUERY_SETTINGS);
        const withoutProjection = await clickhouse.query<Row>(query.sql, query.params, {
          ...HISTORY_QUERY_SETTINGS,
          optimize_use_projections: 0,
        });
        expect(withProjection.length, label).toBeGreaterThan(0);
        expect(withProjection, label).toEqual(withoutProjection);
      }
    }
  });
});

describe("rollups stay exact under what the pipeline does", () => {
  const range = (interval: number): HistoryQueryRange => ({
    site: LATE_SITE,
    from: START,
    to: START + 2 * DAY,
    interval,
    limit: 100,
  });

  it("drops a retried insert under the same dedup token in the rollups too, and adds late rows and direct imports", async () => {
    const purchase = JSON.stringify([{ product_id: "mug", name: "Blue mug", price: 12.5, quantity: 2 }]);
    const rows = [
      event("e1", START + HOUR + 1000, { path: "/", referrer_host: "google.com" }),
      event("e2", START + HOUR + 2000, {
        type: "custom",
        name: "product_view",
        path: "/p/mug",
        props: JSON.stringify({ product_id: "mug", name: "Blue mug" }),
      }),
      event("e3", START + HOUR + 3000, {
        type: "cart",
        action: "add",
        product_id: "mug",
        product_name: "Blue mug",
        price: 12.5,
        quantity: 2,
        currency: "EUR",
      }),
      event("e4", START + HOUR + 4000, {
        type: "purchase",
        value: 25,
        currency: "EUR",
        order_id: "o1",
        items: purchase,
      }),
      event("e5", START + HOUR + 5000, { type: "vital", metric: "LCP", metric_value: 1234.5, path: "/p/mug" }),
      event("e7", START + HOUR + 6000, { type: "custom", name: "signup", props: JSON.stringify({ value: 12.5 }) }),
    ];
    await clickhouse.insert("events", rows, "late:0:epoch:events:1-5");
    await clickhouse.insert("events", rows, "late:0:epoch:events:1-5");
    const windowRow = {
      site: LATE_SITE,
      window_start: toDateTime(START + HOUR),
      window_seconds: 10,
      currency: "",
      events: 5,
      page_views: 1,
      visitors: 1,
      sessions: 1,
      bounces: 0,
      cart_adds: 1,
      cart_removes: 0,
      checkouts: 0,
      purchases: 1,
      revenue: 0,
    };
    await clickhouse.insert("window_metrics", [windowRow], "late:0:epoch:window_metrics:1-1");
    await clickhouse.insert("window_metrics", [windowRow], "late:0:epoch:window_metrics:1-1");

    const pages = await historyAnswers.pages(clickhouse, range(3600), WINDOW_SECONDS);
    expect(pages.rows).toEqual([{ path: "/", views: 1, visitors: 1 }]);
    const products = await historyAnswers.products(clickhouse, range(3600), WINDOW_SECONDS);
    expect(products.rows).toEqual([
      { product_id: "mug", name: "Blue mug", views: 1, cart_adds: 1, purchases: 2, revenue: 25 },
    ]);
    const timeseries = await historyAnswers.timeseries(clickhouse, range(86400), WINDOW_SECONDS);
    expect(timeseries.points).toEqual([
      expect.objectContaining({ events: 5, page_views: 1, visitors: 1, purchases: 1 }),
    ]);

    // A late event for the same hour, from another visitor, and a plain import without a token.
    await clickhouse.insert(
      "events",
      [event("e6", START + HOUR + 60_000, { visitor_id: "v2", session_id: "s2", path: "/" })],
      "late:0:epoch:events:6-6",
    );
    await statement(
      `INSERT INTO events (site, event_id, type, ts, visitor_id, session_id, path) VALUES ('${LATE_SITE}', 'i1', 'page_view', '${toDateTime64(START + DAY + 5)}', 'v3', 's3', '/imported')`,
    );
    const after = await historyAnswers.pages(clickhouse, range(3600), WINDOW_SECONDS);
    expect(after.rows).toEqual([
      { path: "/", views: 2, visitors: 2 },
      { path: "/imported", views: 1, visitors: 1 },
    ]);
    for (const resource of RESOURCES) await compareRoute(resource, range(3600));
  });

  it("counts goals once through a retried insert, and adds a late goal and a direct import", async () => {
    const goalSession = (id: string, visitor: string) =>
      sessionRow(GOAL_SITE, id, START + HOUR, { visitor_id: visitor, ended_at: toDateTime64(START + HOUR + 120_000) });
    await clickhouse.insert(
      "sessions",
      [goalSession("s9", "v9"), goalSession("s10", "v10")],
      "goals:0:epoch:sessions:9-10",
    );
    const goal = (id: string, ts: number, sessionId: string, value: number) =>
      eventRow(GOAL_SITE, id, ts, {
        batch_id: "goals",
        items: "[]",
        session_id: sessionId,
        type: "custom",
        name: "subscribe",
        props: JSON.stringify({ value }),
      });
    // On a whole day of the range, so goal_rollup holds them: the retry must be dropped there too.
    const rows = [goal("g1", START + DAY + HOUR, "s9", 5.25), goal("g2", START + DAY + HOUR + 1000, "s9", 1)];
    await clickhouse.insert("events", rows, "goals:0:epoch:events:g1-g2");
    await clickhouse.insert("events", rows, "goals:0:epoch:events:g1-g2");
    // Late (the next day, within the day past the range's end a session may convert in) and imported.
    await clickhouse.insert("events", [goal("g3", START + 2 * DAY + HOUR, "s10", 2)], "goals:0:epoch:events:g3-g3");
    await statement(
      `INSERT INTO events (site, event_id, type, ts, visitor_id, session_id, name, props) VALUES ('${GOAL_SITE}', 'g4', 'custom', '${toDateTime64(START + DAY + 5)}', 'v10', 's10', 'subscribe', '{"value":3}')`,
    );
    const subscribe = (await compareGoals({ ...range(3600), site: GOAL_SITE }, "late goals")).find(
      (row) => row.name === "subscribe",
    );
    expect([Number(subscribe?.conversions), Number(subscribe?.events)]).toEqual([2, 4]);
    expect(Number(subscribe?.revenue)).toBeCloseTo(11.25, 9);
  });

  it("counts a session replaced at close once", async () => {
    await clickhouse.insert(
      "sessions",
      [session("s1", START + HOUR + 60_000, { cart_value: 25 })],
      "late:0:epoch:sessions:1-1",
    );
    await clickhouse.insert(
      "sessions",
      [session("s1", START + HOUR + 90_000, { duration: 90, cart_value: 25, purchased: 1 })],
      "late:0:epoch:sessions:2-2",
    );
    const answer = await historyAnswers.sessions(clickhouse, range(3600), WINDOW_SECONDS);
    expect(answer).toMatchObject({ sessions: 1, avg_duration_seconds: 90, abandoned_carts: { sessions: 0, value: 0 } });
  });
});
