-- A synthetic shop history for the history-query benchmark, generated inside ClickHouse
-- (INSERT … SELECT FROM numbers(N) takes seconds; sending N events through the collector
-- would take hours on the benchmark machine). Placeholders, filled in by bench/history.ts:
--   {{SITE}} site key, {{ROWS}} events, {{START}} first second (Unix), {{SPAN}} seconds covered;
--   {{OFFSET}} and {{CHUNK}}: the events go in chunks (each insert feeds every rollup view, and
--   100M events in one insert pass the local server's 2 GiB per query).
--
-- Shape: sessions of 25 events (5 pages, each with a page view, TTFB/FCP/LCP vitals and a
-- product view or a cart add), about 150k visitors, product popularity log-uniform over 500
-- products (Zipf with exponent 1), 6 % of sessions check out and 4 % purchase; referrers,
-- countries, devices and browsers from small skewed sets. Statements are separated by lines
-- holding ';'.

INSERT INTO events (site, batch_id, event_id, type, ts, received_at, shard, visitor_id, session_id, url, path, referrer_host, title,
                    country, device, browser, os, action, product_id, product_name, price, quantity, value, currency, order_id, items,
                    metric, metric_value, name, props)
WITH
    intDiv(number, 25) AS s,
    number % 25 AS i,
    i % 5 AS slot,
    cityHash64(s) AS session_hash,
    cityHash64(number, 7) AS event_hash,
    toUInt32(floor(pow(500, (cityHash64(intDiv(number, 5), 11) % 1000000) / 1000000))) AS product_rank,
    concat('sku-', toString(product_rank)) AS product,
    concat(['Blue', 'Red', 'Green', 'Black', 'White'][1 + product_rank % 5], ' ', ['mug', 'lamp', 'chair', 'rug', 'plant'][1 + intDiv(product_rank, 5) % 5]) AS product_title,
    round(4.99 + (cityHash64(product_rank) % 9000) / 100, 2) AS unit_price,
    {{START}} + intDiv(s * {{SPAN}}, intDiv({{ROWS}}, 25)) + (session_hash % 600) AS session_start,
    toDateTime64(session_start + i * 20 + (event_hash % 5000) / 1000, 3, 'UTC') AS event_time,
    session_hash % 100 < 6 AS checks_out,
    session_hash % 100 < 4 AS purchases,
    multiIf(slot = 0, 'page_view', slot <= 3, 'vital', i = 24 AND purchases, 'purchase', i = 19 AND checks_out, 'cart',
            event_hash % 100 < 12, 'cart', 'custom') AS event_type,
    multiIf(i = 0 AND session_hash % 10 < 3, '/', intDiv(i, 5) = 1 AND session_hash % 10 < 5, concat('/c/', ['mugs', 'lamps', 'chairs', 'rugs', 'plants'][1 + session_hash % 5]),
            i >= 20 AND checks_out, '/checkout', concat('/p/', product)) AS page_path,
    ['', '', '', 'www.google.com', 'www.google.com', 'www.google.com', 'www.bing.com', 'duckduckgo.com', 'www.facebook.com', 'www.instagram.com', 't.co', 'newsletter.example'][1 + intDiv(session_hash, 7) % 12] AS landing_referrer
SELECT
    '{{SITE}}',
    concat('hb-', toString(s), '-', toString(intDiv(i, 20))),
    concat('e', toString(i)),
    event_type,
    event_time,
    event_time + toIntervalMillisecond(40 + event_hash % 200),
    toUInt16(session_hash % 8),
    concat('v-', toString(cityHash64(s, 3) % 150000)),
    concat('s-hb-', toString(s)),
    if(event_type IN ('page_view', 'vital', 'custom'), concat('https://{{SITE}}.example', page_path), ''),
    if(event_type IN ('page_view', 'vital', 'custom'), page_path, ''),
    if(event_type = 'page_view' AND i = 0, landing_referrer, ''),
    if(event_type = 'page_view', product_title, ''),
    ['US', 'US', 'US', 'DE', 'DE', 'GB', 'FR', 'NL', 'SE', 'IN', 'BR', 'JP'][1 + intDiv(session_hash, 13) % 12],
    ['desktop', 'desktop', 'mobile', 'mobile', 'mobile', 'tablet'][1 + intDiv(session_hash, 17) % 6],
    ['Chrome', 'Chrome', 'Chrome', 'Safari', 'Safari', 'Firefox', 'Edge', 'Samsung Internet'][1 + intDiv(session_hash, 19) % 8],
    ['Windows', 'Windows', 'macOS', 'iOS', 'iOS', 'Android', 'Android', 'Linux'][1 + intDiv(session_hash, 23) % 8],
    if(event_type = 'cart', if(i = 19, 'checkout', if(event_hash % 100 < 2, 'remove', 'add')), ''),
    if(event_type = 'cart' AND i != 19, product, ''),
    if(event_type = 'cart' AND i != 19, product_title, ''),
    toDecimal64(if(event_type = 'cart' AND i != 19, unit_price, 0), 4),
    toUInt32(if(event_type = 'cart' AND i != 19, 1 + event_hash % 3, 0)),
    toDecimal64(if(event_type = 'purchase' OR (event_type = 'cart' AND i = 19), unit_price * 2, 0), 4),
    if(event_type IN ('cart', 'purchase'), 'EUR', ''),
    if(event_type = 'purchase', concat('o-hb-', toString(s)), ''),
    if(event_type = 'purchase', concat('[{"product_id":"', product, '","name":"', product_title, '","price":', toString(unit_price), ',"quantity":2}]'), '[]'),
    if(event_type = 'vital', ['TTFB', 'FCP', 'LCP'][slot], ''),
    if(event_type = 'vital', round(exp(log([280, 900, 1400][slot]) + 0.6 * (((event_hash % 10000) / 10000) * 3.4 - 1.7)), 1), 0),
    if(event_type = 'custom', 'product_view', ''),
    if(event_type = 'custom', concat('{"product_id":"', product, '","name":"', product_title, '"}'), '{}')
FROM numbers({{OFFSET}}, {{CHUNK}})
-- Each insert block of ~1M rows is sorted for the table and again for its projection
-- (events_by_visit_attributes, migration 040) while seven views roll it up: past the local
-- server's default 2 GiB per query at 10M events.
SETTINGS max_insert_threads = 2, max_threads = 2, max_memory_usage = 6000000000
;

INSERT INTO sessions (site, session_id, visitor_id, shard, started_at, ended_at, duration, events, page_views, entry_path, exit_path, bounced,
                      product_views, cart_adds, cart_value, checked_out, purchased, revenue, currency, country, device, browser, os, referrer_host)
WITH
    number AS s,
    cityHash64(s) AS session_hash,
    {{START}} + intDiv(s * {{SPAN}}, intDiv({{ROWS}}, 25)) + (session_hash % 600) AS session_start,
    session_hash % 100 < 6 AS checks_out,
    session_hash % 100 < 4 AS purchases
SELECT
    '{{SITE}}', concat('s-hb-', toString(s)), concat('v-', toString(cityHash64(s, 3) % 150000)), toUInt16(session_hash % 8),
    toDateTime64(session_start, 3, 'UTC'), toDateTime64(session_start + 480, 3, 'UTC'), 480, 25, 5,
    '/', if(checks_out, '/checkout', '/p/sku-1'), 0, 4, toUInt32(1 + session_hash % 3), toDecimal64(if(purchases, 0, 25 + session_hash % 50), 4),
    checks_out, purchases, toDecimal64(if(purchases, 40 + session_hash % 80, 0), 4), 'EUR',
    ['US', 'US', 'US', 'DE', 'DE', 'GB', 'FR', 'NL', 'SE', 'IN', 'BR', 'JP'][1 + intDiv(session_hash, 13) % 12],
    ['desktop', 'desktop', 'mobile', 'mobile', 'mobile', 'tablet'][1 + intDiv(session_hash, 17) % 6],
    ['Chrome', 'Chrome', 'Chrome', 'Safari', 'Safari', 'Firefox', 'Edge', 'Samsung Internet'][1 + intDiv(session_hash, 19) % 8],
    ['Windows', 'Windows', 'macOS', 'iOS', 'iOS', 'Android', 'Android', 'Linux'][1 + intDiv(session_hash, 23) % 8],
    ['', '', '', 'www.google.com', 'www.google.com', 'www.google.com', 'www.bing.com', 'duckduckgo.com', 'www.facebook.com', 'www.instagram.com', 't.co', 'newsletter.example'][1 + intDiv(session_hash, 7) % 12]
FROM numbers(intDiv({{ROWS}}, 25))
;

-- What the shards would have sealed: per-window partials, counters on the currency '' row and
-- revenue on the currency's own row, so totals from window_metrics equal totals from events.
INSERT INTO window_metrics (site, window_start, window_seconds, currency, events, page_views, visitors, sessions, bounces,
                            cart_adds, cart_removes, checkouts, purchases, revenue)
SELECT
    site, toStartOfInterval(ts, toIntervalSecond(10), 'UTC') AS window_start, 10, '',
    count(), countIf(type = 'page_view'), uniqExact(visitor_id), uniqExact(session_id), 0,
    countIf(type = 'cart' AND action = 'add'), countIf(type = 'cart' AND action = 'remove'), countIf(type = 'cart' AND action = 'checkout'),
    countIf(type = 'purchase'), toDecimal64(0, 4)
FROM events
WHERE site = '{{SITE}}'
GROUP BY site, window_start
-- Two exact distinct sets per 10 s window: about 2.5 GB at 100M events, past the local server's
-- default 2 GiB per query; the GROUP BY spills to disk beyond 1 GB instead.
SETTINGS max_threads = 2, max_bytes_before_external_group_by = 1000000000, max_memory_usage = 6000000000
;

INSERT INTO window_metrics (site, window_start, window_seconds, currency, events, page_views, visitors, sessions, bounces,
                            cart_adds, cart_removes, checkouts, purchases, revenue)
SELECT site, toStartOfInterval(ts, toIntervalSecond(10), 'UTC') AS window_start, 10, currency, 0, 0, 0, 0, 0, 0, 0, 0, 0, sum(value)
FROM events
WHERE site = '{{SITE}}' AND type = 'purchase'
GROUP BY site, window_start, currency
;
