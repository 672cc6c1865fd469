-- Two things the History tab waited for most on 10M events (docs/benchmarks.md, "Goals
-- rollup and the attribute projection"):
--
-- goal_rollup: the custom events of each session per UTC day and event name, with their count
-- and the sum of their `value` property. The goals route (worker/goal-queries.ts) counts the
-- custom events, from the range's start to a day past its end, of the sessions that started in
-- the range: it read every custom event of that span (1.7M rows for 30 days: hash each session
-- id, probe the sessions' set, parse each event's JSON for its value), ~460 ms of CPU. Per
-- (day, name, session) the same question reads one row per session and goal, with no JSON,
-- and the sessions' set is probed by the same sipHash64 the answer already matches on (two
-- sessions colliding among a few million: odds of about 1e-7). Counts and sums are
-- SimpleAggregateFunction(sum), so partial rows of one key (insert blocks, late rows, backfill)
-- add up exactly; a retried insert under its dedup token is dropped here too (dependent views
-- are deduplicated, clickhouse/client.ts). Revenue is a Float64 sum, as the raw answer's
-- sum(JSONExtractFloat(…)) is: equal to it up to the order of float additions.
--
-- events_by_visit_attributes: a projection of `events` sorted by (site, country, device, type,
-- browser, os, ts). A filter on country or device (and, less sharply, browser or os) is a row
-- condition on an event answer (timeseries, funnel, products, vitals: history-filters.ts),
-- which the table's own key (site, type, ts) cannot prune, so a filtered 30-day answer read
-- every event of the month. The projection is the same rows in another order, kept by
-- ClickHouse with every insert (a shard's flush, a retry under its token, an import), so it is
-- exact by construction; the engine reads it when it needs fewer granules than the table (a
-- filtered month), and the table otherwise (a day: `ts` last in the projection's key). It costs
-- a second copy of `events` on disk and a second sort per insert block.
--
-- The backfill: goal_rollup as in 002_rollups.sql (view first, then TRUNCATE and INSERT …
-- SELECT); the projection is built for existing parts by MATERIALIZE PROJECTION, a mutation,
-- waited for (mutations_sync). A part without it is read through the table, so answers are
-- the same while it runs.
CREATE TABLE IF NOT EXISTS goal_rollup
(
    site           LowCardinality(String),
    period_seconds UInt32,
    period         DateTime('UTC'),
    name           String,
    session_hash   UInt64,
    events         SimpleAggregateFunction(sum, UInt64),
    revenue        SimpleAggregateFunction(sum, Float64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(period)
ORDER BY (site, period_seconds, period, name, session_hash)
SETTINGS non_replicated_deduplication_window = 10000
;

CREATE MATERIALIZED VIEW IF NOT EXISTS goal_rollup_mv TO goal_rollup AS
SELECT
    site,
    toUInt32(86400) AS period_seconds,
    toDateTime(intDiv(toUnixTimestamp64Milli(ts), 86400000) * 86400, 'UTC') AS period,
    name,
    sipHash64(session_id) AS session_hash,
    toUInt64(count()) AS events,
    sum(JSONExtractFloat(props, 'value')) AS revenue
FROM events
WHERE type = 'custom'
GROUP BY site, period_seconds, period, name, session_hash
;

TRUNCATE TABLE IF EXISTS goal_rollup
;

INSERT INTO goal_rollup (site, period_seconds, period, name, session_hash, events, revenue)
SELECT
    site,
    toUInt32(86400) AS period_seconds,
    toDateTime(intDiv(toUnixTimestamp64Milli(ts), 86400000) * 86400, 'UTC') AS period,
    name,
    sipHash64(session_id) AS session_hash,
    toUInt64(count()) AS events,
    sum(JSONExtractFloat(props, 'value')) AS revenue
FROM events
WHERE type = 'custom'
GROUP BY site, period_seconds, period, name, session_hash
;

ALTER TABLE events ADD PROJECTION IF NOT EXISTS events_by_visit_attributes
(
    SELECT * ORDER BY (site, country, device, type, browser, os, ts)
)
;

ALTER TABLE events MATERIALIZE PROJECTION events_by_visit_attributes SETTINGS mutations_sync = 1
;
