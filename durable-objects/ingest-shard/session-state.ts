/**
 * Per-session state of one shard, and the rules that assign events to sessions.
 *
 * When a batch carries no session id the shard assigns one per visitor, by event time:
 * an event joins the visitor's open session unless it lies more than SESSION_IDLE_MINUTES
 * after that session's last event (then a new session starts and the old one has ended) or
 * more than SESSION_IDLE_MINUTES before its first event (a late event from an earlier visit:
 * it gets a session of its own, which the alarm closes soon since its last event is old).
 * The alarm closes a session once the wall clock is SESSION_IDLE_MINUTES past its last event.
 */
import type { EnrichedBatch, EnrichedEvent } from "../../protocol";
import type { SessionRow } from "../../clickhouse/rows";
import { toDateTime64 } from "../../clickhouse/rows";
import { fromMoneyUnits, toMoneyUnits } from "../shared/money";
import { cartLineUnits, PRODUCT_VIEW_EVENT } from "../shared/commerce-events";

export interface SessionState {
  session_id: string;
  visitor_id: string;
  /** True when the shard chose the id (no session in the batch). */
  assigned: boolean;
  /** Event times (ms) of the first and last event. */
  started_at: number;
  last_seen: number;
  events: number;
  page_views: number;
  entry_path: string;
  /** Event times of the entry and exit page views (0 before the first page view). */
  entry_at: number;
  exit_path: string;
  exit_at: number;
  /** Referrer host of the session's entry page view. */
  referrer_host: string;
  /**
   * First touch: the campaign and channel of the entry page view (the earliest one, so a late
   * earlier page view moves it). "Direct" until a page view arrives.
   */
  utm_source: string;
  utm_medium: string;
  utm_campaign: string;
  utm_term: string;
  utm_content: string;
  channel: string;
  product_views: number;
  cart_adds: number;
  /** Value in the cart now (adds − removes, never below 0), money units. */
  cart_units: number;
  checked_out: boolean;
  purchased: boolean;
  revenue_units: number;
  currency: string;
  country: string;
  device: string;
  browser: string;
  os: string;
}

/** Funnel steps a session completed with one event (day-aggregate counts each once), see funnelDepth. */
export interface StepsReached {
  product_view: boolean;
  cart_add: boolean;
  checkout: boolean;
  purchase: boolean;
  /** The session's referrer host became known (the day counts one visit for it). */
  referrer: boolean;
}

export type SessionChoice = { kind: "join" } | { kind: "new"; supersedes: boolean };

/**
 * Which session an event of a visitor without explicit session id belongs to, given the
 * visitor's most recent open session (see the module comment). `supersedes` means the open
 * session has ended (the visitor came back after the idle gap) and can be closed now.
 */
export function chooseSession(open: SessionState | null, eventTs: number, idleMs: number): SessionChoice {
  if (open === null) return { kind: "new", supersedes: false };
  if (eventTs > open.last_seen + idleMs) return { kind: "new", supersedes: true };
  if (eventTs < open.started_at - idleMs) return { kind: "new", supersedes: false };
  return { kind: "join" };
}

type FirstTouch = Pick<
  SessionState,
  "utm_source" | "utm_medium" | "utm_campaign" | "utm_term" | "utm_content" | "channel"
>;

/** A session without a page view (yet) has no source: Direct, as GA4 calls (direct) / (none). */
const NO_FIRST_TOUCH: Readonly<FirstTouch> = {
  utm_source: "",
  utm_medium: "",
  utm_campaign: "",
  utm_term: "",
  utm_content: "",
  channel: "Direct",
};

/**
 * A session read from storage: sessions stored before first touch existed lack its fields and
 * get NO_FIRST_TOUCH's (their entry page view is gone), so every row they close to is complete.
 */
export function restoredSessionState(stored: SessionState): SessionState {
  return { ...NO_FIRST_TOUCH, ...stored };
}

export function newSessionState(
  sessionId: string,
  assigned: boolean,
  batch: EnrichedBatch,
  firstEventTs: number,
): SessionState {
  return {
    session_id: sessionId,
    visitor_id: batch.visitor_id,
    assigned,
    started_at: firstEventTs,
    last_seen: firstEventTs,
    events: 0,
    page_views: 0,
    entry_path: "",
    entry_at: 0,
    exit_path: "",
    exit_at: 0,
    referrer_host: "",
    ...NO_FIRST_TOUCH,
    product_views: 0,
    cart_adds: 0,
    cart_units: 0,
    checked_out: false,
    purchased: false,
    revenue_units: 0,
    currency: "",
    country: batch.country,
    device: batch.device,
    browser: batch.browser,
    os: batch.os,
  };
}

/**
 * How far down the commerce funnel (product view → cart add → checkout → purchase) a session
 * got: the number of leading steps it reached, in any order of arrival. The funnel is closed:
 * a session counts at a step only once it reached every step before it, so each step is a
 * subset of the one before and no conversion rate exceeds 100%.
 */
export function funnelDepth(session: SessionState): number {
  const steps = [session.product_views > 0, session.cart_adds > 0, session.checked_out, session.purchased];
  const firstMissing = steps.indexOf(false);
  return firstMissing === -1 ? steps.length : firstMissing;
}

/** Adds one event (in any order of event time) and reports the funnel steps it completed. */
export function applyEventToSession(session: SessionState, event: EnrichedEvent): StepsReached {
  const depthBefore = funnelDepth(session);
  const reached = applyEventFields(session, event);
  const depthAfter = funnelDepth(session);
  const completed = (step: number) => depthBefore < step && depthAfter >= step;
  return {
    ...reached,
    product_view: completed(1),
    cart_add: completed(2),
    checkout: completed(3),
    purchase: completed(4),
  };
}

function applyEventFields(session: SessionState, event: EnrichedEvent): Pick<StepsReached, "referrer"> {
  const reached = { referrer: false };
  session.events += 1;
  session.started_at = Math.min(session.started_at, event.ts);
  session.last_seen = Math.max(session.last_seen, event.ts);
  switch (event.type) {
    case "page_view": {
      const first = session.page_views === 0;
      session.page_views += 1;
      if (first || event.ts < session.entry_at) {
        session.entry_at = event.ts;
        session.entry_path = event.path;
        setFirstTouch(session, event);
        if (event.referrer_host !== "" && session.referrer_host === "") {
          session.referrer_host = event.referrer_host;
          reached.referrer = true;
        }
      }
      if (first || event.ts >= session.exit_at) {
        session.exit_at = event.ts;
        session.exit_path = event.path;
      }
      break;
    }
    case "custom":
      if (event.name === PRODUCT_VIEW_EVENT) {
        session.product_views += 1;
      }
      break;
    case "cart":
      if (event.action === "add") {
        session.cart_adds += 1;
        session.cart_units += cartLineUnits(event);
      } else if (event.action === "remove") {
        session.cart_units = Math.max(0, session.cart_units - cartLineUnits(event));
      } else if (event.action === "checkout") {
        session.checked_out = true;
      }
      break;
    case "purchase":
      session.purchased = true;
      session.revenue_units += toMoneyUnits(event.value);
      session.currency = event.currency;
      break;
    case "vital":
      break;
  }
  return reached;
}

function setFirstTouch(session: SessionState, entry: EnrichedEvent): void {
  session.utm_source = entry.utm_source;
  session.utm_medium = entry.utm_medium;
  session.utm_campaign = entry.utm_campaign;
  session.utm_term = entry.utm_term;
  session.utm_content = entry.utm_content;
  // Page views always carry a channel from the Worker; an event enriched elsewhere (a test
  // fixture, an older Worker during a deploy) without one is Direct.
  session.channel = entry.channel === "" ? "Direct" : entry.channel;
}

export function isSessionIdle(session: SessionState, now: number, idleMs: number): boolean {
  return now - session.last_seen > idleMs;
}

/** A bounce is a session with exactly one page view. */
export function isBounce(session: SessionState): boolean {
  return session.page_views === 1;
}

/** A cart left with items and no purchase when the session ended. */
export function isAbandonedCart(session: SessionState): boolean {
  return session.cart_units > 0 && !session.purchased;
}

export function toSessionRow(site: string, shard: number, session: SessionState): SessionRow {
  return {
    site,
    session_id: session.session_id,
    visitor_id: session.visitor_id,
    shard,
    started_at: toDateTime64(session.started_at),
    ended_at: toDateTime64(session.last_seen),
    duration: Math.max(0, Math.round((session.last_seen - session.started_at) / 1000)),
    events: session.events,
    page_views: session.page_views,
    entry_path: session.entry_path,
    exit_path: session.exit_path,
    bounced: isBounce(session) ? 1 : 0,
    product_views: session.product_views,
    cart_adds: session.cart_adds,
    cart_value: fromMoneyUnits(session.cart_units),
    checked_out: session.checked_out ? 1 : 0,
    purchased: session.purchased ? 1 : 0,
    revenue: fromMoneyUnits(session.revenue_units),
    currency: session.currency,
    country: session.country,
    device: session.device,
    browser: session.browser,
    os: session.os,
    referrer_host: session.referrer_host,
    utm_source: session.utm_source,
    utm_medium: session.utm_medium,
    utm_campaign: session.utm_campaign,
    utm_term: session.utm_term,
    utm_content: session.utm_content,
    channel: session.channel,
  };
}
