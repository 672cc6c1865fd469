/**
 * The ClickHouse queries behind `GET /v1/history/*`, answered from the rollups of
 * clickhouse/migrations/002_rollups.sql. Every value reaches ClickHouse as a typed query
 * parameter (`{site:String}`, `{raw_from_1:DateTime64(3, 'UTC')}` …), never spliced into SQL;
 * the SQL text depends only on the route and which rollup grains it uses. Table names are
 * unqualified: the client's database is the EdgePulse database.
 *
 * Each query is a UNION ALL of the same partial aggregate from every source of the range plan
 * (history-segments.ts): the daily and hourly (or minute) rollups for whole periods, raw rows
 * for the ragged edges. Partials are sums or mergeable states (uniqCombined(12), quantilesDD,
 * argMax, groupBitOr), so the outer GROUP BY gives what one scan of the raw rows would give:
 * counts and sums exactly, distinct counts within uniqCombined(12)'s bound (1.6 % standard
 * error; exact for small sets), Web Vitals quantiles within DDSketch's 1 % relative accuracy.
 *
 * test/history/rollups-reference-queries.ts asks the same questions of the raw tables on
 * purpose: it is the oracle these answers are compared with. A new question here gets its
 * raw twin there.
 *
 * Buckets are aligned to the Unix epoch (`intDiv(seconds, interval) * interval`), exactly as
 * the shards align tumbling windows, so a bucket of `WINDOW_SECONDS` is one live window, and
 * a rollup grain serves a timeseries only when it divides the interval.
 */
import { toDateTime64 } from "../clickhouse/rows";
import type { HistoryFilter } from "../protocol/history-filters";
import { eventFilterSql, type SessionAttributesFrom, sessionFilterSql } from "./history-filters";
import { planRollupSegments, type SpanPair } from "./history-segments";
import { bucketStartSql, grainsForZone } from "./history-time-zone";

export interface HistoryQueryRange {
  site: string;
  /** ms since the epoch; `to` exclusive. */
  from: number;
  to: number;
  /** Bucket size, seconds. */
  interval: number;
  limit: number;
  /** ANDed; rollups lack their dimensions, so any filter sends the whole range to raw rows. */
  filters?: readonly HistoryFilter[];
  /** IANA zone of the site: day buckets start at its local midnight. Absent: UTC. */
  timeZone?: string;
  /**
   * Where event answers read session attributes (channel, source, utm_*, entry and exit
   * page) from: closed sessions' rows (history, the default) or the sessions' events, so
   * sessions still open match too (the filtered live answer; history-filters.ts).
   */
  sessionAttributesFrom?: SessionAttributesFrom;
}

export interface HistoryQuery {
  sql: string;
  params: Record<string, string | number>;
}

/** Grains of the event rollups (`period_seconds`), finest first. */
export const HOUR_AND_DAY = [3600, 86400] as const;
/** Days only, raw rows for the rest (see pageViewPartials). */
export const DAYS_ONLY = [86400] as const;
/** `visitors_rollup` also keeps minutes, for timeseries buckets of 1 to 59 minutes. */
export const MINUTE_HOUR_AND_DAY = [60, 3600, 86400] as const;

/** One source of a range plan: the raw table or a rollup grain, with its two spans as parameters. */
interface Source {
  /** `raw` or `g3600` …: the parameter prefix. */
  name: string;
  grainSeconds: number | null;
  /** `(column >= … AND column < …) OR (…)` over this source's spans. */
  condition: (column: string, cast?: (placeholder: string) => string) => string;
}

interface Plan {
  params: Record<string, string | number>;
  raw: Source;
  /** ` AND (…)`: the filters' condition for the raw events branch, or "" without filters. */
  rawFilter: string;
  /** Only the grains whose spans cover something: a union branch reading nothing still costs a pass. */
  rollups: Source[];
}

function source(name: string, grainSeconds: number | null): Source {
  return {
    name,
    grainSeconds,
    condition: (column, cast = (placeholder) => placeholder) => {
      const bound = (suffix: string) => cast(`{${name}_${suffix}:DateTime64(3, 'UTC')}`);
      return `((${column} >= ${bound("from_1")} AND ${column} < ${bound("to_1")}) OR (${column} >= ${bound("from_2")} AND ${column} < ${bound("to_2")}))`;
    },
  };
}

function spanParams(name: string, spans: SpanPair): Record<string, string> {
  return {
    [`${name}_from_1`]: toDateTime64(spans[0].from),
    [`${name}_to_1`]: toDateTime64(spans[0].to),
    [`${name}_from_2`]: toDateTime64(spans[1].from),
    [`${name}_to_2`]: toDateTime64(spans[1].to),
  };
}

export const hasFilters = (range: HistoryQueryRange): boolean => (range.filters?.length ?? 0) > 0;

function plan(range: HistoryQueryRange, grainsSeconds: readonly number[]): Plan {
  // The decision is made here and not in the planner: with no grains, every span is raw.
  const filtered = hasFilters(range);
  const segments = planRollupSegments(range.from, range.to, filtered ? [] : grainsSeconds);
  const filter = eventFilterSql(range.filters ?? [], range, range.sessionAttributesFrom);
  const params: Record<string, string | number> = {
    site: range.site,
    interval: range.interval,
    limit: range.limit,
    time_zone: range.timeZone ?? "UTC",
    ...spanParams("raw", segments.raw),
    ...filter.params,
  };
  const rollups: Source[] = [];
  for (const rollup of segments.rollups) {
    if (rollup.spans.every((span) => span.from >= span.to)) continue;
    const name = `g${rollup.grainSeconds}`;
    Object.assign(params, spanParams(name, rollup.spans));
    rollups.push(source(name, rollup.grainSeconds));
  }
  return { params, raw: source("raw", null), rawFilter: filtered ? ` AND ${filter.condition}` : "", rollups };
}

/** The grains that divide a timeseries interval, so each rollup period falls in one bucket. */
export function grainsForInterval(interval: number, grains: readonly number[]): number[] {
  return grains.filter((grain) => interval % grain === 0);
}

const unionAll = (parts: string[]) =>
  parts.map((part) => `  ${part.trim().replaceAll("\n", "\n  ")}`).join("\n  UNION ALL\n");

const SITE = "site = {site:String}";
const rollupWhere = (rollup: Source, extra = "") =>
  `${SITE} AND period_seconds = ${rollup.grainSeconds} AND ${rollup.condition("period")}${extra === "" ? "" : ` AND ${extra}`}`;

/**
 * Window counters summed per bucket: hour and day rollups of `window_metrics` for the whole
 * periods, the sealed windows themselves for the rest. For window-sized buckets every number
 * equals the live window's. `visitors` summed over windows is exact only for window-sized
 * buckets (a visitor active in two windows counts twice), so larger buckets take visitors from
 * `timeseriesVisitorsQuery` instead.
 */
export function timeseriesWindowsQuery(range: HistoryQueryRange): HistoryQuery {
  const { params, raw, rollups } = plan(range, timeseriesGrains(range, HOUR_AND_DAY));
  const columns = "events, page_views, visitors, sessions, bounces, cart_adds, checkouts, purchases, revenue";
  // Windows are whole seconds; the bounds are truncated to seconds as windows are.
  const windows = `SELECT window_start AS moment, ${columns} FROM window_metrics
WHERE ${SITE} AND ${raw.condition("window_start", (bound) => `toDateTime(${bound}, 'UTC')`)}`;
  const periods = rollups.map(
    (rollup) => `SELECT period AS moment, ${columns} FROM window_metrics_rollup WHERE ${rollupWhere(rollup)}`,
  );
  return {
    sql: `
SELECT
  ${bucketStartSql(range.interval, "moment")} AS start,
  sum(events) AS events,
  sum(page_views) AS page_views,
  sum(visitors) AS visitors,
  sum(sessions) AS sessions,
  sum(bounces) AS bounces,
  sum(cart_adds) AS cart_adds,
  sum(checkouts) AS checkouts,
  sum(purchases) AS purchases,
  sum(revenue) AS revenue
FROM
(
${unionAll([windows, ...periods])}
)
GROUP BY start
ORDER BY start
LIMIT 100000`,
    params,
  };
}

/**
 * A filtered timeseries, from the events alone (windows and rollups lack the dimensions):
 * the matching events per bucket, their distinct visitors and sessions, and, of those
 * sessions, the ones whose `sessions` row says they bounced. Cart adds, checkouts, purchases
 * and revenue count the matching cart and purchase events.
 */
export function filteredTimeseriesQuery(range: HistoryQueryRange): HistoryQuery {
  const { params, raw, rawFilter } = plan(range, []);
  return {
    sql: `
SELECT
  ${bucketStartSql(range.interval, "ts")} AS start,
  count() AS events,
  countIf(type = 'page_view') AS page_views,
  uniqCombined(12)(visitor_id) AS visitors,
  uniqCombined(12)(session_id) AS sessions,
  uniqExactIf(session_id, session_id IN (
    SELECT session_id FROM sessions FINAL
    WHERE ${SITE} AND started_at >= {hf_from:DateTime64(3, 'UTC')} AND started_at < {hf_to:DateTime64(3, 'UTC')} AND bounced = 1
  )) AS bounces,
  countIf(type = 'cart' AND action = 'add') AS cart_adds,
  countIf(type = 'cart' AND action = 'checkout') AS checkouts,
  countIf(type = 'purchase') AS purchases,
  sumIf(value, type = 'purchase') AS revenue
FROM events
WHERE ${SITE} AND ${raw.condition("ts")}${rawFilter}
GROUP BY start
ORDER BY start
LIMIT 100000`,
    params,
  };
}

/** The grains a timeseries may read: dividing its interval, and fitting the site's local days. */
function timeseriesGrains(range: HistoryQueryRange, grains: readonly number[]): number[] {
  return grainsForZone(
    grainsForInterval(range.interval, grains),
    range.interval,
    range.timeZone ?? "UTC",
    range.from,
    range.to,
  );
}

/** Unique visitors per bucket: minute, hour and day states of `visitors_rollup` merged with the edges' events. */
export function timeseriesVisitorsQuery(range: HistoryQueryRange): HistoryQuery {
  const { params, raw, rawFilter, rollups } = plan(range, timeseriesGrains(range, MINUTE_HOUR_AND_DAY));
  const events = `SELECT ${bucketStartSql(range.interval, "ts")} AS start, uniqCombinedState(12)(visitor_id) AS visitors
FROM events WHERE ${SITE} AND ${raw.condition("ts")}${rawFilter}
GROUP BY start`;
  const periods = rollups.map(
    (rollup) =>
      `SELECT ${bucketStartSql(range.interval, "period")} AS start, visitors FROM visitors_rollup WHERE ${rollupWhere(rollup)}`,
  );
  return {
    sql: `
SELECT start, uniqCombinedMerge(12)(visitors) AS visitors
FROM
(
${unionAll([events, ...periods])}
)
GROUP BY start
ORDER BY start
LIMIT 100000`,
    params,
  };
}

/**
 * Page views along the dimensions of `page_view_rollup`, as (dimension, key, page_views,
 * visitors[, sessions for referrers]) partials; callers merge and rank them. With `states: false` only
 * (dimension, key, page_views): what ranking by page views needs, without reading or building
 * a single distinct-count state.
 */
function pageViewPartials(
  range: HistoryQueryRange,
  dimensions: readonly ("path" | "referrer" | "country" | "device" | "browser" | "os")[],
  grains: readonly number[],
  states = true,
): { sql: string; params: Record<string, string | number>; usesRollups: boolean } {
  const { params, raw, rawFilter, rollups } = plan(range, grains);
  const pairs: Record<(typeof dimensions)[number], string> = {
    path: "('path', path)",
    referrer: "('referrer', referrer_host)",
    country: "('country', toString(country))",
    device: "('device', toString(device))",
    browser: "('browser', toString(browser))",
    os: "('os', toString(os))",
  };
  const wanted = dimensions.map((dimension) => `'${dimension}'`).join(", ");
  // Distinct sessions are counted for referrers only (the rollup's other rows hold empty states).
  const withSessions = dimensions.includes("referrer");
  const rawStates = states
    ? `,\n  uniqCombinedState(12)(visitor_id) AS visitors${withSessions ? ", uniqCombinedState(12)(session_id) AS sessions" : ""}`
    : "";
  const events = `SELECT pair.1 AS dimension, pair.2 AS key, toUInt64(count()) AS page_views${rawStates}
FROM events
ARRAY JOIN arrayFilter(p -> p.1 != 'referrer' OR p.2 != '', [${dimensions.map((dimension) => pairs[dimension]).join(", ")}]) AS pair
WHERE ${SITE} AND type = 'page_view' AND ${raw.condition("ts")}${rawFilter}
GROUP BY dimension, key`;
  const periods = rollups.map(
    (
      rollup,
    ) => `SELECT toString(dimension) AS dimension, value AS key, toUInt64(page_views) AS page_views${states ? `, visitors${withSessions ? ", sessions" : ""}` : ""}
FROM page_view_rollup WHERE ${rollupWhere(rollup, `dimension IN (${wanted})`)}`,
  );
  return { sql: unionAll([events, ...periods]), params, usesRollups: periods.length > 0 };
}

/**
 * Page views per path in the range, as `(path, page_views)` rows: whole days from
 * `page_view_rollup`, raw rows for the rest (all raw with filters). Exact: the rollup's
 * page views are sums.
 */
export function pageViewsByPathQuery(range: HistoryQueryRange): HistoryQuery {
  const counts = pageViewPartials(range, ["path"], DAYS_ONLY, false);
  return {
    sql: `SELECT key AS path, sum(page_views) AS page_views
FROM
(
${counts.sql}
)
GROUP BY path`,
    params: counts.params,
  };
}

/**
 * The top pages by views. Ranking needs only the page-view sums, so the `limit` paths are
 * chosen first and distinct-visitor states are merged for those paths alone, not for every
 * path a month has seen (the sums are exact, so the ranking equals the raw one).
 */
export function pagesQuery(range: HistoryQueryRange): HistoryQuery {
  const partials = pageViewPartials(range, ["path"], DAYS_ONLY);
  const counts = pageViewPartials(range, ["path"], DAYS_ONLY, false);
  // Without rollup rows (ranges shorter than a whole day) ranking first would scan the raw rows twice.
  const topPaths = partials.usesRollups
    ? `WHERE key IN
(
  SELECT key
  FROM
  (
  ${counts.sql.replaceAll("\n", "\n  ")}
  )
  GROUP BY key
  ORDER BY sum(page_views) DESC, key
  LIMIT {limit:UInt32}
)
`
    : "";
  return {
    sql: `
SELECT key AS path, sum(page_views) AS views, uniqCombinedMerge(12)(visitors) AS visitors
FROM
(
${partials.sql}
)
${topPaths}GROUP BY path
ORDER BY views DESC, path
LIMIT {limit:UInt32}`,
    params: partials.params,
  };
}

export function referrersQuery(range: HistoryQueryRange): HistoryQuery {
  const partials = pageViewPartials(range, ["referrer"], DAYS_ONLY);
  return {
    sql: `
SELECT key AS host, uniqCombinedMerge(12)(sessions) AS visits, sum(page_views) AS page_views
FROM
(
${partials.sql}
)
GROUP BY host
ORDER BY visits DESC, host
LIMIT {limit:UInt32}`,
    params: partials.params,
  };
}

export function countriesQuery(range: HistoryQueryRange): HistoryQuery {
  const partials = pageViewPartials(range, ["country"], DAYS_ONLY);
  return {
    sql: `
SELECT key AS country, uniqCombinedMerge(12)(visitors) AS visitors, sum(page_views) AS page_views
FROM
(
${partials.sql}
)
GROUP BY country
ORDER BY visitors DESC, country
LIMIT {limit:UInt32}`,
    params: partials.params,
  };
}

/** Three dimensions from one pass over the partials. */
export function devicesQuery(range: HistoryQueryRange): HistoryQuery {
  const partials = pageViewPartials(range, ["device", "browser", "os"], HOUR_AND_DAY);
  return {
    sql: `
SELECT dimension, key AS value, uniqCombinedMerge(12)(visitors) AS visitors, sum(page_views) AS page_views
FROM
(
${partials.sql}
)
GROUP BY dimension, value
ORDER BY dimension, page_views DESC, value
LIMIT {limit:UInt32} BY dimension`,
    params: partials.params,
  };
}

/**
 * Product views are the SDK's `track("product_view", { product_id, name })` custom events,
 * cart adds are `cart` events, and units / revenue come from each purchase's `items`.
 */
export function productsQuery(range: HistoryQueryRange): HistoryQuery {
  const { params, raw, rawFilter, rollups } = plan(range, HOUR_AND_DAY);
  const events = `SELECT
  product_key,
  argMaxStateIf(product_label, event_time, product_label != '') AS name_state,
  toUInt64(sum(is_view)) AS views,
  toUInt64(sum(is_cart_add)) AS cart_adds,
  toUInt64(sum(units)) AS units,
  toDecimal128(sum(amount), 4) AS revenue
FROM
(
  SELECT
    if(type = 'custom', JSONExtractString(props, 'product_id'), product_id) AS product_key,
    if(type = 'custom', JSONExtractString(props, 'name'), product_name) AS product_label,
    ts AS event_time,
    toUInt64(type = 'custom') AS is_view,
    toUInt64(type = 'cart') AS is_cart_add,
    toUInt64(0) AS units,
    toDecimal128(0, 4) AS amount
  FROM events
  WHERE ${SITE} AND ${raw.condition("ts")}${rawFilter} AND ((type = 'custom' AND name = 'product_view') OR (type = 'cart' AND action = 'add'))
  UNION ALL
  SELECT
    JSONExtractString(item, 'product_id') AS product_key,
    JSONExtractString(item, 'name') AS product_label,
    ts AS event_time,
    toUInt64(0) AS is_view,
    toUInt64(0) AS is_cart_add,
    toUInt64(JSONExtractUInt(item, 'quantity')) AS units,
    toDecimal128(JSONExtractFloat(item, 'price'), 4) * JSONExtractUInt(item, 'quantity') AS amount
  FROM events
  ARRAY JOIN JSONExtractArrayRaw(items) AS item
  WHERE ${SITE} AND ${raw.condition("ts")}${rawFilter} AND type = 'purchase'
)
WHERE product_key != ''
GROUP BY product_key`;
  const periods = rollups.map(
    (
      rollup,
    ) => `SELECT product_id AS product_key, name AS name_state, toUInt64(views) AS views, toUInt64(cart_adds) AS cart_adds, toUInt64(units) AS units,
  toDecimal128(revenue, 4) AS revenue
FROM product_rollup WHERE ${rollupWhere(rollup)}`,
  );
  return {
    sql: `
SELECT
  product_key AS product_id,
  argMaxMerge(name_state) AS name,
  sum(views) AS views,
  sum(cart_adds) AS cart_adds,
  sum(units) AS purchases,
  sum(revenue) AS revenue
FROM
(
${unionAll([events, ...periods])}
)
GROUP BY product_key
ORDER BY revenue DESC, views DESC, product_key
LIMIT {limit:UInt32}`,
    params,
  };
}

/** Funnel step bits, as funnel_rollup stores them. */
const STEP_BITS = `toUInt8(1 + 2 * (type = 'custom' AND name = 'product_view') + 4 * (type = 'cart' AND action = 'add')
    + 8 * (type = 'cart' AND action = 'checkout') + 16 * (type = 'purchase'))`;

/**
 * Sessions that reached each step of the closed funnel, as the live funnel counts them
 * (durable-objects/ingest-shard/session-state.ts funnelDepth): a session counts at a step only when it
 * also reached every step before it. A session's steps are the OR of its partial rows.
 */
export function funnelQuery(range: HistoryQueryRange): HistoryQuery {
  const { params, raw, rawFilter, rollups } = plan(range, HOUR_AND_DAY);
  const events = `SELECT sipHash64(session_id) AS session_hash, groupBitOr(${STEP_BITS}) AS steps
FROM events WHERE ${SITE} AND ${raw.condition("ts")}${rawFilter}
GROUP BY session_hash`;
  const periods = rollups.map(
    (rollup) => `SELECT session_hash, toUInt8(steps) AS steps FROM funnel_rollup WHERE ${rollupWhere(rollup)}`,
  );
  return {
    sql: `
SELECT
  count() AS sessions,
  countIf(bitAnd(steps, 2) = 2) AS product_views,
  countIf(bitAnd(steps, 6) = 6) AS cart_adds,
  countIf(bitAnd(steps, 14) = 14) AS checkouts,
  countIf(bitAnd(steps, 30) = 30) AS purchases
FROM
(
  SELECT session_hash, groupBitOr(steps) AS steps
  FROM
  (
${unionAll([events, ...periods])}
  )
  GROUP BY session_hash
)`,
    params,
  };
}

/**
 * Closed sessions that started in the range, from `sessions` itself: a session's row is
 * replaced (ReplacingMergeTree by ended_at) when it is flushed again, which a rollup view
 * cannot see, so only `FINAL` counts it once. One row per session (a 25th of the events in the
 * bench data) keeps this small. Averages of no rows are 0, not NaN.
 */
export function sessionsQuery(range: HistoryQueryRange): HistoryQuery {
  const sessions = sessionsInRange(range);
  return {
    sql: `
SELECT
  count() AS sessions,
  ifNotFinite(avg(duration), 0) AS avg_duration_seconds,
  ifNotFinite(quantileExact(0.5)(duration), 0) AS median_duration_seconds,
  ifNotFinite(avg(bounced), 0) AS bounce_rate,
  ifNotFinite(avg(page_views), 0) AS pages_per_session,
  countIf(cart_value > 0 AND purchased = 0) AS abandoned_sessions,
  sumIf(cart_value, cart_value > 0 AND purchased = 0) AS abandoned_value
FROM sessions FINAL
WHERE ${sessions.where}`,
    params: sessions.params,
  };
}

/**
 * Distinct visitors of a session answer (entry and exit pages, channels, sources, campaigns):
 * a HyperLogLog of 2^17 cells, exact while small, then 1.04 / sqrt(131072) = 0.29 % relative
 * standard error (rollups.test.ts checks the shared 5 % bound). uniqExact over a month's 400k
 * sessions was ~70 of each such query's ~100 ms of CPU on 10M events; this is ~10. Precision 17
 * and not the rollups' 12: nothing here is stored or merged, so the larger state costs nothing.
 */
export const SESSION_VISITORS = "uniqCombined(17)(visitor_id)";

/**
 * The closed sessions of a session answer: the site's, started in the range, meeting the
 * filters. A WHERE clause over `sessions` (read with FINAL) and its parameters.
 */
export function sessionsInRange(range: HistoryQueryRange): {
  where: string;
  params: Record<string, string | number>;
} {
  const filter = sessionFilterSql(range.filters ?? [], range);
  return {
    where: `site = {site:String} AND started_at >= {from:DateTime64(3, 'UTC')} AND started_at < {to:DateTime64(3, 'UTC')}${hasFilters(range) ? `\n  AND ${filter.condition}` : ""}`,
    params: {
      site: range.site,
      from: toDateTime64(range.from),
      to: toDateTime64(range.to),
      limit: range.limit,
      ...filter.params,
    },
  };
}

/**
 * p50 / p75 / p95 per page and metric (DDSketch, 1 % relative accuracy), for the `limit` pages
 * with the most measurements. The pages are ranked from the measurement counts alone; sketches
 * are merged for those pages only.
 */
export function vitalsQuery(range: HistoryQueryRange): HistoryQuery {
  const { params, raw, rawFilter, rollups } = plan(range, DAYS_ONLY);
  // The answer holds the top pages only, so this filter stays even when every row is raw.
  const topPaths = (counts: string) => `WHERE path IN
(
  SELECT path
  FROM
  (
  ${counts.replaceAll("\n", "\n  ")}
  )
  GROUP BY path
  ORDER BY sum(measurements) DESC, path
  LIMIT {limit:UInt32}
)
`;
  const partials = (sketches: boolean) =>
    unionAll([
      `SELECT path, metric, toUInt64(count()) AS measurements${sketches ? ", quantilesDDState(0.01, 0.5, 0.75, 0.95)(metric_value) AS sketch" : ""}
FROM events WHERE ${SITE} AND type = 'vital' AND ${raw.condition("ts")}${rawFilter}
GROUP BY path, metric`,
      ...rollups.map(
        (rollup) =>
          `SELECT path, metric, toUInt64(measurements) AS measurements${sketches ? ", quantiles AS sketch" : ""} FROM vitals_rollup WHERE ${rollupWhere(rollup)}`,
      ),
    ]);
  return {
    sql: `
SELECT
  path,
  toString(metric) AS metric,
  quantilesDDMerge(0.01, 0.5, 0.75, 0.95)(sketch) AS q,
  q[1] AS p50,
  q[2] AS p75,
  q[3] AS p95,
  sum(measurements) AS count
FROM
(
${partials(true)}
)
${topPaths(partials(false))}GROUP BY path, metric
ORDER BY path, metric`,
    params,
  };
}
