/**
 * One shard's totals for a UTC day: what the live dashboard shows as "today". Counters are
 * the window counters (exact visitors/sessions from the (day, visitor) and (day, session)
 * sets the caller keeps); the funnel and abandoned carts follow the day's sessions. The day
 * jobs' maps (top lists, vitals, keyed counts: jobs/) are bounded: the shard stores twice as
 * many entries as it reports (capped-map.ts), so the reported top entries are stable and exact
 * while the tail churns. `toDayPartial` produces the capped DayPartial of shard-live-state.ts.
 */
import type { EnrichedEvent } from "../../protocol";
import { addEventToJobMaps, DAY_JOBS, emptyJobMaps, reportJobMaps, type JobMaps } from "../jobs/job-maps";
import type { DayPartial } from "../shard-to-hub/shard-live-state";
import { fromMoneyUnits } from "../shared/money";
import { emptyRecord } from "../shared/safe-record";
import type { StepsReached } from "./session-state";
import {
  addEventToCounters,
  emptyCounters,
  toMetricCounts,
  type Membership,
  type WindowCounters,
} from "./window-aggregate";

export { DAY_MAP_STORE_CAP, DAY_VITAL_PAGES_STORE_CAP } from "../jobs/state-caps";

export interface DayAccumulator {
  /** `YYYY-MM-DD`, UTC. */
  day: string;
  counters: WindowCounters;
  /** Sessions that reached each step (each session once per step); `sessions` is counters.sessions. */
  funnel: { product_views: number; cart_adds: number; checkouts: number; purchases: number };
  /** Sessions closed this day with a non-empty cart and no purchase, and the value left (money units). */
  abandoned: { sessions: number; value_units: number };
  /** The day jobs' keyed state (jobs/job-maps.ts): pages, referrers, products, vitals, keyed counts. */
  maps: JobMaps;
}

export function emptyDayAccumulator(day: string): DayAccumulator {
  return {
    day,
    counters: emptyCounters(),
    funnel: { product_views: 0, cart_adds: 0, checkouts: 0, purchases: 0 },
    abandoned: { sessions: 0, value_units: 0 },
    maps: emptyJobMaps("day"),
  };
}

/**
 * Adds one event of a session. `reached` says which funnel steps the session reached for the
 * first time with it; `referrerHost` is the session's referrer when it just became known.
 */
export function addEventToDay(
  day: DayAccumulator,
  event: EnrichedEvent,
  membership: Membership,
  reached: StepsReached,
  referrerHost: string,
  sessionChannel = "",
): void {
  addEventToCounters(day.counters, event, membership);
  if (reached.product_view) day.funnel.product_views += 1;
  if (reached.cart_add) day.funnel.cart_adds += 1;
  if (reached.checkout) day.funnel.checkouts += 1;
  if (reached.purchase) day.funnel.purchases += 1;
  addEventToJobMaps(DAY_JOBS, day.maps, event, {
    newSession: membership.newSession,
    sessionChannel,
    reached,
    referrerHost,
  });
}

/** A session that started this day closed as a bounce. */
export function addBounceToDay(day: DayAccumulator): void {
  day.counters.bounces += 1;
}

/** A session closed this day with `cartUnits` in its cart and no purchase. */
export function addAbandonedCartToDay(day: DayAccumulator, cartUnits: number): void {
  day.abandoned.sessions += 1;
  day.abandoned.value_units += cartUnits;
}

/** The capped, absolute DayPartial the hub receives: the counters, then each day job's report. */
export function toDayPartial(day: DayAccumulator): DayPartial {
  const partial: DayPartial = {
    day: day.day,
    counts: toMetricCounts(day.counters),
    funnel: { sessions: day.counters.sessions, ...day.funnel },
    abandoned_carts: { sessions: day.abandoned.sessions, value: fromMoneyUnits(day.abandoned.value_units) },
    // The built-in jobs' fields, in the order the hub has always stored them; the jobs fill them in.
    pages: emptyRecord(),
    referrers: emptyRecord(),
    products: emptyRecord(),
    vitals: emptyRecord(),
    jobs: emptyRecord(),
  };
  reportJobMaps(DAY_JOBS, day.maps, partial);
  return partial;
}
