/**
 * Complete ClickHouse rows for tests that insert straight into `events`, `sessions` and
 * `window_metrics`: every column has a neutral value (a desktop Chrome visit from DE, no
 * campaign), so a test names only the columns its question is about.
 */
import {
  NO_CAMPAIGN,
  type EventRow,
  type SessionRow,
  type WindowMetricsRow,
  toDateTime,
  toDateTime64,
} from "../../clickhouse/rows";

/** A page view of `/` at `ts` (ms) by visitor v1 in session s1. */
export function eventRow(site: string, eventId: string, ts: number, fields: Partial<EventRow> = {}): EventRow {
  return {
    site,
    batch_id: "test-batch",
    event_id: eventId,
    type: "page_view",
    ts: toDateTime64(ts),
    received_at: toDateTime64(ts),
    shard: 0,
    visitor_id: "v1",
    session_id: "s1",
    url: "",
    path: "/",
    referrer_host: "",
    title: "",
    country: "DE",
    device: "desktop",
    browser: "Chrome",
    os: "Linux",
    action: "",
    product_id: "",
    product_name: "",
    price: 0,
    quantity: 0,
    value: 0,
    currency: "",
    order_id: "",
    items: "",
    metric: "",
    metric_value: 0,
    name: "",
    props: "",
    ...NO_CAMPAIGN,
    ...fields,
  };
}

/** A one-minute session of visitor v1 that started at `startedAt` (ms): two page views, no cart. */
export function sessionRow(
  site: string,
  sessionId: string,
  startedAt: number,
  fields: Partial<SessionRow> = {},
): SessionRow {
  return {
    site,
    session_id: sessionId,
    visitor_id: "v1",
    shard: 0,
    started_at: toDateTime64(startedAt),
    ended_at: toDateTime64(startedAt + 60_000),
    duration: 60,
    events: 3,
    page_views: 2,
    entry_path: "/",
    exit_path: "/",
    bounced: 0,
    product_views: 0,
    cart_adds: 0,
    cart_value: 0,
    checked_out: 0,
    purchased: 0,
    revenue: 0,
    currency: "",
    country: "DE",
    device: "desktop",
    browser: "Chrome",
    os: "Linux",
    referrer_host: "",
    ...NO_CAMPAIGN,
    ...fields,
  };
}

/** The counters row of a 10-second window starting at `windowStart` (ms), all zero. */
export function windowMetricsRow(
  site: string,
  windowStart: number,
  fields: Partial<WindowMetricsRow> = {},
): WindowMetricsRow {
  return {
    site,
    window_start: toDateTime(windowStart),
    window_seconds: 10,
    currency: "",
    events: 0,
    page_views: 0,
    visitors: 0,
    sessions: 0,
    bounces: 0,
    cart_adds: 0,
    cart_removes: 0,
    checkouts: 0,
    purchases: 0,
    revenue: 0,
    ...fields,
  };
}
