/**
 * What an IngestShard reports for `/metrics` (RPC `stats()`). Counters are monotonic over the
 * shard's storage lifetime (Prometheus counters); gauges are the state right now.
 */
import type { ShardMeta } from "./shard-meta";

export const COUNTER_NAMES = [
  "ingested_events",
  "ingested_batches",
  "duplicate_batches",
  "overloaded_batches",
  "rate_limited_batches",
  "flushed_rows_events",
  "flushed_rows_window_metrics",
  "flushed_rows_sessions",
  "flush_errors",
  "quarantined_rows",
  "sessions_closed",
  "late_events",
  "live_sends",
  "live_send_errors",
] as const;
export type CounterName = (typeof COUNTER_NAMES)[number];

export interface ShardStats {
  site: string | null;
  shard: number | null;
  counters: Record<CounterName, number>;
  /** Rows waiting for ClickHouse. */
  pending: { events: number; window_parts: number; sessions: number };
  open_sessions: number;
  /** Windows whose counts are not all in sealed parts yet (open, or late changes pending). */
  unsealed_windows: number;
  /** Wall-clock ms of the last insert ClickHouse acknowledged, or null. */
  last_flush_at: number | null;
  /** Age (ms) of the oldest row waiting for ClickHouse; 0 when nothing waits. */
  flush_lag_ms: number;
  /** Age (ms) of the oldest event waiting for ClickHouse (the shard's consumer lag); 0 when none waits. */
  oldest_pending_event_age_ms: number;
  /** The backlog bound `pending.events` is checked against: a batch that would pass it is refused as overloaded. */
  max_pending_events: number;
  /** Current retry delay while ClickHouse fails; 0 when healthy. */
  backoff_ms: number;
  /** The shard's watermark (ms): windows ending before it are sealed. */
  watermark: number;
}

export function readCounters(meta: ShardMeta): Record<CounterName, number> {
  const stored = meta.counters();
  const result = {} as Record<CounterName, number>;
  for (const name of COUNTER_NAMES) result[name] = stored.get(name) ?? 0;
  return result;
}
