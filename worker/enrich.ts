/**
 * Turns a validated batch into the EnrichedBatch an IngestShard stores: corrects client clock
 * skew, refuses event times outside the accepted range, and flattens every event onto the
 * columns of ClickHouse's `events` table ('' and 0 where a type has no such field).
 */
import type { Batch, EnrichedBatch, EnrichedEvent, Event } from "../protocol";
import { emptyEnrichedFields, MAX_EVENT_AGE_MS, MAX_EVENT_FUTURE_MS } from "../protocol";
import { campaignAttributionOf } from "./attribution/campaign-params";
import { ApiError } from "./errors";
import type { UserAgentInfo } from "./user-agent";

export interface EnrichmentContext {
  /** Worker receive time, ms. */
  receivedAt: number;
  visitorId: string;
  shard: number;
  /** ISO country code from request.cf, '' when unknown. */
  country: string;
  userAgent: UserAgentInfo;
}

/** Path of a URL without query or fragment; '' when there is no parsable URL. */
export function pathOf(url: string): string {
  if (url === "") return "";
  try {
    return new URL(url).pathname;
  } catch {
    return "";
  }
}

/**
 * Host of a referrer, lower-case as URL parsing makes it, no `www.` stripping. A referrer on
 * the page's own host is internal navigation, not a traffic source, so it is '' (as in
 * Plausible and GA); the shard keeps a session's first external referrer.
 */
export function referrerHostOf(referrer: string | undefined, pageUrl: string): string {
  if (referrer === undefined || referrer === "") return "";
  let host: string;
  try {
    host = new URL(referrer).hostname.toLowerCase();
  } catch {
    return "";
  }
  try {
    if (new URL(pageUrl).hostname.toLowerCase() === host) return "";
  } catch {
    // An unparsable page URL has no host to compare with; keep the referrer.
  }
  return host;
}

export function enrichEvent(event: Event, ts: number): EnrichedEvent {
  const base = { ...emptyEnrichedFields(), type: event.type, event_id: event.id, ts };
  switch (event.type) {
    case "page_view": {
      const referrerHost = referrerHostOf(event.referrer, event.url);
      return {
        ...base,
        url: event.url,
        path: pathOf(event.url),
        title: event.title ?? "",
        referrer_host: referrerHost,
        ...campaignAttributionOf(event.url, referrerHost),
      };
    }
    case "cart":
      return {
        ...base,
        action: event.action,
        product_id: event.product_id ?? "",
        product_name: event.name ?? "",
        price: event.price ?? 0,
        // Adding or removing without a quantity moves one item; a checkout has none.
        quantity: event.quantity ?? (event.action === "checkout" ? 0 : 1),
        value: event.value ?? 0,
        currency: event.currency ?? "",
      };
    case "purchase":
      return { ...base, order_id: event.order_id, value: event.value, currency: event.currency, items: event.items };
    case "vital":
      return { ...base, url: event.url, path: pathOf(event.url), metric: event.metric, metric_value: event.value };
    case "custom": {
      const url = event.url ?? "";
      return { ...base, url, path: pathOf(url), name: event.name, props: event.props ?? {} };
    }
  }
}

/**
 * Clock-skew correction: a client whose clock is off by d sends both `sent_at` and `ts` off
 * by d, so `ts + (received_at - sent_at)` is the event time on the server's clock (up to the
 * network delay). Events still outside [received_at − MAX_EVENT_AGE_MS, received_at +
 * MAX_EVENT_FUTURE_MS] after that are refused with the failing paths.
 */
export function correctedTimestamps(batch: Batch, receivedAt: number): number[] {
  const skew = receivedAt - batch.sent_at;
  const corrected = batch.events.map((event) => event.ts + skew);
  const issues = corrected.flatMap((ts, index) => {
    if (ts < receivedAt - MAX_EVENT_AGE_MS)
      return [
        {
          path: `events.${index}.ts`,
          message: `is more than ${MAX_EVENT_AGE_MS / 3_600_000} hours old after clock-skew correction`,
        },
      ];
    if (ts > receivedAt + MAX_EVENT_FUTURE_MS)
      return [
        {
          path: `events.${index}.ts`,
          message: `is more than ${MAX_EVENT_FUTURE_MS / 60_000} minutes in the future after clock-skew correction`,
        },
      ];
    return [];
  });
  if (issues.length > 0) throw ApiError.invalidPayload("event times are out of range", issues.slice(0, 20));
  return corrected;
}

export function enrichBatch(batch: Batch, context: EnrichmentContext): EnrichedBatch {
  const timestamps = correctedTimestamps(batch, context.receivedAt);
  return {
    site: batch.site,
    shard: context.shard,
    batch_id: batch.batch,
    received_at: context.receivedAt,
    visitor_id: context.visitorId,
    session_id: batch.session ?? null,
    country: context.country,
    device: context.userAgent.device,
    browser: context.userAgent.browser,
    os: context.userAgent.os,
    events: batch.events.map((event, index) => enrichEvent(event, timestamps[index] ?? event.ts)),
  };
}
