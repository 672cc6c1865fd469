/**
 * The SQL of history filters (protocol/history-filters.ts): one condition for answers built
 * from `events` rows and one for answers built from `sessions` rows. Every value reaches
 * ClickHouse as a typed query parameter (`{hf_0:String}`), never spliced into SQL; the SQL text
 * depends only on the filters' dimensions and ops.
 *
 * What a filter means (docs/design.md, "History filters"):
 * - an event attribute (page, referrer, country, device, browser, os) keeps the events that
 *   have it (`is_not`: that lack it); on a session answer it keeps the sessions with at least
 *   one such event (`is_not`: sessions with none);
 * - a session attribute (entry and exit page, channel, source, utm_*) keeps the sessions that
 *   have it (`is_not`: that have another value); on an event answer, the events of those sessions;
 * - an occurrence (custom event name, custom event property, product) keeps the sessions with
 *   at least one matching event (`is_not`: sessions with none); on an event answer, every
 *   event of those sessions, so "pages seen in sessions that signed up" is a filter away.
 *
 * A session is matched on its events and its `sessions` row within SESSION_MATCH_MARGIN_MS of
 * the range, which bounds the scan; a session lasting longer than that is matched on its part
 * inside the margin. Sessions still open (no `sessions` row yet) match no session attribute,
 * unless the caller asks for session attributes from the events (`sessionAttributesFrom:
 * "events"`, what the filtered live answer does): then a session's attributes are those of
 * its earliest page view in the margin (its last for the exit page), as the shard derives
 * them (durable-objects/ingest-shard/session-state.ts), so open sessions match too; a
 * session without a page view is Direct, "(direct)", with no pages, as its row would say.
 *
 * On a session answer, "sessions with an event of this country" (any event attribute) is read
 * from `session_attribute_rollup` (migrations/030_session_attributes.sql) for the whole UTC
 * days of that window and from raw events for its ragged ends, and matched by sipHash64 of the
 * session id as the rollup keys them (`sessions.session_hash`, stored by migration 060, so a
 * month's session ids are not hashed again per query); raw events for the whole window cost
 * ~0.4 s of CPU per filter and route on 10M events. Occurrence filters (JSON properties,
 * purchased items) stay on raw events.
 *
 * On an event answer, country and device conditions (and browser and os, less sharply) are
 * served by the `events_by_visit_attributes` projection (migrations/040_goals_and_filter_projection.sql):
 * the same rows sorted by those attributes, which the engine reads instead of the table when
 * that reads fewer granules (two filters over 30 days on 10M events: ~530 → ~100 ms of CPU for
 * a timeseries). No SQL here names it; the answers are the table's by construction.
 */
import { toDateTime64 } from "../clickhouse/rows";
import { planRollupSegments } from "./history-segments";
import {
  type EVENT_FILTER_DIMENSIONS,
  type HistoryFilter,
  type HistoryFilterDimension,
  type SESSION_FILTER_DIMENSIONS,
  propFilterParts,
} from "../protocol/history-filters";

export const SESSION_MATCH_MARGIN_MS = 24 * 3600 * 1000;

export interface FilterSql {
  /** A boolean SQL expression; `1` without filters. */
  condition: string;
  params: Record<string, string>;
}

const EVENT_COLUMNS: Record<(typeof EVENT_FILTER_DIMENSIONS)[number], string> = {
  page: "path",
  referrer: "referrer_host",
  country: "country",
  device: "device",
  browser: "browser",
  os: "os",
};

/**
 * A session's attributed source: its first touch's `utm_source` (which the collector already
 * fills from `utm_source`, `ref`, `source` or a click id, worker/attribution/campaign-params.ts),
 * else the entry page view's referrer host, else "(direct)". The Sources panel groups by it.
 */
export const SESSION_SOURCE_SQL =
  "multiIf(utm_source != '', utm_source, referrer_host != '', referrer_host, '(direct)')";

const SESSION_COLUMNS: Record<(typeof SESSION_FILTER_DIMENSIONS)[number], string> = {
  entry_page: "entry_path",
  exit_page: "exit_path",
  channel: "channel",
  source: SESSION_SOURCE_SQL,
  utm_source: "utm_source",
  utm_medium: "utm_medium",
  utm_campaign: "utm_campaign",
  utm_term: "utm_term",
  utm_content: "utm_content",
};

/** A session's first touch over its page views (GROUP BY session_id): its earliest page view's value. */
const entryValue = (column: string) => `argMin(${column}, ts)`;

/**
 * Session attributes over a session's page views (GROUP BY session_id), the values the shard
 * gives the session's row when it closes, and `none`, the value of a session without a page
 * view (Direct, "(direct)", no pages). Only page views are read: `type` leads the table's
 * sort key, so the subquery skips every other event.
 */
const SESSION_FROM_PAGE_VIEWS: Record<
  (typeof SESSION_FILTER_DIMENSIONS)[number],
  { expression: string; none: string }
> = {
  entry_page: { expression: entryValue("path"), none: "" },
  exit_page: { expression: "argMax(path, ts)", none: "" },
  channel: {
    expression: `if(${entryValue("channel")} = '', 'Direct', toString(${entryValue("channel")}))`,
    none: "Direct",
  },
  source: {
    expression: `multiIf(${entryValue("utm_source")} != '', ${entryValue("utm_source")}, ${entryValue("referrer_host")} != '', ${entryValue("referrer_host")}, '(direct)')`,
    none: "(direct)",
  },
  utm_source: { expression: entryValue("utm_source"), none: "" },
  utm_medium: { expression: entryValue("utm_medium"), none: "" },
  utm_campaign: { expression: entryValue("utm_campaign"), none: "" },
  utm_term: { expression: entryValue("utm_term"), none: "" },
  utm_content: { expression: entryValue("utm_content"), none: "" },
};

/** Where session attributes come from: closed sessions' rows, or the events of open and closed ones. */
export type SessionAttributesFrom = "sessions" | "events";

const isEventAttribute = (dimension: HistoryFilterDimension): dimension is keyof typeof EVENT_COLUMNS =>
  dimension in EVENT_COLUMNS;
const isSessionAttribute = (dimension: HistoryFilterDimension): dimension is keyof typeof SESSION_COLUMNS =>
  dimension in SESSION_COLUMNS;

const SITE = "site = {site:String}";
const EVENTS_NEAR_RANGE = "ts >= {hf_from:DateTime64(3, 'UTC')} AND ts < {hf_to:DateTime64(3, 'UTC')}";
const SESSIONS_NEAR_RANGE =
  "started_at >= {hf_from:DateTime64(3, 'UTC')} AND started_at < {hf_to:DateTime64(3, 'UTC')}";

/** The condition one event must meet for an event attribute or occurrence filter (op `is`). */
function matchingEvent(filter: HistoryFilter, index: number, params: Record<string, string>): string {
  const placeholder = `{hf_${index}:String}`;
  if (isEventAttribute(filter.dimension)) {
    params[`hf_${index}`] = filter.value;
    return `${EVENT_COLUMNS[filter.dimension]} = ${placeholder}`;
  }
  switch (filter.dimension) {
    case "event":
      params[`hf_${index}`] = filter.value;
      return `(type = 'custom' AND name = ${placeholder})`;
    case "prop": {
      const parts = propFilterParts(filter.value) ?? { key: "", value: "" };
      params[`hf_${index}_key`] = parts.key;
      params[`hf_${index}`] = parts.value;
      // Strings compare unquoted, numbers and booleans as written (`price=12.5`, `member=true`).
      return `(type = 'custom' AND (JSONExtractString(props, {hf_${index}_key:String}) = ${placeholder} OR JSONExtractRaw(props, {hf_${index}_key:String}) = ${placeholder}))`;
    }
    case "product":
      params[`hf_${index}`] = filter.value;
      return `(product_id = ${placeholder}
      OR (type = 'custom' AND JSONExtractString(props, 'product_id') = ${placeholder})
      OR (type = 'purchase' AND has(arrayMap(item -> JSONExtractString(item, 'product_id'), JSONExtractArrayRaw(items)), ${placeholder})))`;
    default:
      throw new Error(`no event condition for ${filter.dimension}`);
  }
}

const sessionsWithEvent = (condition: string) =>
  `(SELECT session_id FROM events WHERE ${SITE} AND ${EVENTS_NEAR_RANGE} AND ${condition})`;
const sessionsWhere = (condition: string) =>
  `(SELECT session_id FROM sessions FINAL WHERE ${SITE} AND ${SESSIONS_NEAR_RANGE} AND ${condition})`;
const sessionsWhosePageViewsHave = (condition: string) =>
  `(SELECT session_id FROM events WHERE ${SITE} AND type = 'page_view' AND ${EVENTS_NEAR_RANGE} GROUP BY session_id HAVING ${condition})`;

/**
 * A session attribute from the session's page views. Sessions without one have the `none`
 * value but no group, so asking for `none` is asked the other way round: not among the
 * sessions whose page views say something else.
 */
function sessionAttributeFromPageViews(
  dimension: keyof typeof SESSION_COLUMNS,
  filter: HistoryFilter,
  index: number,
): string {
  const { expression, none } = SESSION_FROM_PAGE_VIEWS[dimension];
  const asksForNone = filter.value === none;
  const sessions = sessionsWhosePageViewsHave(`${expression} ${asksForNone ? "!=" : "="} {hf_${index}:String}`);
  return `session_id ${(filter.op === "is") !== asksForNone ? "IN" : "NOT IN"} ${sessions}`;
}

function marginParams(range: { from: number; to: number }): Record<string, string> {
  const from = range.from - SESSION_MATCH_MARGIN_MS;
  const to = range.to + SESSION_MATCH_MARGIN_MS;
  const { raw, rollups } = planRollupSegments(from, to, [86400]);
  const days = rollups[0]?.spans[0] ?? { from, to: from };
  return {
    hf_from: toDateTime64(from),
    hf_to: toDateTime64(to),
    // The same window cut into whole UTC days (the rollup) and the raw ends around them.
    hf_day_from: toDateTime64(days.from),
    hf_day_to: toDateTime64(days.to),
    hf_raw_from_1: toDateTime64(raw[0].from),
    hf_raw_to_1: toDateTime64(raw[0].to),
    hf_raw_from_2: toDateTime64(raw[1].from),
    hf_raw_to_2: toDateTime64(raw[1].to),
  };
}

const bound = (name: string) => `{hf_${name}:DateTime64(3, 'UTC')}`;

/** Hashes of the sessions with at least one event whose `dimension` attribute is `{hf_<index>}`, near the range. */
function sessionHashesWithAttribute(dimension: keyof typeof EVENT_COLUMNS, index: number): string {
  const value = `{hf_${index}:String}`;
  return `(
    SELECT session_hash FROM session_attribute_rollup
    WHERE ${SITE} AND period_seconds = 86400 AND dimension = '${dimension}' AND value = ${value}
      AND period >= ${bound("day_from")} AND period < ${bound("day_to")}
    UNION ALL
    SELECT sipHash64(session_id) FROM events
    WHERE ${SITE} AND ${EVENT_COLUMNS[dimension]} = ${value}
      AND ((ts >= ${bound("raw_from_1")} AND ts < ${bound("raw_to_1")}) OR (ts >= ${bound("raw_from_2")} AND ts < ${bound("raw_to_2")}))
  )`;
}

const and = (conditions: string[]) => (conditions.length === 0 ? "1" : conditions.join("\n  AND "));

/** For answers over `events` rows (their columns unqualified). */
export function eventFilterSql(
  filters: readonly HistoryFilter[],
  range: { from: number; to: number },
  sessionAttributesFrom: SessionAttributesFrom = "sessions",
): FilterSql {
  if (filters.length === 0) return { condition: "1", params: {} };
  const params: Record<string, string> = marginParams(range);
  const conditions = filters.map((filter, index) => {
    if (isSessionAttribute(filter.dimension)) {
      params[`hf_${index}`] = filter.value;
      if (sessionAttributesFrom === "events") return sessionAttributeFromPageViews(filter.dimension, filter, index);
      const comparison = filter.op === "is" ? "=" : "!=";
      return `session_id IN ${sessionsWhere(`${SESSION_COLUMNS[filter.dimension]} ${comparison} {hf_${index}:String}`)}`;
    }
    const event = matchingEvent(filter, index, params);
    if (isEventAttribute(filter.dimension)) return filter.op === "is" ? event : `NOT (${event})`;
    return `session_id ${filter.op === "is" ? "IN" : "NOT IN"} ${sessionsWithEvent(event)}`;
  });
  return { condition: `(${and(conditions)})`, params };
}

/** For answers over `sessions` rows (their columns unqualified). */
export function sessionFilterSql(filters: readonly HistoryFilter[], range: { from: number; to: number }): FilterSql {
  if (filters.length === 0) return { condition: "1", params: {} };
  const params: Record<string, string> = marginParams(range);
  const conditions = filters.map((filter, index) => {
    if (isSessionAttribute(filter.dimension)) {
      params[`hf_${index}`] = filter.value;
      return `${SESSION_COLUMNS[filter.dimension]} ${filter.op === "is" ? "=" : "!="} {hf_${index}:String}`;
    }
    const event = matchingEvent(filter, index, params);
    const op = filter.op === "is" ? "IN" : "NOT IN";
    if (isEventAttribute(filter.dimension))
      return `session_hash ${op} ${sessionHashesWithAttribute(filter.dimension, index)}`;
    return `session_id ${op} ${sessionsWithEvent(event)}`;
  });
  return { condition: `(${and(conditions)})`, params };
}
