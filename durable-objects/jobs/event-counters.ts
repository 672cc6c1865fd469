/**
 * The counter kind of job: what each counter of a window and a day counts, said once. The
 * counter names are METRIC_COUNT_NAMES (protocol/live.ts: what window_metrics, the live
 * windows and the totals carry) plus the cart-value counters the day keeps
 * (window-aggregate.ts WINDOW_COUNTER_NAMES); everything that adds, subtracts, zero-checks,
 * reports or writes counters iterates those lists. This record is keyed by them, so a new
 * counter name does not compile until it says what it counts here (or is declared a session
 * counter, counted when a session closes): no list can silently skip it.
 */
import type { EnrichedEvent, EventType } from "../../protocol";
import { cartLineUnits } from "../shared/commerce-events";
import type { Membership, WindowCounterName } from "../ingest-shard/window-aggregate";

/** Counters bumped when a session closes (shard-engine.ts closeSession), not by an event. */
export const SESSION_COUNTER_NAMES = ["bounces"] as const;
type SessionCounterName = (typeof SESSION_COUNTER_NAMES)[number];
export type EventCounterName = Exclude<WindowCounterName, SessionCounterName>;

export interface CounterRule {
  /** The event types it may count (the per-event loop skips the rest without a call). */
  readonly on: "every event" | readonly EventType[];
  /** How much one event adds (0: nothing), given whether its visitor / session is new to the window or day. */
  amount(event: EnrichedEvent, membership: Membership): number;
}

const isCart = (event: EnrichedEvent, action: string) => event.type === "cart" && event.action === action;

export const EVENT_COUNTER_RULES: Record<EventCounterName, CounterRule> = {
  events: { on: "every event", amount: () => 1 },
  page_views: { on: ["page_view"], amount: () => 1 },
  visitors: { on: "every event", amount: (_event, membership) => (membership.newVisitor ? 1 : 0) },
  sessions: { on: "every event", amount: (_event, membership) => (membership.newSession ? 1 : 0) },
  cart_adds: { on: ["cart"], amount: (event) => (isCart(event, "add") ? 1 : 0) },
  cart_removes: { on: ["cart"], amount: (event) => (isCart(event, "remove") ? 1 : 0) },
  checkouts: { on: ["cart"], amount: (event) => (isCart(event, "checkout") ? 1 : 0) },
  purchases: { on: ["purchase"], amount: () => 1 },
  cart_add_units: { on: ["cart"], amount: (event) => (isCart(event, "add") ? cartLineUnits(event) : 0) },
  cart_remove_units: { on: ["cart"], amount: (event) => (isCart(event, "remove") ? cartLineUnits(event) : 0) },
};

const EVENT_TYPES: readonly EventType[] = ["page_view", "custom", "cart", "purchase", "vital"];

/** The rules that may count an event of each type, built once: the per-event loop runs over these. */
export const COUNTERS_BY_EVENT_TYPE: Readonly<
  Record<EventType, readonly { name: EventCounterName; rule: CounterRule }[]>
> = Object.fromEntries(
  EVENT_TYPES.map((type) => [
    type,
    (Object.entries(EVENT_COUNTER_RULES) as [EventCounterName, CounterRule][])
      .filter(([, rule]) => rule.on === "every event" || rule.on.includes(type))
      .map(([name, rule]) => ({ name, rule })),
  ]),
) as Record<EventType, { name: EventCounterName; rule: CounterRule }[]>;
