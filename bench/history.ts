/**
 * Benchmark 5: the dashboard's history queries on a data set of ≥ 10 million events.
 *
 * The data set is generated inside ClickHouse (bench/history-dataset.sql); the queries are
 * the ones the Worker runs (worker/history-queries.ts), timed twice: through the Worker's
 * `GET /v1/history/*` routes (what the dashboard waits for) and directly against ClickHouse
 * (what the engine needs), so the difference is the Worker's share.
 */
import { readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { type HistoryFilter, parseHistoryFilter } from "../protocol/history-filters";
import {
  countriesQuery,
  devicesQuery,
  filteredTimeseriesQuery,
  funnelQuery,
  type HistoryQuery,
  type HistoryQueryRange,
  pagesQuery,
  productsQuery,
  referrersQuery,
  sessionsQuery,
  timeseriesVisitorsQuery,
  timeseriesWindowsQuery,
  vitalsQuery,
} from "../worker/history-queries";
import { campaignsQuery, channelsQuery, sourcesQuery } from "../worker/campaign-history-queries";
import { entryPagesQuery, exitPagesQuery } from "../worker/session-page-queries";
import { eventGoalsQuery, goalSessionCountQuery } from "../worker/goal-queries";
import { LatencyHistogram } from "../tools/latency-histogram";
import { PROJECT_ROOT } from "../tools/wrangler-dev";

const DATASET_SQL = join(PROJECT_ROOT, "bench/history-dataset.sql");

export interface DatasetOptions {
  clickhouseUrl: string;
  database: string;
  site: string;
  rows: number;
  /** The data set covers [start, end) in ms. */
  start: number;
  end: number;
  /** Told after each statement (events, sessions, window partials …): a 100M set takes many minutes. */
  onProgress?: (line: string) => void;
}

/** Events per INSERT of the generated set (whole sessions of 25), well inside the local server's 2 GiB per query. */
const DATASET_CHUNK_ROWS = 5_000_000;

/** `10m`, `100m`, `500k` or a plain number: the events of the history data set (`--history-events`). */
export function parseEventCount(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(text.trim());
  const count = match
    ? Number(match[1]) * ({ "": 1, k: 1_000, m: 1_000_000 } as const)[(match[2] ?? "").toLowerCase() as "" | "k" | "m"]
    : Number.NaN;
  if (!Number.isFinite(count) || count < 25 || count > 1_000_000_000)
    throw new RangeError(`--history-events: expected e.g. 10m or 100m, got "${text}"`);
  return Math.floor(count);
}

/** Runs one statement through ClickHouse's HTTP interface; returns the body. */
/**
 * One statement over HTTP, however long it runs. Not fetch: its client gives up when the
 * answer's headers take over 300 s, and a 100M-event INSERT … SELECT answers only when done.
 */
function clickhouseStatement(url: string, database: string, sql: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${url}/?database=${encodeURIComponent(database)}`, { method: "POST" }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("error", reject);
      response.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        const status = response.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve(text);
        else reject(new Error(`ClickHouse ${status}: ${text.slice(0, 500)}`));
      });
    });
    request.on("error", reject);
    request.end(sql);
  });
}

/** Generates the data set; returns how long it took (ms) and the events it holds. */
export async function generateHistoryDataset(options: DatasetOptions): Promise<{ ms: number; events: number }> {
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(options.site)) throw new RangeError("site must be a site key");
  const sql = readFileSync(DATASET_SQL, "utf8")
    .replaceAll("{{SITE}}", options.site)
    .replaceAll("{{ROWS}}", String(Math.floor(options.rows)))
    .replaceAll("{{START}}", String(Math.floor(options.start / 1000)))
    .replaceAll("{{SPAN}}", String(Math.floor((options.end - options.start) / 1000) - 1200));
  const statements = sql
    .split(/^\s*;\s*$/m)
    .map((statement) => statement.replace(/^\s*--.*$/gm, "").trim())
    .filter((statement) => statement !== "");
  const began = performance.now();
  const rows = Math.floor(options.rows);
  for (const [index, statement] of statements.entries()) {
    const into = /^INSERT INTO (\w+)/.exec(statement)?.[1] ?? "statement";
    // A chunked statement runs once per DATASET_CHUNK_ROWS events (whole sessions: a multiple of 25).
    const chunks = statement.includes("{{CHUNK}}") ? Math.ceil(rows / DATASET_CHUNK_ROWS) : 1;
    for (let chunk = 0; chunk < chunks; chunk++) {
      const started = performance.now();
      const offset = chunk * DATASET_CHUNK_ROWS;
      await clickhouseStatement(
        options.clickhouseUrl,
        options.database,
        statement
          .replaceAll("{{OFFSET}}", String(offset))
          .replaceAll("{{CHUNK}}", String(Math.min(DATASET_CHUNK_ROWS, rows - offset))),
      );
      const part =
        chunks > 1
          ? ` (${(offset + Math.min(DATASET_CHUNK_ROWS, rows - offset)).toLocaleString("en-US")} of ${rows.toLocaleString("en-US")})`
          : "";
      options.onProgress?.(
        `  ${index + 1}/${statements.length} into ${into}${part}: ${((performance.now() - started) / 1000).toFixed(0)} s`,
      );
    }
  }
  const ms = performance.now() - began;
  const count = await clickhouseStatement(
    options.clickhouseUrl,
    options.database,
    `SELECT count() FROM events WHERE site = '${options.site}' FORMAT TabSeparated`,
  );
  return { ms, events: Number(count.trim()) };
}

/**
 * Merges every rollup table's parts (OPTIMIZE … FINAL) and returns how long it took (ms). Run
 * after a bulk load and before timing: a long-lived server has merged its rollups in the
 * background long before anyone asks for last month, whereas a just-loaded one still holds
 * one partial row per insert block and period.
 */
export async function optimizeRollups(
  clickhouseUrl: string,
  database: string,
): Promise<{ ms: number; tables: string[] }> {
  const began = performance.now();
  const listed = await clickhouseStatement(
    clickhouseUrl,
    database,
    `SELECT name FROM system.tables WHERE database = currentDatabase() AND engine LIKE '%MergeTree' AND name LIKE '%rollup%' ORDER BY name FORMAT TabSeparated`,
  );
  const tables = listed.split("\n").filter((name) => /^[a-z_][a-z0-9_]*$/.test(name));
  for (const table of tables) await clickhouseStatement(clickhouseUrl, database, `OPTIMIZE TABLE ${table} FINAL`);
  return { ms: performance.now() - began, tables };
}

/**
 * The resources of `GET /v1/history/*` the History tab asks for, with the queries each runs
 * (timeseries and goals run two).
 */
export const HISTORY_RESOURCES: readonly {
  resource: string;
  queries: ((range: HistoryQueryRange) => HistoryQuery)[];
}[] = [
  { resource: "timeseries", queries: [timeseriesWindowsQuery, timeseriesVisitorsQuery] },
  { resource: "pages", queries: [pagesQuery] },
  { resource: "referrers", queries: [referrersQuery] },
  { resource: "countries", queries: [countriesQuery] },
  { resource: "devices", queries: [devicesQuery] },
  { resource: "products", queries: [productsQuery] },
  { resource: "funnel", queries: [funnelQuery] },
  { resource: "sessions", queries: [sessionsQuery] },
  { resource: "vitals", queries: [vitalsQuery] },
  { resource: "entry-pages", queries: [entryPagesQuery] },
  { resource: "exit-pages", queries: [exitPagesQuery] },
  { resource: "channels", queries: [channelsQuery] },
  { resource: "sources", queries: [sourcesQuery] },
  { resource: "campaigns", queries: [campaignsQuery] },
  { resource: "goals", queries: [goalSessionCountQuery, eventGoalsQuery] },
];

export interface QueryTiming {
  resource: string;
  range: string;
  /** Through the Worker route, ms; null when the route did not answer 200. */
  worker: { p50: number; p95: number } | null;
  workerStatus: number | null;
  /** The same queries straight to ClickHouse (summed per resource), ms. */
  direct: { p50: number; p95: number };
  runs: number;
}

function p50p95(samples: number[]): { p50: number; p95: number } {
  const histogram = new LatencyHistogram();
  for (const sample of samples) histogram.record(sample);
  return { p50: histogram.quantile(0.5), p95: histogram.quantile(0.95) };
}

/** ClickHouse's HTTP interface with typed parameters, the way @clickhouse/client-web sends them. */
async function runDirect(url: string, database: string, query: HistoryQuery): Promise<void> {
  const search = new URLSearchParams({ database, default_format: "JSONEachRow", readonly: "1" });
  for (const [name, value] of Object.entries(query.params)) search.set(`param_${name}`, String(value));
  const response = await fetch(`${url}/?${search}`, { method: "POST", body: query.sql });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`direct history query failed (${response.status})`);
}

export interface HistoryTimingOptions {
  clickhouseUrl: string;
  database: string;
  /** Collector base URL and a read token; null to time direct queries only. */
  collector: { url: string; token: string } | null;
  site: string;
  /** `filters`: `filter` parameters as the dashboard sends them (raw rows instead of rollups). */
  ranges: readonly { name: string; from: number; to: number; interval: number; filters?: readonly string[] }[];
  /** Timed runs per resource and range, after one untimed warm-up. */
  runs: number;
}

export async function timeHistoryQueries(options: HistoryTimingOptions): Promise<QueryTiming[]> {
  const timings: QueryTiming[] = [];
  for (const range of options.ranges) {
    const filters = (range.filters ?? []).map((text): HistoryFilter => {
      const filter = parseHistoryFilter(text);
      if (typeof filter === "string") throw new Error(`bench filter ${text}: ${filter}`);
      return filter;
    });
    const queryRange: HistoryQueryRange = {
      site: options.site,
      from: range.from,
      to: range.to,
      interval: range.interval,
      limit: 10,
      filters,
    };
    for (const { resource, queries: unfiltered } of HISTORY_RESOURCES) {
      // A filtered timeseries is one query over the events (history-answers.ts).
      const queries = filters.length > 0 && resource === "timeseries" ? [filteredTimeseriesQuery] : unfiltered;
      const direct: number[] = [];
      const worker: number[] = [];
      let workerStatus: number | null = null;
      let workerFailed = false;
      for (let run = 0; run <= options.runs; run++) {
        const began = performance.now();
        for (const query of queries) await runDirect(options.clickhouseUrl, options.database, query(queryRange));
        if (run > 0) direct.push(performance.now() - began);
        if (options.collector !== null && !workerFailed) {
          const search = new URLSearchParams({
            site: options.site,
            from: String(range.from),
            to: String(range.to),
            interval: String(range.interval),
          });
          for (const filter of range.filters ?? []) search.append("filter", filter);
          const started = performance.now();
          const response = await fetch(`${options.collector.url}/v1/history/${resource}?${search}`, {
            headers: { authorization: `Bearer ${options.collector.token}` },
          });
          await response.arrayBuffer();
          workerStatus = response.status;
          if (response.status !== 200) workerFailed = true;
          else if (run > 0) worker.push(performance.now() - started);
        }
      }
      timings.push({
        resource,
        range: range.name,
        worker: worker.length > 0 ? p50p95(worker) : null,
        workerStatus,
        direct: p50p95(direct),
        runs: options.runs,
      });
    }
  }
  return timings;
}
