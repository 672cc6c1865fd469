/**
 * The history questions asked of raw `events` / `sessions` / `window_metrics`, exactly as the
 * routes asked them before the rollups (exact distinct counts and quantiles): the oracle that
 * rollups.test.ts compares every rollup-backed answer with. Not used by the Worker.
 */
import { type HistoryQuery, type HistoryQueryRange, sessionsInRange } from "../../worker/history-queries";
import { toDateTime64 } from "../../clickhouse/rows";

function baseParams(range: HistoryQueryRange): Record<string, string | number> {
  return {
    site: range.site,
    from: toDateTime64(range.from),
    to: toDateTime64(range.to),
    interval: range.interval,
    limit: range.limit,
  };
}

const EVENTS_IN_RANGE = "site = {site:String} AND ts >= {from:DateTime64(3, 'UTC')} AND ts < {to:DateTime64(3, 'UTC')}";

/**
 * Window counters summed per bucket. `window_metrics` is what the shards sealed, so for
 * window-sized buckets every number equals the live window's. `visitors` summed over windows
 * is exact only for window-sized buckets (a visitor active in two windows counts twice), so
 * larger buckets take visitors from `timeseriesVisitorsQuery` instead.
 */
export function referenceTimeseriesWindowsQuery(range: HistoryQueryRange): HistoryQuery {
  return {
    sql: `
SELECT
  intDiv(toUnixTimestamp(window_start), {interval:UInt32}) * {interval:UInt32} * 1000 AS start,
  sum(events) AS events,
  sum(page_views) AS page_views,
  sum(visitors) AS visitors,
  sum(sessions) AS sessions,
  sum(bounces) AS bounces,
  sum(cart_adds) AS cart_adds,
  sum(checkouts) AS checkouts,
  sum(purchases) AS purchases,
  sum(revenue) AS revenue
FROM window_metrics
WHERE site = {site:String}
  AND window_start >= toDateTime({from:DateTime64(3, 'UTC')}, 'UTC')
  AND window_start < toDateTime({to:DateTime64(3, 'UTC')}, 'UTC')
GROUP BY start
ORDER BY start
LIMIT 100000`,
    params: baseParams(range),
  };
}

/** Unique visitors per bucket, counted from the events themselves. */
export function referenceTimeseriesVisitorsQuery(range: HistoryQueryRange): HistoryQuery {
  return {
    sql: `
SELECT
  intDiv(toUnixTimestamp64Milli(ts), {interval_ms:UInt64}) * {interval_ms:UInt64} AS start,
  uniqExact(visitor_id) AS visitors
FROM events
WHERE ${EVENTS_IN_RANGE}
GROUP BY start
ORDER BY start
LIMIT 100000`,
    params: { ...baseParams(range), interval_ms: range.interval * 1000 },
  };
}

export function referencePagesQuery(range: HistoryQueryRange): HistoryQuery {
  return {
    sql: `
SELECT path, count() AS views, uniqExact(visitor_id) AS visitors
FROM events
WHERE ${EVENTS_IN_RANGE} AND type = 'page_view'
GROUP BY path
ORDER BY views DESC, path
LIMIT {limit:UInt32}`,
    params: baseParams(range),
  };
}

export function referenceReferrersQuery(range: HistoryQueryRange): HistoryQuery {
  return {
    sql: `
SELECT referrer_host AS host, uniqExact(session_id) AS visits, count() AS page_views
FROM events
WHERE ${EVENTS_IN_RANGE} AND type = 'page_view' AND referrer_host != ''
GROUP BY host
ORDER BY visits DESC, host
LIMIT {limit:UInt32}`,
    params: baseParams(range),
  };
}

export function referenceCountriesQuery(range: HistoryQueryRange): HistoryQuery {
  return {
    sql: `
SELECT toString(country) AS country, uniqExact(visitor_id) AS visitors, count() AS page_views
FROM events
WHERE ${EVENTS_IN_RANGE} AND type = 'page_view'
GROUP BY country
ORDER BY visitors DESC, country
LIMIT {limit:UInt32}`,
    params: baseParams(range),
  };
}

/** One scan for three dimensions: each page view is expanded into (device), (browser), (os). */
export function referenceDevicesQuery(range: HistoryQueryRange): HistoryQuery {
  return {
    sql: `
SELECT pair.1 AS dimension, pair.2 AS value, uniqExact(visitor_id) AS visitors, count() AS page_views
FROM events
ARRAY JOIN arrayZip(['device', 'browser', 'os'], [toString(device), toString(browser), toString(os)]) AS pair
WHERE ${EVENTS_IN_RANGE} AND type = 'page_view'
GROUP BY dimension, value
ORDER BY dimension, page_views DESC, value
LIMIT {limit:UInt32} BY dimension`,
    params: baseParams(range),
  };
}

/**
 * Product views are the SDK's `track("product_view", { product_id, name })` custom events,
 * cart adds are `cart` events, and units / revenue come from each purchase's `items`.
 */
export function referenceProductsQuery(range: HistoryQueryRange): HistoryQuery {
  return {
    sql: `
SELECT
  product_key AS product_id,
  argMaxIf(product_label, event_time, product_label != '') AS name,
  sum(is_view) AS views,
  sum(is_cart_add) AS cart_adds,
  sum(units) AS purchases,
  sum(amount) AS revenue
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
  WHERE ${EVENTS_IN_RANGE} AND ((type = 'custom' AND name = 'product_view') OR (type = 'cart' AND action = 'add'))
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
  WHERE ${EVENTS_IN_RANGE} AND type = 'purchase'
)
WHERE product_key != ''
GROUP BY product_key
ORDER BY revenue DESC, views DESC, product_key
LIMIT {limit:UInt32}`,
    params: baseParams(range),
  };
}

/**
 * Sessions that reached each step of the closed funnel, as the live funnel counts them
 * (durable-objects/ingest-shard/session-state.ts funnelDepth): a session counts at a step only when it
 * also reached every step before it.
 */
export function referenceFunnelQuery(range: HistoryQueryRange): HistoryQuery {
  return {
    sql: `
SELECT
  count() AS sessions,
  countIf(viewed) AS product_views,
  countIf(viewed AND added) AS cart_adds,
  countIf(viewed AND added AND checked_out) AS checkouts,
  countIf(viewed AND added AND checked_out AND purchased) AS purchases
FROM
(
  SELECT
    session_id,
    countIf(type = 'custom' AND name = 'product_view') > 0 AS viewed,
    countIf(type = 'cart' AND action = 'add') > 0 AS added,
    countIf(type = 'cart' AND action = 'checkout') > 0 AS checked_out,
    countIf(type = 'purchase') > 0 AS purchased
  FROM events
  WHERE ${EVENTS_IN_RANGE}
  GROUP BY session_id
)`,
    params: baseParams(range),
  };
}

/**
 * Closed sessions that started in the range. `FINAL` because a session's row is replaced
 * (ReplacingMergeTree by ended_at) if it is flushed again. Averages of no rows are 0, not NaN.
 */
export function referenceSessionsQuery(range: HistoryQueryRange): HistoryQuery {
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
WHERE site = {site:String} AND started_at >= {from:DateTime64(3, 'UTC')} AND started_at < {to:DateTime64(3, 'UTC')}`,
    params: baseParams(range),
  };
}

/** p50 / p75 / p95 per page and metric, for the `limit` pages with the most measurements. */
export function referenceVitalsQuery(range: HistoryQueryRange): HistoryQuery {
  return {
    sql: `
SELECT
  path,
  toString(metric) AS metric,
  quantilesExact(0.5, 0.75, 0.95)(metric_value) AS q,
  q[1] AS p50,
  q[2] AS p75,
  q[3] AS p95,
  count() AS count
FROM events
WHERE ${EVENTS_IN_RANGE} AND type = 'vital'
  AND path IN (
    SELECT path FROM events
    WHERE ${EVENTS_IN_RANGE} AND type = 'vital'
    GROUP BY path ORDER BY count() DESC, path LIMIT {limit:UInt32}
  )
GROUP BY path, metric
ORDER BY path, metric`,
    params: baseParams(range),
  };
}

/** Page views per path in the range, from raw page views: what exit rates divide by (unfiltered). */
export function referencePageViewsByPathQuery(range: HistoryQueryRange): HistoryQuery {
  return {
    sql: `
SELECT path, count() AS page_views
FROM events
WHERE ${EVENTS_IN_RANGE} AND type = 'page_view'
GROUP BY path`,
    params: baseParams(range),
  };
}

const EVENT_ATTRIBUTE_COLUMNS = {
  page: "path",
  referrer: "referrer_host",
  country: "country",
  device: "device",
  browser: "browser",
  os: "os",
} as const;

/**
 * The closed sessions started in the range that had (`is`) or lacked (`is_not`) an event with
 * each attribute within a day of the range, asked of raw events by session id: what
 * sessionFilterSql answered before session_attribute_rollup. A count and an order-free digest
 * of the session ids.
 */
export function referenceSessionsWithAttributesQuery(
  range: HistoryQueryRange,
  filters: readonly { dimension: keyof typeof EVENT_ATTRIBUTE_COLUMNS; op: "is" | "is_not"; value: string }[],
): HistoryQuery {
  const params: Record<string, string | number> = {
    ...baseParams(range),
    near_from: toDateTime64(range.from - 24 * 3600_000),
    near_to: toDateTime64(range.to + 24 * 3600_000),
  };
  const conditions = filters.map((filter, index) => {
    params[`value_${index}`] = filter.value;
    return `session_id ${filter.op === "is" ? "IN" : "NOT IN"} (SELECT session_id FROM events
      WHERE site = {site:String} AND ts >= {near_from:DateTime64(3, 'UTC')} AND ts < {near_to:DateTime64(3, 'UTC')}
        AND ${EVENT_ATTRIBUTE_COLUMNS[filter.dimension]} = {value_${index}:String})`;
  });
  return {
    sql: `
SELECT count() AS sessions, groupBitXor(sipHash64(session_id)) AS digest
FROM sessions FINAL
WHERE site = {site:String} AND started_at >= {from:DateTime64(3, 'UTC')} AND started_at < {to:DateTime64(3, 'UTC')}
  AND ${conditions.join(" AND ")}`,
    params,
  };
}

/**
 * Custom-event goals as the goals route asked them before goal_rollup: the custom events, from
 * the range's start to a day past its end, of the closed sessions started in the range that
 * meet the filters (sessionsInRange, itself compared with raw rows above), by session id.
 */
export function referenceEventGoalsQuery(range: HistoryQueryRange): HistoryQuery {
  const sessions = sessionsInRange(range);
  return {
    sql: `
SELECT name, uniqExact(session_id) AS conversions, count() AS events, sum(JSONExtractFloat(props, 'value')) AS revenue
FROM events
WHERE site = {site:String} AND type = 'custom' AND ts >= {from:DateTime64(3, 'UTC')} AND ts < {goal_to:DateTime64(3, 'UTC')}
  AND session_id IN (SELECT session_id FROM sessions FINAL WHERE ${sessions.where})
GROUP BY name
ORDER BY conversions DESC, name
LIMIT {limit:UInt32}`,
    params: { ...sessions.params, goal_to: toDateTime64(range.to + 24 * 3600_000) },
  };
}
