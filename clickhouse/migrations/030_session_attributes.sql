-- Which sessions had at least one event with a given page, referrer host, country, device,
-- browser or os, per UTC day: the question every session-based history answer (sessions,
-- entry and exit pages, channels, sources, campaigns, goals) asks for each event-attribute
-- filter (worker/history-filters.ts, sessionFilterSql). Asked of raw `events`, it scanned
-- every event of the range plus a day either side once per filter and per route: with two
-- filters, ~0.8 s of CPU for each of nine requests of the History tab on 10M events. Here it
-- reads one key range: (site, dimension, value), whole days of the range.
--
-- One row per (day, dimension, value, session): sessions are keyed by sipHash64 of their id,
-- as in funnel_rollup (two sessions colliding among a few million: odds of about 1e-7). The
-- table has no value columns: AggregatingMergeTree keeps one row per key however often a
-- period's rows are inserted (retries with a dedup token are dropped, as for every rollup),
-- and readers only ask whether a key exists, so duplicate rows before a merge change nothing.
-- Empty values are kept ('' is a page a cart event has): a filter on '' must match too.
--
-- The backfill follows 002_rollups.sql: the view first, then TRUNCATE and INSERT … SELECT.
CREATE TABLE IF NOT EXISTS session_attribute_rollup
(
    site           LowCardinality(String),
    period_seconds UInt32,
    dimension      LowCardinality(String),
    value          String,
    period         DateTime('UTC'),
    session_hash   UInt64
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(period)
ORDER BY (site, period_seconds, dimension, value, period, session_hash)
SETTINGS non_replicated_deduplication_window = 10000
;

CREATE MATERIALIZED VIEW IF NOT EXISTS session_attribute_rollup_mv TO session_attribute_rollup AS
SELECT
    site,
    toUInt32(86400) AS period_seconds,
    pair.1 AS dimension,
    pair.2 AS value,
    toDateTime(intDiv(toUnixTimestamp64Milli(ts), 86400000) * 86400, 'UTC') AS period,
    sipHash64(session_id) AS session_hash
FROM events
ARRAY JOIN [('page', path), ('referrer', referrer_host), ('country', toString(country)), ('device', toString(device)),
            ('browser', toString(browser)), ('os', toString(os))] AS pair
GROUP BY site, period_seconds, dimension, value, period, session_hash
;

TRUNCATE TABLE IF EXISTS session_attribute_rollup
;

INSERT INTO session_attribute_rollup (site, period_seconds, dimension, value, period, session_hash)
SELECT
    site,
    toUInt32(86400) AS period_seconds,
    pair.1 AS dimension,
    pair.2 AS value,
    toDateTime(intDiv(toUnixTimestamp64Milli(ts), 86400000) * 86400, 'UTC') AS period,
    sipHash64(session_id) AS session_hash
FROM events
ARRAY JOIN [('page', path), ('referrer', referrer_host), ('country', toString(country)), ('device', toString(device)),
            ('browser', toString(browser)), ('os', toString(os))] AS pair
GROUP BY site, period_seconds, dimension, value, period, session_hash
;
