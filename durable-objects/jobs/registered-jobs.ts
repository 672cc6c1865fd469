/**
 * The keyed-count jobs the shard and the hub run, in order. Adding a job: its file in this
 * folder, and one line here (docs/adding-jobs.md).
 */
import { customEventsJob } from "./custom-events";
import type { KeyedCountJob } from "./keyed-count-job";
import { sessionsByChannelJob } from "./sessions-by-channel";

export const KEYED_COUNT_JOBS: readonly KeyedCountJob[] = [customEventsJob, sessionsByChannelJob];

/** Largest number of jobs a hub accepts in one shard state (a bound on a bug, not a plan). */
export const MAX_JOBS = 32;
