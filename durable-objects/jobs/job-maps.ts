/**
 * The registered jobs' keyed state in one window or day: stored map name → key → entry. The
 * shard's window and day aggregates hold one of these each, run every job of their scope over
 * each event (`addEventToJobMaps`) and let each write its report into the partial they send
 * the hub (`reportJobMaps`). The registry is checked here once: two jobs of a scope sharing a
 * stored map would mix their entries.
 */
import type { EnrichedEvent } from "../../protocol";
import { emptyRecord } from "../shared/safe-record";
import type { AggregationJob, JobEventContext, KeyedState } from "./aggregation-job";
import { AGGREGATION_JOBS } from "./registered-jobs";

export type JobScope = "window" | "day";

/** Stored map name → key → entry (each map holds the entries of one job). */
export type JobMaps = Record<string, Record<string, unknown>>;

/** A job's state in one scope, with the job it belongs to. */
export interface ScopedJob<Report> {
  job: AggregationJob;
  state: KeyedState<unknown, Report>;
}

function scoped<Report>(
  scope: JobScope,
  stateOf: (job: AggregationJob) => KeyedState<unknown, Report> | undefined,
): readonly ScopedJob<Report>[] {
  const jobs: ScopedJob<Report>[] = [];
  const names = new Set<string>();
  const maps = new Set<string>();
  for (const job of AGGREGATION_JOBS) {
    if (names.has(job.name)) throw new Error(`two jobs named ${job.name}`);
    names.add(job.name);
    const state = stateOf(job);
    if (state === undefined) continue;
    if (maps.has(state.storedMap)) throw new Error(`two ${scope} jobs store map ${state.storedMap}`);
    maps.add(state.storedMap);
    jobs.push({ job, state });
  }
  return jobs;
}

/** Jobs keeping state per window, in registration order. */
export const WINDOW_JOBS = scoped("window", (job) => job.window);
/** Jobs keeping state per day, in registration order. */
export const DAY_JOBS = scoped("day", (job) => job.day);

/** The stored map names of a scope's jobs. */
export function jobMapNames(scope: JobScope): string[] {
  return (scope === "window" ? WINDOW_JOBS : DAY_JOBS).map(({ state }) => state.storedMap);
}

/** An empty map for every job of the scope. */
export function emptyJobMaps(scope: JobScope): JobMaps {
  const maps = emptyRecord<Record<string, unknown>>();
  for (const name of jobMapNames(scope)) maps[name] = emptyRecord<unknown>();
  return maps;
}

function mapOf(maps: JobMaps, storedMap: string): Record<string, unknown> {
  const map = maps[storedMap];
  // Every window and day is made by its empty constructor or the store, both with a map per job.
  if (map === undefined) throw new Error(`no map ${storedMap}`);
  return map;
}

/** Runs every job of the scope over `event`. */
export function addEventToJobMaps(
  jobs: readonly ScopedJob<unknown>[],
  maps: JobMaps,
  event: EnrichedEvent,
  context: JobEventContext,
): void {
  for (const { state } of jobs) state.add(mapOf(maps, state.storedMap), event, context);
}

/** Lets every job of the scope write its report into `partial`. */
export function reportJobMaps<Report>(jobs: readonly ScopedJob<Report>[], maps: JobMaps, partial: Report): void {
  for (const { state } of jobs) state.report?.(mapOf(maps, state.storedMap), partial);
}

/** A job's map in `maps`, typed as the job's entries (for tests and tools reading one job's state). */
export function jobMap<Entry>(maps: JobMaps, state: KeyedState<Entry, unknown> | undefined): Record<string, Entry> {
  if (state === undefined) throw new Error("the job keeps no state in this scope");
  return mapOf(maps, state.storedMap) as Record<string, Entry>;
}
