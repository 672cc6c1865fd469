/**
 * The ClickHouse queries behind `GET /v1/history/{channels,sources,campaigns}`: closed
 * sessions that started in the range, grouped by their first touch (the entry page view's
 * channel, source and campaign). Constant SQL with typed parameters, as history-queries.ts.
 *
 * From `sessions` and not `events` because conversion and revenue are a session's; FINAL,
 * because a session reopened by a late event has a replacing row (ReplacingMergeTree).
 */
import type { HistoryQuery, HistoryQueryRange } from "./history-queries";
import { toDateTime64 } from "../clickhouse/rows";

const SESSIONS_IN_RANGE =
  "site = {site:String} AND started_at >= {from:DateTime64(3, 'UTC')} AND started_at < {to:DateTime64(3, 'UTC')}";

const OUTCOMES = `
  uniqExact(visitor_id) AS visitors,
  count() AS sessions,
  countIf(purchased = 1) AS conversions,
  conversions / sessions AS conversion_rate,
  sum(revenue) AS revenue`;

function params(range: HistoryQueryRange): Record<string, string | number> {
  return { site: range.site, from: toDateTime64(range.from), to: toDateTime64(range.to), limit: range.limit };
}

export function channelsQuery(range: HistoryQueryRange): HistoryQuery {
  return {
    sql: `
SELECT if(channel = '', '(not set)', toString(channel)) AS channel,${OUTCOMES}
FROM sessions FINAL
WHERE ${SESSIONS_IN_RANGE}
GROUP BY channel
ORDER BY sessions DESC, channel
LIMIT {limit:UInt32}`,
    params: params(range),
  };
}

export function sourcesQuery(range: HistoryQueryRange): HistoryQuery {
  return {
    sql: `
SELECT multiIf(utm_source != '', utm_source, referrer_host != '', referrer_host, '(direct)') AS source,${OUTCOMES}
FROM sessions FINAL
WHERE ${SESSIONS_IN_RANGE}
GROUP BY source
ORDER BY sessions DESC, source
LIMIT {limit:UInt32}`,
    params: params(range),
  };
}

export function campaignsQuery(range: HistoryQueryRange): HistoryQuery {
  return {
    sql: `
SELECT utm_campaign AS campaign, utm_source AS source, utm_medium AS medium,${OUTCOMES}
FROM sessions FINAL
WHERE ${SESSIONS_IN_RANGE} AND utm_campaign != ''
GROUP BY campaign, source, medium
ORDER BY sessions DESC, campaign, source, medium
LIMIT {limit:UInt32}`,
    params: params(range),
  };
}
