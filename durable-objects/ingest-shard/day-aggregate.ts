/**
 * One shard's totals for a UTC day: what the live dashboard shows as "today". Counters are
 * the window counters (exact visitors/sessions from the (day, visitor) and (day, session)
 * sets the caller keeps). The day jobs (jobs/) keep small records (funnel, abandoned carts)
 * and bounded maps (top lists, vitals, keyed counts): the shard stores twice as many entries
 * as it reports (capped-map.ts), so the reported top entries are stable and exact while the
 * tail churns. `toDayPartial` produces the capped DayPartial of shard-live-state.ts.
 */
import type { EnrichedEvent, MetricCounts } from "../../protocol";
import {
  addClosedSessionToDayRecords,
  addEventToDayRecords,
  emptyDayRecords,
  reportDayRecords,
  type DayRecords,
} from "../jobs/day-records";
import { addEventToJobMaps, DAY_JOBS, emptyJobMaps, reportJobMaps, type JobMaps } from "../jobs/job-maps";
import type { DayPartial } from "../shard-to-hub/shard-live-state";
import { emptyRecord } from "../shared/safe-record";
import type { SessionState, StepsReached } from "./session-state";
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
  /** The day jobs' fixed-shape records (jobs/day-records.ts): the funnel, abandoned carts. */
  records: DayRecords;
  /** The day jobs' keyed state (jobs/job-maps.ts): pages, referrers, products, vitals, keyed counts. */
  maps: JobMaps;
}

export function emptyDayAccumulator(day: string): DayAccumulator {
  return {
    day,
    counters: emptyCounters(),
    records: emptyDayRecords(),
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
  const context = { newSession: membership.newSession, sessionChannel, reached, referrerHost };
  addEventToDayRecords(day.records, event, context);
  addEventToJobMaps(DAY_JOBS, day.maps, event, context);
}

/** A session that started this day closed as a bounce. */
export function addBounceToDay(day: DayAccumulator): void {
  day.counters.bounces += 1;
}

/** A session closed this day (jobs/day-records.ts closedSessionTouchesDay says whether it changes the day). */
export function addClosedSessionToDay(day: DayAccumulator, session: SessionState): void {
  addClosedSessionToDayRecords(day.records, session);
}

/** A DayPartial of `day` with `counts` and every job's field empty, for the jobs to report into. */
export function blankDayPartial(day: string, counts: MetricCounts): DayPartial {
  return {
    day,
    counts,
    // The built-in jobs' fields, in the order the hub has always stored them; the jobs fill them in.
    funnel: { sessions: 0, product_views: 0, cart_adds: 0, checkouts: 0, purchases: 0 },
    abandoned_carts: { sessions: 0, value: 0 },
    pages: emptyRecord(),
    referrers: emptyRecord(),
    products: emptyRecord(),
    vitals: emptyRecord(),
    jobs: emptyRecord(),
  };
}

/** The capped, absolute DayPartial the hub receives: the counters, then each day job's report. */
export function toDayPartial(day: DayAccumulator): DayPartial {
  const partial = blankDayPartial(day.day, toMetricCounts(day.counters));
  reportDayRecords(day.records, partial);
  reportJobMaps(DAY_JOBS, day.maps, partial);
  return partial;
}
