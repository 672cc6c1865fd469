/**
 * The ClickHouse queries of the filtered live answer that history has no twin for: the
 * latest windows, today's totals and visitors online, counted from `events` rows as the
 * shards count them for the feed (protocol/live.ts MetricCounts). Filters are history's
 * (history-filters.ts) with session attributes read from the sessions' events, so sessions
 * still open match a channel or source filter. Constant SQL, typed parameters.
 */
import { toDateTime64 } from "../clickhouse/rows";
import type { HistoryFilter } from "../protocol/history-filters";
import { SESSION_MATCH_MARGIN_MS, eventFilterSql } from "./history-filters";
import type { HistoryQuery } from "./history-queries";

const SITE = "site = {site:String}";

/**
 * The feed's counts over the selected events. Bounces: of the sessions counted, those whose
 * closed `sessions` row bounced (an open session has not bounced yet), as the filtered history
 * timeseries counts them.
 */
const COUNTS = `
  count() AS events,
  countIf(type = 'page_view') AS page_views,
  uniqExact(visitor_id) AS visitors,
  uniqExact(session_id) AS sessions,
  uniqExactIf(session_id, session_id IN (
    SELECT session_id FROM sessions FINAL
    WHERE ${SITE} AND started_at >= {b_from:DateTime64(3, 'UTC')} AND started_at < {b_to:DateTime64(3, 'UTC')} AND bounced = 1
  )) AS bounces,
  countIf(type = 'cart' AND action = 'add') AS cart_adds,
  countIf(type = 'cart' AND action = 'remove') AS cart_removes,
  countIf(type = 'cart' AND action = 'checkout') AS checkouts,
  countIf(type = 'purchase') AS purchases,
  sumIf(value, type = 'purchase') AS revenue,
  sumMapIf(map(toString(currency), value), type = 'purchase') AS revenue_by_currency`;

interface Span {
  from: number;
  to: number;
}

/** The WHERE clause of `events` rows in [from, to) meeting the filters, with its parameters. */
function matching(
  site: string,
  filters: readonly HistoryFilter[],
  span: Span,
): { where: string; params: HistoryQuery["params"] } {
  const filter = eventFilterSql(filters, span, "events");
  return {
    where: `${SITE} AND ts >= {from:DateTime64(3, 'UTC')} AND ts < {to:DateTime64(3, 'UTC')}${filters.length > 0 ? `\n  AND ${filter.condition}` : ""}`,
    params: {
      site,
      from: toDateTime64(span.from),
      to: toDateTime64(span.to),
      b_from: toDateTime64(span.from - SESSION_MATCH_MARGIN_MS),
      b_to: toDateTime64(span.to),
      ...filter.params,
    },
  };
}

/** One row per epoch-aligned window of `windowSeconds` in `span` with a matching event, newest first. */
export function liveWindowsQuery(
  site: string,
  filters: readonly HistoryFilter[],
  span: Span,
  windowSeconds: number,
): HistoryQuery {
  const rows = matching(site, filters, span);
  return {
    sql: `
SELECT toInt64(intDiv(toUnixTimestamp(ts), {window:UInt32}) * {window:UInt32}) * 1000 AS start,${COUNTS}
FROM events
WHERE ${rows.where}
GROUP BY start
ORDER BY start DESC
LIMIT 1000`,
    params: { ...rows.params, window: windowSeconds },
  };
}

/** One row: the counts over `span` (the site's local day). */
export function liveTotalsQuery(site: string, filters: readonly HistoryFilter[], span: Span): HistoryQuery {
  const rows = matching(site, filters, span);
  return { sql: `SELECT${COUNTS}\nFROM events\nWHERE ${rows.where}`, params: rows.params };
}

/** One row: distinct visitors with a matching event in `span` (the last five minutes). */
export function liveOnlineQuery(site: string, filters: readonly HistoryFilter[], span: Span): HistoryQuery {
  const rows = matching(site, filters, span);
  return { sql: `SELECT uniqExact(visitor_id) AS online\nFROM events\nWHERE ${rows.where}`, params: rows.params };
}
