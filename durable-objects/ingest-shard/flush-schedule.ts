/**
 * When a shard flushes to ClickHouse: inserts are batched by size and age (`flushDueAt`), not
 * by the alarm's tick, since one insert per shard per second at a few hundred events/s is many
 * small parts for ClickHouse; retryable failures (network, ClickHouse down, overload) back off
 * exponentially. Rows are deleted only after their insert succeeded (flush-queue.ts).
 */

export const EVENTS_PER_INSERT = 5_000;
/** A queue holding this many entries is flushed at once (not waiting for age or quiet). */
export const FLUSH_MIN_ENTRIES = 2_000;
/** The oldest pending entry waits at most this long (capped at one window, see flushPolicy). */
export const FLUSH_MAX_AGE_MS = 2_000;
/** Nothing enqueued for this long: no more rows to batch with, flush what is there. */
export const FLUSH_QUIET_MS = 1_000;
export const SESSIONS_PER_INSERT = 5_000;
export const FIRST_BACKOFF_MS = 1_000;
export const MAX_BACKOFF_MS = 60_000;

/** 1 s, 2 s, 4 s … capped at 60 s. */
export function nextBackoffMs(previousMs: number): number {
  if (previousMs <= 0) return FIRST_BACKOFF_MS;
  return Math.min(previousMs * 2, MAX_BACKOFF_MS);
}

/** When a shard's outboxes are flushed: by size, by age, when traffic pauses, and at sealing. */
export interface FlushPolicy {
  minEntries: number;
  maxAgeMs: number;
  quietMs: number;
}

/** The policy for a window length: never hold an event longer than one window. */
export function flushPolicy(windowMs: number): FlushPolicy {
  return { minEntries: FLUSH_MIN_ENTRIES, maxAgeMs: Math.min(windowMs, FLUSH_MAX_AGE_MS), quietMs: FLUSH_QUIET_MS };
}

/** What is waiting in a shard's outboxes. */
export interface PendingSummary {
  /** Entries in the fullest queue. */
  largestQueue: number;
  /** This pass sealed a window on time (emitted its first part). */
  windowSealed: boolean;
  /** stored_at of the oldest and the newest entry over all queues; null when all are empty. */
  oldestStoredAt: number | null;
  newestStoredAt: number | null;
}

/**
 * The earliest time a flush of everything pending is due, or null when nothing is pending.
 * Due at once when a queue is full (`minEntries`) or a window was just sealed on time (the
 * window-sized boundary docs/design.md asks inserts to follow; late events make later parts of
 * sealed windows all the time, so those wait like events do); otherwise when the oldest
 * entry reaches `maxAgeMs` or nothing new arrived for `quietMs`. So an insert carries up to
 * ~2 s of a busy shard's events, a lone batch still lands about a second after it arrived,
 * and no event waits longer than maxAgeMs plus the alarm's delay — well inside the
 * WINDOW + LATENESS + a few seconds the README promises.
 */
export function flushDueAt(pending: PendingSummary, policy: FlushPolicy): number | null {
  if (pending.oldestStoredAt === null || pending.newestStoredAt === null) return null;
  if (pending.windowSealed || pending.largestQueue >= policy.minEntries) return Number.NEGATIVE_INFINITY;
  return Math.min(pending.oldestStoredAt + policy.maxAgeMs, pending.newestStoredAt + policy.quietMs);
}
