/**
 * The keyed-count kind of job: counts events by a key of the job's own choosing, per window
 * and per UTC day, and reports the top keys live. A job of this kind is a name and a `keyOf`:
 *
 * - keyed state: a capped map key → count per window (WINDOW_MAP_CAP keys) and per day
 *   (DAY_MAP_STORE_CAP kept, MAX_MAP_ENTRIES reported), stored as `job:<name>` entry rows;
 * - shard → hub: `WindowPartial.jobs.<name>` and `DayPartial.jobs.<name>`, the largest keys;
 * - hub merge: counts add across shards (shards hold disjoint visitors, and a count of events
 *   needs no distinct set, so the sum is exact);
 * - live: each window's `jobs.<name>` (top WINDOW_JOB_TOP_LIMIT) and `overview.jobs.<name>`
 *   (top TOP_LIST_LIMIT), as `{ key, count }`, largest first, ties by key;
 * - ClickHouse rows: none of its own; every event is in `events`, so history is a GROUP BY.
 *
 * docs/adding-jobs.md walks through adding one.
 */
import type { EnrichedEvent } from "../../protocol";
import { incrementCapped, largestEntries } from "../shared/capped-map";
import { emptyRecord } from "../shared/safe-record";
import { addCountsByKeyInto, TOP_LIST_LIMIT, topEntries } from "../shared/top-list";
import { MAX_MAP_ENTRIES } from "../shard-to-hub/shard-live-state";
import { jobMapName, type AggregationJob, type JobEventContext } from "./aggregation-job";
import { DAY_MAP_STORE_CAP, WINDOW_MAP_CAP } from "./state-caps";

/** Keys of each job a window reports live (a window is short: few keys, and a snapshot carries hundreds of windows). */
export const WINDOW_JOB_TOP_LIMIT = 10;

/** What a keyed-count job needs to know of an event's session. */
export type KeyedCountContext = Pick<JobEventContext, "newSession" | "sessionChannel">;

export interface KeyedCountJobSpec {
  /**
   * Lower-case snake name, unique among jobs: names the stored map (`job:<name>`), the entry
   * of the partials' and the live message's `jobs`. Renaming it starts the count again.
   */
  readonly name: string;
  /** The key `event` counts under, or null when the job does not take this event. Pure and cheap: it runs for every event. */
  keyOf(event: EnrichedEvent, context: KeyedCountContext): string | null;
}

export type KeyedCountJob = AggregationJob<number, number> & KeyedCountJobSpec;

/** The `jobs` record of a partial or live entry (made with it; absent only in a state stored before jobs existed). */
function jobsOf<T>(holder: { jobs?: Record<string, T> | undefined }): Record<string, T> {
  if (holder.jobs === undefined) holder.jobs = emptyRecord<T>();
  return holder.jobs;
}

function topKeys(counts: Map<string, number>, limit: number): { key: string; count: number }[] {
  return topEntries(counts, (a, b) => b - a, limit).map(([key, count]) => ({ key, count }));
}

/** A keyed-count job from its name and `keyOf`. */
export function keyedCountJob(spec: KeyedCountJobSpec): KeyedCountJob {
  const { name } = spec;
  const storedMap = jobMapName(name);
  const add = (map: Record<string, number>, event: EnrichedEvent, context: JobEventContext, cap: number) => {
    const key = spec.keyOf(event, context);
    if (key !== null) incrementCapped(map, key, 1, cap);
  };
  return {
    name,
    keyOf: spec.keyOf,
    window: {
      storedMap,
      legacyRowField: false,
      add: (map, event, context) => add(map, event, context, WINDOW_MAP_CAP),
      report: (map, partial) => {
        jobsOf(partial)[name] = largestEntries(map, WINDOW_MAP_CAP, (count) => count);
      },
    },
    day: {
      storedMap,
      legacyRowField: false,
      add: (map, event, context) => add(map, event, context, DAY_MAP_STORE_CAP),
      report: (map, partial) => {
        jobsOf(partial)[name] = largestEntries(map, MAX_MAP_ENTRIES, (count) => count);
      },
    },
    mergeWindows: () => {
      const merged = new Map<string, number>();
      return {
        add: (partial) => {
          const counts = partial.jobs?.[name];
          if (counts !== undefined) addCountsByKeyInto(merged, counts);
        },
        show: (window) => {
          jobsOf(window)[name] = topKeys(merged, WINDOW_JOB_TOP_LIMIT);
        },
      };
    },
    mergeDays: () => {
      const merged = new Map<string, number>();
      return {
        add: (partial) => {
          const counts = partial.jobs?.[name];
          if (counts !== undefined) addCountsByKeyInto(merged, counts);
        },
        showInOverview: (overview) => {
          jobsOf(overview)[name] = topKeys(merged, TOP_LIST_LIMIT);
        },
      };
    },
  };
}
