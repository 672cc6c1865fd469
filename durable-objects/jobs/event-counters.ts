/**
 * The counter kind of job: what each counter of a window and a day counts, said once. The
 * counter names are METRIC_COUNT_NAMES (protocol/live.ts: what window_metrics, the live
 * windows and the totals carry) plus the cart-value counters the day keeps
 * (window-aggregate.ts WINDOW_COUNTER_NAMES); everything that adds, subtracts, zero-checks,
 * reports or writes counters iterates those lists. This record is keyed by them, so a new
 * counter name does not compile until it says what it counts here (or is declared a session
 * counter, counted when a session closes): no list can silently skip it.
 */
import type { EnrichedEvent } from "../../protocol";
import { cartLineUnits } from "../shared/commerce-events";
import type { Membership, WindowCounterName } from "../ingest-shard/window-aggregate";

/** Counters bumped when a session closes (shard-engine.ts closeSession), not by an event. */
export const SESSION_COUNTER_NAMES = ["bounces"] as const;
type SessionCounterName = (typeof SESSION_COUNTER_NAMES)[number];

/** How much one event adds to a counter (0: nothing), given whether its visitor / session is new to the window or day. */
export type CounterRule = (event: EnrichedEvent, membership: Membership) => number;

export const EVENT_COUNTER_RULES: Record<Exclude<WindowCounterName, SessionCounterName>, CounterRule> = {
  events: () => 1,
  page_views: (event) => (event.type === "page_view" ? 1 : 0),
  visitors: (_event, membership) => (membership.newVisitor ? 1 : 0),
  sessions: (_event, membership) => (membership.newSession ? 1 : 0),
  cart_adds: (event) => (event.type === "cart" && event.action === "add" ? 1 : 0),
  cart_removes: (event) => (event.type === "cart" && event.action === "remove" ? 1 : 0),
  checkouts: (event) => (event.type === "cart" && event.action === "checkout" ? 1 : 0),
  purchases: (event) => (event.type === "purchase" ? 1 : 0),
  cart_add_units: (event) => (event.type === "cart" && event.action === "add" ? cartLineUnits(event) : 0),
  cart_remove_units: (event) => (event.type === "cart" && event.action === "remove" ? cartLineUnits(event) : 0),
};

/** The rules as a list, built once: the per-event loop runs over it. */
export const EVENT_COUNTERS: readonly (readonly [Exclude<WindowCounterName, SessionCounterName>, CounterRule])[] =
  Object.entries(EVENT_COUNTER_RULES) as [Exclude<WindowCounterName, SessionCounterName>, CounterRule][];
