-- EdgePulse schema v1. Applied by clickhouse/migrate.ts in the configured database, in file
-- order, each recorded in schema_migrations. Statements are separated by lines holding ';'.
--
-- Every table sets non_replicated_deduplication_window so that an insert retried with the
-- same insert_deduplication_token (derived from shard, window and part) is dropped instead
-- of doubling rows. Money is Decimal(18, 4): sums are exact, so window totals equal event totals.

CREATE TABLE IF NOT EXISTS events
(
    site           LowCardinality(String),
    batch_id       String,
    event_id       String,
    type           LowCardinality(String),
    ts             DateTime64(3, 'UTC'),
    received_at    DateTime64(3, 'UTC'),
    shard          UInt16,
    visitor_id     String,
    session_id     String,
    url            String,
    path           String,
    referrer_host  String,
    title          String,
    country        LowCardinality(String),
    device         LowCardinality(String),
    browser        LowCardinality(String),
    os             LowCardinality(String),
    action         LowCardinality(String),
    product_id     String,
    product_name   String,
    price          Decimal(18, 4),
    quantity       UInt32,
    value          Decimal(18, 4),
    currency       LowCardinality(String),
    order_id       String,
    items          String COMMENT 'JSON array of {product_id, name, price, quantity} for purchases',
    metric         LowCardinality(String),
    metric_value   Float64,
    name           String,
    props          String COMMENT 'JSON object of custom event properties'
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (site, type, ts)
SETTINGS non_replicated_deduplication_window = 10000
;

CREATE TABLE IF NOT EXISTS sessions
(
    site           LowCardinality(String),
    session_id     String,
    visitor_id     String,
    shard          UInt16,
    started_at     DateTime64(3, 'UTC'),
    ended_at       DateTime64(3, 'UTC'),
    duration       UInt32 COMMENT 'seconds from first to last event',
    events         UInt32,
    page_views     UInt32,
    entry_path     String,
    exit_path      String,
    bounced        UInt8,
    product_views  UInt32,
    cart_adds      UInt32,
    cart_value     Decimal(18, 4) COMMENT 'value in the cart at close; abandoned when purchased = 0',
    checked_out    UInt8,
    purchased      UInt8,
    revenue        Decimal(18, 4),
    currency       LowCardinality(String),
    country        LowCardinality(String),
    device         LowCardinality(String),
    browser        LowCardinality(String),
    os             LowCardinality(String),
    referrer_host  String
)
ENGINE = ReplacingMergeTree(ended_at)
PARTITION BY toYYYYMM(started_at)
ORDER BY (site, started_at, session_id)
SETTINGS non_replicated_deduplication_window = 10000
;

-- Partial aggregates sealed by each shard per window; a late event or a session closing as a
-- bounce adds another partial row for the same window, and SummingMergeTree adds them up.
-- Counters sit on the row with currency = ''; each currency's revenue on a row of its own,
-- so sum(x) over a window's rows is the window's total for every column.
CREATE TABLE IF NOT EXISTS window_metrics
(
    site           LowCardinality(String),
    window_start   DateTime('UTC'),
    window_seconds UInt32,
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
PARTITION BY toYYYYMM(window_start)
ORDER BY (site, window_start, window_seconds, currency)
SETTINGS non_replicated_deduplication_window = 10000
;

-- Rows ClickHouse refused even after normalisation at the edge, kept whole for inspection
-- instead of blocking the rows behind them.
CREATE TABLE IF NOT EXISTS quarantine
(
    site           LowCardinality(String),
    target_table   LowCardinality(String),
    quarantined_at DateTime64(3, 'UTC'),
    error          String,
    row            String
)
ENGINE = MergeTree
ORDER BY (site, target_table, quarantined_at)
SETTINGS non_replicated_deduplication_window = 10000
;
