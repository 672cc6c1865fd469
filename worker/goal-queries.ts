/**
 * The ClickHouse queries behind `GET /v1/history/goals`. The sessions are those of
 * sessionsInRange (closed, started in the range, meeting the filters); their events are read
 * from the range's start to a day past its end (SESSION_MATCH_MARGIN_MS), so a session that
 * converts just after `to` still counts, as its `purchased` flag would.
 *
 * Sessions are matched by a 64-bit hash of their id (sipHash64, as funnel_rollup keys them and
 * `sessions.session_hash` stores it, migration 060):
 * a set of UInt64 is built and probed several times faster than a set of strings, which was
 * most of this route's time (10M events, 30 days: ~1.1 s of CPU → ~0.5 s). Two of a few
 * million sessions colliding has odds of about 1e-7. `FINAL` only with filters: without them
 * every version of a session's row carries the same id, so the set is the same either way.
 *
 * Event goals read `goal_rollup` (migrations/040_goals_and_filter_projection.sql) for the whole
 * UTC days of that span and raw custom events for its ragged ends: per (day, name, session)
 * one row with the events' count and value sum, so a month is one row per session and goal
 * instead of every custom event with its JSON (~420 → ~60 ms of CPU on 10M events). The
 * sessions' set is probed on the partial rows, keyed by the same hash. Page goals (any path
 * pattern) and a goal's properties (any key) are asked of raw events.
 *
 * Page patterns become LIKE patterns (`\`, `%` and `_` escaped, `*` → `%`) passed as
 * parameters; the SQL text depends only on how many page goals there are.
 */
import { toDateTime64 } from "../clickhouse/rows";
import { SESSION_MATCH_MARGIN_MS } from "./history-filters";
import { type HistoryQuery, type HistoryQueryRange, hasFilters, sessionsInRange } from "./history-queries";
import { planRollupSegments } from "./history-segments";

/** `/blog/*` → `/blog/%`, with LIKE's own wildcards taken literally. */
export function likePattern(pattern: string): string {
  return pattern.replace(/[\\%_]/g, (character) => `\\${character}`).replaceAll("*", "%");
}

function goalSessions(range: HistoryQueryRange): { events: string; params: Record<string, string | number> } {
  const sessions = sessionsInRange(range);
  return {
    events: `site = {site:String} AND ts >= {from:DateTime64(3, 'UTC')} AND ts < {goal_to:DateTime64(3, 'UTC')}
  AND (sipHash64(session_id) IN (SELECT session_hash FROM sessions${hasFilters(range) ? " FINAL" : ""} WHERE ${sessions.where}))`,
    params: { ...sessions.params, goal_to: toDateTime64(range.to + SESSION_MATCH_MARGIN_MS) },
  };
}

const REVENUE = "sum(JSONExtractFloat(props, 'value'))";

export function goalSessionCountQuery(range: HistoryQueryRange): HistoryQuery {
  const sessions = sessionsInRange(range);
  return { sql: `SELECT count() AS sessions FROM sessions FINAL WHERE ${sessions.where}`, params: sessions.params };
}

/** `(column >= {p_from_1} AND column < {p_to_1}) OR (…)`: a span pair as parameters named `prefix`. */
function spanCondition(column: string, prefix: string): string {
  const bound = (name: string) => `{${prefix}_${name}:DateTime64(3, 'UTC')}`;
  return `((${column} >= ${bound("from_1")} AND ${column} < ${bound("to_1")}) OR (${column} >= ${bound("from_2")} AND ${column} < ${bound("to_2")}))`;
}

export function eventGoalsQuery(range: HistoryQueryRange): HistoryQuery {
  const sessions = sessionsInRange(range);
  const goalTo = range.to + SESSION_MATCH_MARGIN_MS;
  const { raw, rollups } = planRollupSegments(range.from, goalTo, [86400]);
  const days = rollups[0]?.spans ?? [
    { from: range.from, to: range.from },
    { from: range.from, to: range.from },
  ];
  const params: Record<string, string | number> = { ...sessions.params };
  for (const [prefix, spans] of [
    ["goal_raw", raw],
    ["goal_day", days],
  ] as const) {
    for (const [index, span] of spans.entries()) {
      params[`${prefix}_from_${index + 1}`] = toDateTime64(span.from);
      params[`${prefix}_to_${index + 1}`] = toDateTime64(span.to);
    }
  }
  const partials = [
    `SELECT name, sipHash64(session_id) AS session_hash, toUInt64(count()) AS events, ${REVENUE} AS revenue
    FROM events
    WHERE site = {site:String} AND type = 'custom' AND ${spanCondition("ts", "goal_raw")}
    GROUP BY name, session_hash`,
  ];
  // identity(): session_hash is in goal_rollup's sorting key, and a 400k-hash set used for key
  // analysis (use_index_for_in_with_subqueries) cost ~450 ms of CPU on 10M events, for granules
  // the period condition has already chosen; history queries run read-only, so no SETTINGS.
  // A branch reading nothing still costs a pass: no rollup branch for ranges without a whole day.
  if (days.some((span) => span.from < span.to))
    partials.push(`SELECT name, session_hash, toUInt64(events) AS events, revenue
    FROM goal_rollup
    WHERE site = {site:String} AND period_seconds = 86400 AND ${spanCondition("period", "goal_day")}`);
  return {
    sql: `
SELECT name, uniqExact(session_hash) AS conversions, sum(events) AS events, sum(revenue) AS revenue
FROM
(
  ${partials.join("\n  UNION ALL\n  ")}
)
WHERE identity(session_hash) IN (SELECT session_hash FROM sessions${hasFilters(range) ? " FINAL" : ""} WHERE ${sessions.where})
GROUP BY name
ORDER BY conversions DESC, name
LIMIT {limit:UInt32}`,
    params,
  };
}

/** One row: `conversions_<i>` and `events_<i>` for each pattern. */
export function pageGoalsQuery(range: HistoryQueryRange, patterns: readonly string[]): HistoryQuery {
  const { events, params } = goalSessions(range);
  const columns = patterns.map((pattern, index) => {
    params[`goal_page_${index}`] = likePattern(pattern);
    const match = `path LIKE {goal_page_${index}:String}`;
    return `uniqExactIf(sipHash64(session_id), ${match}) AS conversions_${index}, countIf(${match}) AS events_${index}`;
  });
  return {
    sql: `
SELECT ${columns.join(",\n  ")}
FROM events
WHERE type = 'page_view' AND ${events}`,
    params,
  };
}

/**
 * The property values of one custom event. Strings are unquoted, numbers and booleans kept as
 * written, so each row's key and value make a `prop:is:key=value` filter that selects it.
 */
export function goalPropertiesQuery(range: HistoryQueryRange, eventName: string): HistoryQuery {
  const { events, params } = goalSessions(range);
  return {
    sql: `
SELECT
  property.1 AS key,
  if(startsWith(property.2, '"'), JSONExtractString(property.2), property.2) AS value,
  uniqExact(sipHash64(session_id)) AS conversions,
  count() AS events,
  ${REVENUE} AS revenue
FROM events
ARRAY JOIN JSONExtractKeysAndValuesRaw(props) AS property
WHERE type = 'custom' AND name = {goal_event:String} AND ${events}
GROUP BY key, value
ORDER BY conversions DESC, key, value
LIMIT {limit:UInt32}`,
    params: { ...params, goal_event: eventName },
  };
}
