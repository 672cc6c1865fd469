/**
 * The ClickHouse queries behind `GET /v1/history/{entry-pages,exit-pages}`: closed sessions
 * that started in the range and meet the filters (sessionsInRange), by their entry or exit
 * page. Exit rates divide by the page's views in the range, read from `events` with the same
 * filters (eventFilterSql), so "exit rate of /cart for Email sessions" compares like with like.
 */
import { eventFilterSql } from "./history-filters";
import { type HistoryQuery, type HistoryQueryRange, hasFilters, sessionsInRange } from "./history-queries";

export function entryPagesQuery(range: HistoryQueryRange): HistoryQuery {
  const sessions = sessionsInRange(range);
  return {
    sql: `
SELECT entry_path AS path, count() AS sessions, uniqExact(visitor_id) AS visitors, avg(bounced) AS bounce_rate
FROM sessions FINAL
WHERE ${sessions.where}
GROUP BY path
ORDER BY sessions DESC, path
LIMIT {limit:UInt32}`,
    params: sessions.params,
  };
}

export function exitPagesQuery(range: HistoryQueryRange): HistoryQuery {
  const sessions = sessionsInRange(range);
  const events = eventFilterSql(range.filters ?? [], range);
  return {
    sql: `
SELECT
  exits.path AS path,
  exits.sessions AS sessions,
  exits.visitors AS visitors,
  views.page_views AS page_views,
  if(page_views = 0, 0, least(1, sessions / page_views)) AS exit_rate
FROM
(
  SELECT exit_path AS path, count() AS sessions, uniqExact(visitor_id) AS visitors
  FROM sessions FINAL
  WHERE ${sessions.where}
  GROUP BY path
  ORDER BY sessions DESC, path
  LIMIT {limit:UInt32}
) AS exits
LEFT JOIN
(
  SELECT path, count() AS page_views
  FROM events
  WHERE site = {site:String} AND type = 'page_view'
    AND ts >= {from:DateTime64(3, 'UTC')} AND ts < {to:DateTime64(3, 'UTC')}${hasFilters(range) ? ` AND ${events.condition}` : ""}
  GROUP BY path
) AS views ON views.path = exits.path
ORDER BY sessions DESC, path`,
    params: { ...sessions.params, ...events.params },
  };
}
