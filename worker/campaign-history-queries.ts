/**
 * The ClickHouse queries behind `GET /v1/history/{channels,sources,campaigns}`: closed
 * sessions that started in the range, grouped by their first touch (the entry page view's
 * channel, source and campaign). Constant SQL with typed parameters, as history-queries.ts.
 *
 * Filters select sessions (history-filters.ts, sessionFilterSql).
 *
 * Visitors are SESSION_VISITORS (uniqCombined(17): 0.3 % standard error), not exact.
 *
 * From `sessions` and not `events` because conversion and revenue are a session's; FINAL,
 * because a session reopened by a late event has a replacing row (ReplacingMergeTree).
 */
import { SESSION_SOURCE_SQL } from "./history-filters";
import { type HistoryQuery, type HistoryQueryRange, SESSION_VISITORS, sessionsInRange } from "./history-queries";

const OUTCOMES = `
  ${SESSION_VISITORS} AS visitors,
  count() AS sessions,
  countIf(purchased = 1) AS conversions,
  conversions / sessions AS conversion_rate,
  sum(revenue) AS revenue`;

export function channelsQuery(range: HistoryQueryRange): HistoryQuery {
  const sessions = sessionsInRange(range);
  return {
    sql: `
SELECT if(channel = '', '(not set)', toString(channel)) AS channel,${OUTCOMES}
FROM sessions FINAL
WHERE ${sessions.where}
GROUP BY channel
ORDER BY sessions DESC, channel
LIMIT {limit:UInt32}`,
    params: sessions.params,
  };
}

export function sourcesQuery(range: HistoryQueryRange): HistoryQuery {
  const sessions = sessionsInRange(range);
  return {
    sql: `
SELECT ${SESSION_SOURCE_SQL} AS source,${OUTCOMES}
FROM sessions FINAL
WHERE ${sessions.where}
GROUP BY source
ORDER BY sessions DESC, source
LIMIT {limit:UInt32}`,
    params: sessions.params,
  };
}

export function campaignsQuery(range: HistoryQueryRange): HistoryQuery {
  const sessions = sessionsInRange(range);
  return {
    sql: `
SELECT utm_campaign AS campaign, utm_source AS source, utm_medium AS medium,${OUTCOMES}
FROM sessions FINAL
WHERE ${sessions.where} AND utm_campaign != ''
GROUP BY campaign, source, medium
ORDER BY sessions DESC, campaign, source, medium
LIMIT {limit:UInt32}`,
    params: sessions.params,
  };
}
