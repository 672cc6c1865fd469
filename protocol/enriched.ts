/**
 * The batch the Worker hands to an IngestShard over RPC: validated, normalised and enriched.
 * Text fields are '' and numbers 0 when an event type has no such field, so every event maps
 * one-to-one onto a row of ClickHouse's `events` table (see clickhouse/rows.ts).
 */
import type { EventType, PurchaseItem } from "./events";

export type PropValue = string | number | boolean;

export interface EnrichedEvent {
  type: EventType;
  event_id: string;
  /** Event time in ms since the epoch, corrected for client clock skew. */
  ts: number;
  url: string;
  /** Path of `url` (no query string or fragment), '' when the event has no url. */
  path: string;
  title: string;
  referrer_host: string;
  /**
   * A page view's campaign, derived from its URL (worker/attribution/campaign-params.ts): the
   * effective utm_* values (explicit parameters, else what `ref` or a click id implies) and
   * its channel; '' on every other event type.
   */
  utm_source: string;
  utm_medium: string;
  utm_campaign: string;
  utm_term: string;
  utm_content: string;
  channel: string;
  action: string;
  product_id: string;
  product_name: string;
  price: number;
  quantity: number;
  value: number;
  currency: string;
  order_id: string;
  items: PurchaseItem[];
  metric: string;
  metric_value: number;
  name: string;
  props: Record<string, PropValue>;
}

/**
 * The fields of an EnrichedEvent that an event type does not set: '' and 0, as in ClickHouse.
 * A function, so that no two events share one `items` array or `props` object.
 */
export function emptyEnrichedFields(): Omit<EnrichedEvent, "type" | "event_id" | "ts"> {
  return {
    url: "",
    path: "",
    title: "",
    referrer_host: "",
    utm_source: "",
    utm_medium: "",
    utm_campaign: "",
    utm_term: "",
    utm_content: "",
    channel: "",
    action: "",
    product_id: "",
    product_name: "",
    price: 0,
    quantity: 0,
    value: 0,
    currency: "",
    order_id: "",
    items: [],
    metric: "",
    metric_value: 0,
    name: "",
    props: {},
  };
}

export interface EnrichedBatch {
  site: string;
  /** Shard index this batch was routed to: hash(visitor_id) % SHARDS. */
  shard: number;
  batch_id: string;
  /** Worker receive time, ms. */
  received_at: number;
  /** Sent by the client, or derived (cookieless, see docs/design.md, Privacy). Never empty. */
  visitor_id: string;
  /** Sent by the client, or null: the shard assigns one. */
  session_id: string | null;
  /** ISO 3166 alpha-2 from request.cf, or '' when unknown. */
  country: string;
  device: string;
  browser: string;
  os: string;
  events: EnrichedEvent[];
}

/** A token bucket's size: sustained rate (tokens a second, > 0) and capacity (≥ 1). */
export interface BudgetLimit {
  perSecond: number;
  burst: number;
}

/**
 * What a shard needs, besides the batch, to decide whether to take it. Sent with every
 * batch, so a change of the RATE_LIMIT_SITE_* vars applies at once and the shard keeps no
 * configuration of its own.
 */
export interface IngestAdmission {
  /**
   * A salted hash of the client's network address (never the address itself): a shard keeps
   * the last part of its backlog for clients holding little of it, so a client that picks
   * one `visitor` cannot fill the shard for the others.
   */
  client_key: string;
  /** This shard's share of the site's batch rate (the site's limit ÷ SHARDS), or null: no site limit. */
  site_budget: BudgetLimit | null;
}

/**
 * How the shard dedups a batch besides its id (worker/routes/events.ts says when which applies).
 * `digest`: hex SHA-256 of the batch's events, kept with its id, so the id reused for other
 * events is a conflict; null checks ids only. `pass_tombstone`: the batch is a resend the
 * BatchLedger routed here after every shard was probed (probeBatch), so a tombstone that
 * probe left here does not refuse it.
 */
export interface IngestDedup {
  digest: string | null;
  pass_tombstone: boolean;
}

export type IngestOutcome =
  | { status: "accepted"; accepted: number }
  | { status: "duplicate" }
  /** The id is stored here for other events (digests differ). */
  | { status: "conflict" }
  /**
   * A resend probed this shard for the id before this (first) attempt arrived, and is counted
   * on another shard or about to be: this attempt is refused, retryably, so its client resends
   * it marked and is told "duplicate" then (never told "duplicate" now: the resend may fail).
   */
  | { status: "tombstoned"; retry_after_seconds: number }
  /** The backlog is full, or nearly full and this client holds much of it. */
  | { status: "overloaded"; retry_after_seconds: number }
  /** Over this shard's share of the site's rate. */
  | { status: "rate_limited"; retry_after_seconds: number };

/**
 * A shard's answer to `probeBatch(id, digest)`, asked of every shard of the site for a resend.
 * `held`: the id is stored here with these events (or with no digest, stored before digests
 * were kept); `conflict`: with other events; `absent`: not stored, and a tombstone now refuses
 * a first attempt of it arriving later; `full`: absent, but the shard holds its bound of
 * tombstones (retry after the oldest expires).
 */
export type BatchProbe =
  | { status: "held" }
  | { status: "conflict" }
  | { status: "absent" }
  | { status: "full"; retry_after_seconds: number };
