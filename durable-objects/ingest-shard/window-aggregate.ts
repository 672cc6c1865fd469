/**
 * Per-window partial aggregates of one shard, and the counters shared with the day totals.
 *
 * `WindowCounters` are the additive numbers that go to ClickHouse's window_metrics and the
 * live feed. Money is in integer units (money.ts). Visitors and sessions are exact distinct
 * counts: the caller keeps the (window, visitor) and (window, session) sets in SQLite and
 * says whether this event's visitor/session is new to the window, so a retried or late event
 * never counts them twice. What each counter counts is jobs/event-counters.ts; the window's
 * other state belongs to the window jobs (jobs/job-maps.ts: pages, products, vitals, keyed
 * counts), each map capped (capped-map.ts).
 */
import { METRIC_COUNT_NAMES, type EnrichedEvent, type MetricCountName, type MetricCounts } from "../../protocol";
import { NOTHING_REACHED } from "../jobs/aggregation-job";
import { addEventToJobMaps, emptyJobMaps, WINDOW_JOBS, type JobMaps } from "../jobs/job-maps";
import { COUNTERS_BY_EVENT_TYPE } from "../jobs/event-counters";
import { zeroCounts } from "../shared/metric-counts";
import { fromMoneyUnits, toMoneyUnits } from "../shared/money";
import { emptyRecord } from "../shared/safe-record";

export { WINDOW_MAP_CAP } from "../jobs/state-caps";

/**
 * Counters a window or day keeps beyond the reported counts: value added to / removed from
 * carts, money units (they feed abandoned carts and top lists, not window_metrics).
 */
export const CART_UNIT_NAMES = ["cart_add_units", "cart_remove_units"] as const;
/** Every plain number of WindowCounters: what add, subtract and the zero check go over. */
export const WINDOW_COUNTER_NAMES = [...METRIC_COUNT_NAMES, ...CART_UNIT_NAMES] as const;
export type WindowCounterName = (typeof WINDOW_COUNTER_NAMES)[number];

export type WindowCounters = Record<WindowCounterName, number> & {
  /** currency → purchase value, money units. */
  revenue_units: Record<string, number>;
};

export interface WindowAggregate {
  counters: WindowCounters;
  /** The window jobs' keyed state (jobs/job-maps.ts): pages, products, vitals, keyed counts. */
  maps: JobMaps;
}

/** Whether the event's visitor / session is new to the window (or day) it is added to. */
export interface Membership {
  newVisitor: boolean;
  newSession: boolean;
}

export function emptyCounters(): WindowCounters {
  const counters = { revenue_units: emptyRecord<number>() } as WindowCounters;
  for (const name of WINDOW_COUNTER_NAMES) counters[name] = 0;
  return counters;
}

export function emptyWindowAggregate(): WindowAggregate {
  return {
    counters: emptyCounters(),
    maps: emptyJobMaps("window"),
  };
}

/**
 * Adds one event to the counters: every counter by its rule (jobs/event-counters.ts), and a
 * purchase's value to its currency's revenue. Visitors and sessions count when `membership`
 * says they are new to the window or day.
 */
export function addEventToCounters(counters: WindowCounters, event: EnrichedEvent, membership: Membership): void {
  for (const { name, rule } of COUNTERS_BY_EVENT_TYPE[event.type]) {
    const amount = rule.amount(event, membership);
    if (amount !== 0) counters[name] += amount;
  }
  if (event.type === "purchase")
    counters.revenue_units[event.currency] = (counters.revenue_units[event.currency] ?? 0) + toMoneyUnits(event.value);
}

/** `sessionChannel`: the event's session's channel, for the jobs (jobs/aggregation-job.ts). */
export function addEventToWindow(
  window: WindowAggregate,
  event: EnrichedEvent,
  membership: Membership,
  sessionChannel = "",
): void {
  addEventToCounters(window.counters, event, membership);
  addEventToJobMaps(WINDOW_JOBS, window.maps, event, {
    newSession: membership.newSession,
    sessionChannel,
    reached: NOTHING_REACHED,
    referrerHost: "",
  });
}

/** `total − emitted`: what changed since the last sealed part. Never negative (counters only grow). */
export function subtractCounters(total: WindowCounters, emitted: WindowCounters): WindowCounters {
  const revenue = emptyRecord<number>();
  for (const [currency, units] of Object.entries(total.revenue_units)) {
    const delta = units - (emitted.revenue_units[currency] ?? 0);
    if (delta !== 0) revenue[currency] = delta;
  }
  const delta = { revenue_units: revenue } as WindowCounters;
  for (const name of WINDOW_COUNTER_NAMES) delta[name] = total[name] - emitted[name];
  return delta;
}

/** Adds `source` into `target` (target changes): how partial rows merge (SummingMergeTree, the hub). */
export function addCountersInto(target: WindowCounters, source: WindowCounters): void {
  for (const name of WINDOW_COUNTER_NAMES) target[name] += source[name];
  for (const [currency, units] of Object.entries(source.revenue_units)) {
    target.revenue_units[currency] = (target.revenue_units[currency] ?? 0) + units;
  }
}

export function isZeroCounters(counters: WindowCounters): boolean {
  return (
    WINDOW_COUNTER_NAMES.every((name) => counters[name] === 0) &&
    Object.values(counters.revenue_units).every((units) => units === 0)
  );
}

/** The live protocol's counts (money back in currency units). */
export function toMetricCounts(counters: WindowCounters): MetricCounts {
  const byCurrency = emptyRecord<number>();
  let revenueUnits = 0;
  for (const [currency, units] of Object.entries(counters.revenue_units)) {
    byCurrency[currency] = fromMoneyUnits(units);
    revenueUnits += units;
  }
  return { ...pickMetricCounts(counters), revenue: fromMoneyUnits(revenueUnits), revenue_by_currency: byCurrency };
}

/** The reported counts of `counters` (METRIC_COUNT_NAMES), without the cart units. */
export function pickMetricCounts(counters: WindowCounters): Record<MetricCountName, number> {
  const counts = zeroCounts();
  for (const name of METRIC_COUNT_NAMES) counts[name] = counters[name];
  return counts;
}
