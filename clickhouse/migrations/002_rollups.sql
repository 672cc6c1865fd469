-- EdgePulse schema v2: rollups that answer the history routes without scanning every event.
--
-- Each rollup holds rows per (site, period_seconds, period): period_seconds is the grain
-- (60, 3600 or 86400; epoch-aligned, so a UTC day or hour is one period), and one inserted
-- event adds a row to every grain its rollup keeps (ARRAY JOIN of the grains). Values are sums
-- (SimpleAggregateFunction) or mergeable states (AggregateFunction), so partial rows of the
-- same period - from different insert blocks, late rows, backfills - add up exactly however
-- ClickHouse merges them, and readers always GROUP BY and -Merge instead of relying on merges.
--
-- Materialized views read `events` / `window_metrics` as rows are inserted, whoever inserts
-- them (a shard's flush, an import, a backfill), so rows inserted straight into `events`
-- show up in the rollups too. A shard retrying a flush with the same insert_deduplication_token
-- is dropped by the source table and, with deduplicate_blocks_in_dependent_materialized_views
-- (set by clickhouse/client.ts on every insert), by each rollup: every rollup sets its own
-- deduplication window for that.
--
-- Distinct counts are uniqCombined(12) states: exact (up to 64-bit hash collisions) while a
-- state holds at most a few hundred values, then HyperLogLog with 2^12 cells: relative standard
-- error 1.04 / sqrt(4096) = 1.6 %, in 3 KB. At the default precision (17: 0.29 %, up to 96 KB)
-- reading and merging a month of busy days' states was most of a 30-day route's time.
--
-- page_view_rollup and vitals_rollup are read two ways: ranked by their counts over a range,
-- then the states of the top `limit` keys merged. Their sorting key puts the key before the
-- period, with small granules (256 rows), so the second read touches only those keys' rows,
-- and the period still prunes granules inside each key's run.
--
-- Web Vitals quantiles are DDSketch states with 1 % relative accuracy. `sessions` is deliberately not
-- rolled up: a session's row is replaced (ReplacingMergeTree) when it is flushed again, and
-- a view sees each inserted version, never the replacement, so any sum over it would count a
-- replaced session twice; the sessions route reads `sessions FINAL`, which is small (one row
-- per session).
--
-- Each view is created before its backfill, and the backfill first empties the rollup, so a
-- rerun after an interruption rebuilds it instead of doubling it. Rows inserted in the
-- moment between a TRUNCATE and the start of its INSERT … SELECT are seen by both: apply this
-- migration while flushes are paused (or before the first flush) for an exact backfill.

-- Distinct visitors per minute, hour and day (timeseries buckets larger than a window).
CREATE TABLE IF NOT EXISTS visitors_rollup
(
    site           LowCardinality(String),
    period_seconds UInt32,
    period         DateTime('UTC'),
    visitors       AggregateFunction(uniqCombined(12), String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(period)
ORDER BY (site, period_seconds, period)
SETTINGS non_replicated_deduplication_window = 10000
;

CREATE MATERIALIZED VIEW IF NOT EXISTS visitors_rollup_mv TO visitors_rollup AS
SELECT
    site,
    grain AS period_seconds,
    toDateTime(intDiv(toUnixTimestamp64Milli(ts), grain * 1000) * grain, 'UTC') AS period,
    uniqCombinedState(12)(visitor_id) AS visitors
FROM events
ARRAY JOIN [60, 3600, 86400] AS grain
GROUP BY site, period_seconds, period
;

TRUNCATE TABLE IF EXISTS visitors_rollup
;

INSERT INTO visitors_rollup (site, period_seconds, period, visitors)
SELECT
    site,
    grain AS period_seconds,
    toDateTime(intDiv(toUnixTimestamp64Milli(ts), grain * 1000) * grain, 'UTC') AS period,
    uniqCombinedState(12)(visitor_id) AS visitors
FROM events
ARRAY JOIN [60, 3600, 86400] AS grain
GROUP BY site, period_seconds, period
;

-- Page views per day along each dimension a top list groups by: path, referrer host
-- (non-empty only), country, device, browser, os; per hour too for device, browser and os.
-- Sessions are counted for referrers. Why not hourly paths, referrers and countries: an hour
-- holds about five views per path, so an hourly row is barely smaller than the raw rows it
-- stands for and costs far more to read (a distinct-count state each); ranges are answered
-- from whole days and raw rows for the rest.
CREATE TABLE IF NOT EXISTS page_view_rollup
(
    site           LowCardinality(String),
    period_seconds UInt32,
    dimension      LowCardinality(String),
    period         DateTime('UTC'),
    value          String,
    page_views     SimpleAggregateFunction(sum, UInt64),
    visitors       AggregateFunction(uniqCombined(12), String),
    sessions       AggregateFunction(uniqCombined(12), String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(period)
ORDER BY (site, period_seconds, dimension, value, period)
SETTINGS index_granularity = 256, non_replicated_deduplication_window = 10000
;

CREATE MATERIALIZED VIEW IF NOT EXISTS page_view_rollup_mv TO page_view_rollup AS
SELECT
    site,
    grain AS period_seconds,
    pair.1 AS dimension,
    toDateTime(intDiv(toUnixTimestamp64Milli(event_time), grain * 1000) * grain, 'UTC') AS period,
    pair.2 AS value,
    toUInt64(count()) AS page_views,
    uniqCombinedState(12)(visitor) AS visitors,
    uniqCombinedStateIf(12)(session, pair.1 = 'referrer') AS sessions
FROM
(
    SELECT
        site,
        ts AS event_time,
        visitor_id AS visitor,
        session_id AS session,
        arrayFilter(p -> p.1 != 'referrer' OR p.2 != '',
            [('path', path), ('referrer', referrer_host), ('country', toString(country)),
             ('device', toString(device)), ('browser', toString(browser)), ('os', toString(os))]) AS pairs
    FROM events
    WHERE type = 'page_view'
)
ARRAY JOIN [3600, 86400] AS grain
ARRAY JOIN pairs AS pair
WHERE grain = 86400 OR pair.1 IN ('device', 'browser', 'os')
GROUP BY site, period_seconds, dimension, period, value
;

TRUNCATE TABLE IF EXISTS page_view_rollup
;

INSERT INTO page_view_rollup (site, period_seconds, dimension, period, value, page_views, visitors, sessions)
SELECT
    site,
    grain AS period_seconds,
    pair.1 AS dimension,
    toDateTime(intDiv(toUnixTimestamp64Milli(event_time), grain * 1000) * grain, 'UTC') AS period,
    pair.2 AS value,
    toUInt64(count()) AS page_views,
    uniqCombinedState(12)(visitor) AS visitors,
    uniqCombinedStateIf(12)(session, pair.1 = 'referrer') AS sessions
FROM
(
    SELECT
        site,
        ts AS event_time,
        visitor_id AS visitor,
        session_id AS session,
        arrayFilter(p -> p.1 != 'referrer' OR p.2 != '',
            [('path', path), ('referrer', referrer_host), ('country', toString(country)),
             ('device', toString(device)), ('browser', toString(browser)), ('os', toString(os))]) AS pairs
    FROM events
    WHERE type = 'page_view'
)
ARRAY JOIN [3600, 86400] AS grain
ARRAY JOIN pairs AS pair
WHERE grain = 86400 OR pair.1 IN ('device', 'browser', 'os')
GROUP BY site, period_seconds, dimension, period, value
;

-- Per product per hour and day: product views (custom `product_view` events), cart adds, and
-- units and revenue from each purchase's items; the name is the latest non-empty label.
-- Two views feed it, one per kind of source row, as the products query's UNION ALL does.
CREATE TABLE IF NOT EXISTS product_rollup
(
    site           LowCardinality(String),
    period_seconds UInt32,
    period         DateTime('UTC'),
    product_id     String,
    name           AggregateFunction(argMax, String, DateTime64(3, 'UTC')),
    views          SimpleAggregateFunction(sum, UInt64),
    cart_adds      SimpleAggregateFunction(sum, UInt64),
    units          SimpleAggregateFunction(sum, UInt64),
    revenue        SimpleAggregateFunction(sum, Decimal(38, 4))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(period)
ORDER BY (site, period_seconds, period, product_id)
SETTINGS non_replicated_deduplication_window = 10000
;

CREATE MATERIALIZED VIEW IF NOT EXISTS product_interest_rollup_mv TO product_rollup AS
SELECT
    site,
    grain AS period_seconds,
    toDateTime(intDiv(toUnixTimestamp64Milli(event_time), grain * 1000) * grain, 'UTC') AS period,
    product_key AS product_id,
    argMaxStateIf(product_label, event_time, product_label != '') AS name,
    toUInt64(sum(is_view)) AS views,
    toUInt64(sum(is_cart_add)) AS cart_adds,
    toUInt64(0) AS units,
    toDecimal128(0, 4) AS revenue
FROM
(
    SELECT
        site,
        ts AS event_time,
        if(type = 'custom', JSONExtractString(props, 'product_id'), product_id) AS product_key,
        if(type = 'custom', JSONExtractString(props, 'name'), product_name) AS product_label,
        type = 'custom' AS is_view,
        type = 'cart' AS is_cart_add
    FROM events
    WHERE (type = 'custom' AND name = 'product_view') OR (type = 'cart' AND action = 'add')
)
ARRAY JOIN [3600, 86400] AS grain
WHERE product_key != ''
GROUP BY site, period_seconds, period, product_key
;

CREATE MATERIALIZED VIEW IF NOT EXISTS product_purchase_rollup_mv TO product_rollup AS
SELECT
    site,
    grain AS period_seconds,
    toDateTime(intDiv(toUnixTimestamp64Milli(event_time), grain * 1000) * grain, 'UTC') AS period,
    product_key AS product_id,
    argMaxStateIf(product_label, event_time, product_label != '') AS name,
    toUInt64(0) AS views,
    toUInt64(0) AS cart_adds,
    toUInt64(sum(item_units)) AS units,
    sum(item_amount) AS revenue
FROM
(
    SELECT
        site,
        ts AS event_time,
        JSONExtractString(item, 'product_id') AS product_key,
        JSONExtractString(item, 'name') AS product_label,
        JSONExtractUInt(item, 'quantity') AS item_units,
        toDecimal128(JSONExtractFloat(item, 'price'), 4) * JSONExtractUInt(item, 'quantity') AS item_amount
    FROM events
    ARRAY JOIN JSONExtractArrayRaw(items) AS item
    WHERE type = 'purchase'
)
ARRAY JOIN [3600, 86400] AS grain
WHERE product_key != ''
GROUP BY site, period_seconds, period, product_key
;

TRUNCATE TABLE IF EXISTS product_rollup
;

INSERT INTO product_rollup (site, period_seconds, period, product_id, name, views, cart_adds, units, revenue)
SELECT
    site,
    grain AS period_seconds,
    toDateTime(intDiv(toUnixTimestamp64Milli(event_time), grain * 1000) * grain, 'UTC') AS period,
    product_key AS product_id,
    argMaxStateIf(product_label, event_time, product_label != '') AS name,
    toUInt64(sum(is_view)) AS views,
    toUInt64(sum(is_cart_add)) AS cart_adds,
    toUInt64(0) AS units,
    toDecimal128(0, 4) AS revenue
FROM
(
    SELECT
        site,
        ts AS event_time,
        if(type = 'custom', JSONExtractString(props, 'product_id'), product_id) AS product_key,
        if(type = 'custom', JSONExtractString(props, 'name'), product_name) AS product_label,
        type = 'custom' AS is_view,
        type = 'cart' AS is_cart_add
    FROM events
    WHERE (type = 'custom' AND name = 'product_view') OR (type = 'cart' AND action = 'add')
)
ARRAY JOIN [3600, 86400] AS grain
WHERE product_key != ''
GROUP BY site, period_seconds, period, product_key
;

INSERT INTO product_rollup (site, period_seconds, period, product_id, name, views, cart_adds, units, revenue)
SELECT
    site,
    grain AS period_seconds,
    toDateTime(intDiv(toUnixTimestamp64Milli(event_time), grain * 1000) * grain, 'UTC') AS period,
    product_key AS product_id,
    argMaxStateIf(product_label, event_time, product_label != '') AS name,
    toUInt64(0) AS views,
    toUInt64(0) AS cart_adds,
    toUInt64(sum(item_units)) AS units,
    sum(item_amount) AS revenue
FROM
(
    SELECT
        site,
        ts AS event_time,
        JSONExtractString(item, 'product_id') AS product_key,
        JSONExtractString(item, 'name') AS product_label,
        JSONExtractUInt(item, 'quantity') AS item_units,
        toDecimal128(JSONExtractFloat(item, 'price'), 4) * JSONExtractUInt(item, 'quantity') AS item_amount
    FROM events
    ARRAY JOIN JSONExtractArrayRaw(items) AS item
    WHERE type = 'purchase'
)
ARRAY JOIN [3600, 86400] AS grain
WHERE product_key != ''
GROUP BY site, period_seconds, period, product_key
;

-- The funnel steps each session reached per hour and day, as bits (1 any event, 2 product
-- view, 4 cart add, 8 checkout, 16 purchase): a session's steps in a range are the OR of its
-- rows, so a session spanning periods counts once. Sessions are keyed by a 64-bit hash of
-- their id (grouping by an integer is several times faster than by a string; two sessions
-- colliding among a few million has odds of about 1e-7).
CREATE TABLE IF NOT EXISTS funnel_rollup
(
    site           LowCardinality(String),
    period_seconds UInt32,
    period         DateTime('UTC'),
    session_hash   UInt64,
    steps          SimpleAggregateFunction(groupBitOr, UInt8)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(period)
ORDER BY (site, period_seconds, period, session_hash)
SETTINGS non_replicated_deduplication_window = 10000
;

CREATE MATERIALIZED VIEW IF NOT EXISTS funnel_rollup_mv TO funnel_rollup AS
SELECT
    site,
    grain AS period_seconds,
    toDateTime(intDiv(toUnixTimestamp64Milli(ts), grain * 1000) * grain, 'UTC') AS period,
    sipHash64(session_id) AS session_hash,
    groupBitOr(toUInt8(1 + 2 * (type = 'custom' AND name = 'product_view') + 4 * (type = 'cart' AND action = 'add')
        + 8 * (type = 'cart' AND action = 'checkout') + 16 * (type = 'purchase'))) AS steps
FROM events
ARRAY JOIN [3600, 86400] AS grain
GROUP BY site, period_seconds, period, session_hash
;

TRUNCATE TABLE IF EXISTS funnel_rollup
;

INSERT INTO funnel_rollup (site, period_seconds, period, session_hash, steps)
SELECT
    site,
    grain AS period_seconds,
    toDateTime(intDiv(toUnixTimestamp64Milli(ts), grain * 1000) * grain, 'UTC') AS period,
    sipHash64(session_id) AS session_hash,
    groupBitOr(toUInt8(1 + 2 * (type = 'custom' AND name = 'product_view') + 4 * (type = 'cart' AND action = 'add')
        + 8 * (type = 'cart' AND action = 'checkout') + 16 * (type = 'purchase'))) AS steps
FROM events
ARRAY JOIN [3600, 86400] AS grain
GROUP BY site, period_seconds, period, session_hash
;

-- Web Vitals per page and metric per day: the count, and a DDSketch of the values (per day
-- only, for the same reason as hourly paths above; partial days come from raw rows).
CREATE TABLE IF NOT EXISTS vitals_rollup
(
    site           LowCardinality(String),
    period_seconds UInt32,
    period         DateTime('UTC'),
    path           String,
    metric         LowCardinality(String),
    measurements   SimpleAggregateFunction(sum, UInt64),
    quantiles      AggregateFunction(quantilesDD(0.01, 0.5, 0.75, 0.95), Float64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(period)
ORDER BY (site, period_seconds, path, metric, period)
SETTINGS index_granularity = 256, non_replicated_deduplication_window = 10000
;

CREATE MATERIALIZED VIEW IF NOT EXISTS vitals_rollup_mv TO vitals_rollup AS
SELECT
    site,
    grain AS period_seconds,
    toDateTime(intDiv(toUnixTimestamp64Milli(ts), grain * 1000) * grain, 'UTC') AS period,
    path,
    metric,
    toUInt64(count()) AS measurements,
    quantilesDDState(0.01, 0.5, 0.75, 0.95)(metric_value) AS quantiles
FROM events
ARRAY JOIN [86400] AS grain
WHERE type = 'vital'
GROUP BY site, period_seconds, period, path, metric
;

TRUNCATE TABLE IF EXISTS vitals_rollup
;

INSERT INTO vitals_rollup (site, period_seconds, period, path, metric, measurements, quantiles)
SELECT
    site,
    grain AS period_seconds,
    toDateTime(intDiv(toUnixTimestamp64Milli(ts), grain * 1000) * grain, 'UTC') AS period,
    path,
    metric,
    toUInt64(count()) AS measurements,
    quantilesDDState(0.01, 0.5, 0.75, 0.95)(metric_value) AS quantiles
FROM events
ARRAY JOIN [86400] AS grain
WHERE type = 'vital'
GROUP BY site, period_seconds, period, path, metric
;

-- The sealed windows summed per hour and day: every column is a count or a Decimal sum, so
-- a bucket of whole hours is the same sum as over its windows.
CREATE TABLE IF NOT EXISTS window_metrics_rollup
(
    site           LowCardinality(String),
    period_seconds UInt32,
    period         DateTime('UTC'),
    currency       LowCardinality(String),
    events         UInt64,
    page_views     UInt64,
    visitors       UInt64,
    sessions       UInt64,
    bounces        UInt64,
    cart_adds      UInt64,
    cart_removes   UInt64,
    checkouts      UInt64,
    purchases      UInt64,
    revenue        Decimal(18, 4)
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(period)
ORDER BY (site, period_seconds, period, currency)
SETTINGS non_replicated_deduplication_window = 10000
;

CREATE MATERIALIZED VIEW IF NOT EXISTS window_metrics_rollup_mv TO window_metrics_rollup AS
SELECT
    site,
    grain AS period_seconds,
    toDateTime(intDiv(toUnixTimestamp(window_start), grain) * grain, 'UTC') AS period,
    currency,
    sum(events) AS events, sum(page_views) AS page_views, sum(visitors) AS visitors, sum(sessions) AS sessions,
    sum(bounces) AS bounces, sum(cart_adds) AS cart_adds, sum(cart_removes) AS cart_removes, sum(checkouts) AS checkouts,
    sum(purchases) AS purchases, sum(revenue) AS revenue
FROM window_metrics
ARRAY JOIN [3600, 86400] AS grain
GROUP BY site, period_seconds, period, currency
;

TRUNCATE TABLE IF EXISTS window_metrics_rollup
;

INSERT INTO window_metrics_rollup (site, period_seconds, period, currency, events, page_views, visitors, sessions, bounces,
                                   cart_adds, cart_removes, checkouts, purchases, revenue)
SELECT
    site,
    grain AS period_seconds,
    toDateTime(intDiv(toUnixTimestamp(window_start), grain) * grain, 'UTC') AS period,
    currency,
    sum(events), sum(page_views), sum(visitors), sum(sessions), sum(bounces), sum(cart_adds), sum(cart_removes), sum(checkouts),
    sum(purchases), sum(revenue)
FROM window_metrics
ARRAY JOIN [3600, 86400] AS grain
GROUP BY site, period_seconds, period, currency
;
