/**
 * How a shard flushes to ClickHouse without losing or doubling a row.
 *
 * - Every insert carries an `insert_deduplication_token` derived only from what it holds:
 *   (site, shard, the shard's storage epoch, table, first–last sequence number) for events
 *   and sessions, (window start, part id) for window_metrics. Sequence numbers and part ids
 *   are never reused, and the epoch (random, made when the shard's storage was created) keeps
 *   tokens unique even if a shard's storage were wiped. A retried insert therefore carries
 *   the same token and ClickHouse drops it if the first attempt had landed.
 * - A chunk's bounds are persisted before its first attempt and reused on every retry, so a
 *   retry never sends a *larger* set under a new token (that would double the rows that had
 *   landed). Rows are deleted only after their insert succeeded.
 * - Retryable failures (network, ClickHouse down, overload) back off exponentially.
 * - Inserts are batched by size and age (`flushDueAt`), not by the alarm's tick: one insert
 *   per shard per second at a few hundred events/s is many small parts for ClickHouse.
 * - A data error (ClickHouse refuses the rows) bisects the chunk: halves that insert are
 *   done, a single refused row goes to `quarantine`, so one bad row never blocks the rest.
 *   A half's token is its own first–last range, disjoint from every other chunk's.
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

export interface TokenScope {
  site: string;
  shard: number;
  /** Random id made once when the shard's storage was created. */
  epoch: string;
}

export function dedupToken(scope: TokenScope, table: string, key: string): string {
  return `${scope.site}:${scope.shard}:${scope.epoch}:${table}:${key}`;
}

export function rangeKey(firstSeq: number, lastSeq: number): string {
  return `${firstSeq}-${lastSeq}`;
}

/** 1 s, 2 s, 4 s … capped at 60 s. */
export function nextBackoffMs(previousMs: number): number {
  if (previousMs <= 0) return FIRST_BACKOFF_MS;
  return Math.min(previousMs * 2, MAX_BACKOFF_MS);
}

export interface SequencedRow<R> {
  seq: number;
  row: R;
}

export interface BisectHandlers<R> {
  /** Inserts rows under a token; throws on failure. */
  insert(rows: R[], token: string): Promise<void>;
  /** Token of the rows with sequence numbers first..last. */
  tokenOf(firstSeq: number, lastSeq: number): string;
  /** True when retrying the same insert later can succeed (network, server down, overload). */
  isRetryable(error: unknown): boolean;
  /** These rows landed: delete them now, so progress survives a later failure. */
  onInserted(rows: SequencedRow<R>[]): void;
  /** ClickHouse refused this single row: move it aside. May throw a retryable error. */
  onRefused(row: SequencedRow<R>, error: unknown): Promise<void>;
}

/**
 * Inserts `rows` (ascending seq) as one insert; on a data error, splits in halves until the
 * refused rows are isolated. A retryable error is rethrown at once: the caller backs off and
 * retries the same persisted chunk later (rows already inserted are gone from it by then).
 */
export async function insertBisecting<R>(rows: SequencedRow<R>[], handlers: BisectHandlers<R>): Promise<void> {
  const first = rows[0];
  const last = rows[rows.length - 1];
  if (first === undefined || last === undefined) return;
  try {
    await handlers.insert(
      rows.map((entry) => entry.row),
      handlers.tokenOf(first.seq, last.seq),
    );
  } catch (error) {
    if (handlers.isRetryable(error)) throw error;
    if (rows.length === 1) {
      await handlers.onRefused(first, error);
      return;
    }
    const middle = Math.ceil(rows.length / 2);
    await insertBisecting(rows.slice(0, middle), handlers);
    await insertBisecting(rows.slice(middle), handlers);
    return;
  }
  handlers.onInserted(rows);
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
