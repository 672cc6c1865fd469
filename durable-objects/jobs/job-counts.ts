/**
 * The keyed-count jobs' state in one window or day: job name → key → events. The shard's
 * window and day aggregates hold one of these each and run every registered job over each
 * event through `addEventToJobCounts`; `largestJobCounts` is what a shard reports.
 */
import type { EnrichedEvent } from "../../protocol";
import { incrementCapped, largestEntries } from "../shared/capped-map";
import { emptyRecord } from "../shared/safe-record";
import type { JobEventContext } from "./keyed-count-job";
import { KEYED_COUNT_JOBS } from "./registered-jobs";

export type JobCounts = Record<string, Record<string, number>>;

/** An empty count map for every registered job. */
export function emptyJobCounts(): JobCounts {
  const jobs = emptyRecord<Record<string, number>>();
  for (const job of KEYED_COUNT_JOBS) jobs[job.name] = emptyRecord<number>();
  return jobs;
}

/** Counts `event` for every job that takes it, keeping each map to `cap` keys (capped-map.ts). */
export function addEventToJobCounts(
  jobs: JobCounts,
  event: EnrichedEvent,
  cap: number,
  context: JobEventContext,
): void {
  for (const job of KEYED_COUNT_JOBS) {
    const key = job.keyOf(event, context);
    if (key === null) continue;
    const counts = jobs[job.name];
    // Every window and day is made by its empty constructor or the store, both with a map per job.
    if (counts === undefined) throw new Error(`no counts for job ${job.name}`);
    incrementCapped(counts, key, 1, cap);
  }
}

/** Each job's `limit` largest keys, as new plain records (what crosses RPC to the hub). */
export function largestJobCounts(jobs: JobCounts, limit: number): JobCounts {
  const largest = emptyRecord<Record<string, number>>();
  for (const job of KEYED_COUNT_JOBS)
    largest[job.name] = largestEntries(jobs[job.name] ?? emptyRecord<number>(), limit, (count) => count);
  return largest;
}
