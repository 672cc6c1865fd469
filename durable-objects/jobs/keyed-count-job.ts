/**
 * A keyed-count job: an aggregation that counts events by a key of its own choosing, per UTC
 * day, and reports the day's top keys live. The shard and the hub run every registered job
 * (registered-jobs.ts) the same way, so a job is its own file plus one registration line:
 *
 * - which events it takes, and under which key: `keyOf` (null: not this event);
 * - its keyed state: a capped map key → count per day in the shard (stored as entry rows of
 *   `day_entries`, map `job:<name>`, written in the batch's transaction like every other map);
 * - the hub merge: counts add across shards (shards hold disjoint visitors, and a count of
 *   events needs no distinct set, so the sum is exact);
 * - its live contribution: the day's top keys under `overview.jobs.<name>`;
 * - ClickHouse rows: none of its own. Every event is in `events`, so history is a GROUP BY
 *   there; a job needing a table adds a migration and a FlushQueue (docs/adding-jobs.md).
 *
 * docs/adding-jobs.md walks through adding one.
 */
import type { EnrichedEvent } from "../../protocol";

/** What a job may know about an event's session besides the event, in the window or day being counted. */
export interface JobEventContext {
  /** The event is its session's first in this window (or day): a job counting sessions counts these. */
  newSession: boolean;
  /** The session's channel (its first touch, session-state.ts) as of this event; '' when unknown. */
  sessionChannel: string;
}

export interface KeyedCountJob {
  /**
   * Lower-case snake name, unique among jobs: names the stored map (`job:<name>`), the entry
   * of DayPartial.jobs and of the overview's `jobs`. Renaming it starts the count again.
   */
  readonly name: string;
  /** The key `event` counts under, or null when the job does not take this event. Pure and cheap: it runs for every event. */
  keyOf(event: EnrichedEvent, context: JobEventContext): string | null;
}

/** The name of a job's map among a day's entry rows. */
export function jobMapName(job: KeyedCountJob): `job:${string}` {
  return `job:${job.name}`;
}
