/**
 * The ClickHouse queries behind `GET /v1/history/{entry-pages,exit-pages}`: closed sessions
 * that started in the range and meet the filters (sessionsInRange), by their entry or exit
 * page. Exit rates divide by the page's views in the range (pageViewsByPathQuery: the daily
 * rollup and raw edges, or the events with the same filters), so "exit rate of /cart for Email
 * sessions" compares like with like. Visitors are SESSION_VISITORS (0.3 % standard error).
 */
import {
  type HistoryQuery,
  type HistoryQueryRange,
  pageViewsByPathQuery,
  SESSION_VISITORS,
  sessionsInRange,
} from "./history-queries";

export function entryPagesQuery(range: HistoryQueryRange): HistoryQuery {
  const sessions = sessionsInRange(range);
  return {
    sql: `
SELECT entry_path AS path, count() AS sessions, ${SESSION_VISITORS} AS visitors, avg(bounced) AS bounce_rate
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
  const views = pageViewsByPathQuery(range);
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
  SELECT exit_path AS path, count() AS sessions, ${SESSION_VISITORS} AS visitors
  FROM sessions FINAL
  WHERE ${sessions.where}
  GROUP BY path
  ORDER BY sessions DESC, path
  LIMIT {limit:UInt32}
) AS exits
LEFT JOIN
(
  ${views.sql.replaceAll("\n", "\n  ")}
) AS views ON views.path = exits.path
ORDER BY sessions DESC, path`,
    params: { ...sessions.params, ...views.params },
  };
}
