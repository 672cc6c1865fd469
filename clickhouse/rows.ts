/**
 * Row shapes of the ClickHouse tables (clickhouse/migrations), as inserted with
 * `FORMAT JSONEachRow`, and the one mapping from an accepted event to its `events` row.
 * Column names and types here must match the migrations exactly.
 */
import type { EnrichedBatch, EnrichedEvent } from "../protocol";

/** `DateTime64(3, 'UTC')` text: `2026-11-23 10:00:00.123`. */
export function toDateTime64(ms: number): string {
  return new Date(ms).toISOString().slice(0, 23).replace("T", " ");
}

/** `DateTime('UTC')` text: `2026-11-23 10:00:00`. */
export function toDateTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace("T", " ");
}

/** The campaign columns of `events` and `sessions` (migration 020). */
export interface CampaignColumns {
  utm_source: string;
  utm_medium: string;
  utm_campaign: string;
  utm_term: string;
  utm_content: string;
  channel: string;
}

/** A row with no campaign: what ClickHouse reads for rows inserted before migration 020. */
export const NO_CAMPAIGN: Readonly<CampaignColumns> = {
  utm_source: "",
  utm_medium: "",
  utm_campaign: "",
  utm_term: "",
  utm_content: "",
  channel: "",
};

export interface EventRow extends CampaignColumns {
  site: string;
  batch_id: string;
  event_id: string;
  type: string;
  ts: string;
  received_at: string;
  shard: number;
  visitor_id: string;
  session_id: string;
  url: string;
  path: string;
  referrer_host: string;
  title: string;
  country: string;
  device: string;
  browser: string;
  os: string;
  action: string;
  product_id: string;
  product_name: string;
  price: number;
  quantity: number;
  value: number;
  currency: string;
  order_id: string;
  items: string;
  metric: string;
  metric_value: number;
  name: string;
  props: string;
}

/** Campaign columns: the session's first touch (its entry page view's values). */
export interface SessionRow extends CampaignColumns {
  site: string;
  session_id: string;
  visitor_id: string;
  shard: number;
  started_at: string;
  ended_at: string;
  duration: number;
  events: number;
  page_views: number;
  entry_path: string;
  exit_path: string;
  bounced: 0 | 1;
  product_views: number;
  cart_adds: number;
  cart_value: number;
  checked_out: 0 | 1;
  purchased: 0 | 1;
  revenue: number;
  currency: string;
  country: string;
  device: string;
  browser: string;
  os: string;
  referrer_host: string;
}

export interface WindowMetricsRow {
  site: string;
  window_start: string;
  window_seconds: number;
  /** '' on the row holding the counters; a currency code on a row holding only that currency's revenue. */
  currency: string;
  events: number;
  page_views: number;
  visitors: number;
  sessions: number;
  bounces: number;
  cart_adds: number;
  cart_removes: number;
  checkouts: number;
  purchases: number;
  revenue: number;
}

export interface QuarantineRow {
  site: string;
  target_table: string;
  quarantined_at: string;
  error: string;
  row: string;
}

export type TableName = "events" | "sessions" | "window_metrics" | "quarantine";

export interface RowOf {
  events: EventRow;
  sessions: SessionRow;
  window_metrics: WindowMetricsRow;
  quarantine: QuarantineRow;
}

export function toEventRow(batch: EnrichedBatch, event: EnrichedEvent, sessionId: string): EventRow {
  return {
    site: batch.site,
    batch_id: batch.batch_id,
    event_id: event.event_id,
    type: event.type,
    ts: toDateTime64(event.ts),
    received_at: toDateTime64(batch.received_at),
    shard: batch.shard,
    visitor_id: batch.visitor_id,
    session_id: sessionId,
    url: event.url,
    path: event.path,
    referrer_host: event.referrer_host,
    title: event.title,
    country: batch.country,
    device: batch.device,
    browser: batch.browser,
    os: batch.os,
    action: event.action,
    product_id: event.product_id,
    product_name: event.product_name,
    price: event.price,
    quantity: event.quantity,
    value: event.value,
    currency: event.currency,
    order_id: event.order_id,
    items: event.items.length > 0 ? JSON.stringify(event.items) : "",
    metric: event.metric,
    metric_value: event.metric_value,
    name: event.name,
    props: Object.keys(event.props).length > 0 ? JSON.stringify(event.props) : "",
    utm_source: event.utm_source,
    utm_medium: event.utm_medium,
    utm_campaign: event.utm_campaign,
    utm_term: event.utm_term,
    utm_content: event.utm_content,
    channel: event.channel,
  };
}
