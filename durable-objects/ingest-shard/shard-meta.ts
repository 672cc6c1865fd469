/**
 * Typed access to the shard's `meta` (scalars) and `counters` (monotonic /metrics counts)
 * tables. Each read is one indexed SQLite lookup in-process, cheap enough to need no cache.
 */
import type { QueueTable } from "./flush-queue";

/** Every key the shard keeps in `meta`: a misspelt key is a type error, not a silent 0. */
export type MetaKey =
  // identity; `epoch` is written by the schema (shard-schema.ts)
  | "site"
  | "shard"
  | "epoch"
  // checkpoints of the in-memory state (shard-engine.ts)
  | "checkpoint_seq"
  | "checkpoint_at"
  | "checkpoint_version"
  | "state_settings"
  | "live_change"
  | "max_event_ts"
  // flushing to ClickHouse
  | "backoff_ms"
  | "retry_at"
  | "last_flush_error"
  | "last_flush_at"
  | `inflight_first:${QueueTable}`
  | `inflight_last:${QueueTable}`
  | `next_seq:${QueueTable}`
  // what the hub was last sent
  | "live_seq"
  | "live_sent_change"
  | "live_sent_online"
  | "live_sent_day";

export class ShardMeta {
  constructor(private readonly sql: SqlStorage) {}

  number(key: MetaKey, fallback = 0): number {
    const row = this.sql
      .exec<{ value: number | string | null }>("SELECT value FROM meta WHERE key = ?", key)
      .toArray()[0];
    if (row === undefined || row.value === null) return fallback;
    const value = Number(row.value);
    return Number.isFinite(value) ? value : fallback;
  }

  text(key: MetaKey): string | null {
    const row = this.sql
      .exec<{ value: number | string | null }>("SELECT value FROM meta WHERE key = ?", key)
      .toArray()[0];
    return row === undefined || row.value === null ? null : String(row.value);
  }

  set(key: MetaKey, value: number | string): void {
    this.sql.exec(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      key,
      value,
    );
  }

  /** Adds `by` and returns the new value. */
  add(key: MetaKey, by: number): number {
    const next = this.number(key) + by;
    this.set(key, next);
    return next;
  }

  /** Adds to a /metrics counter. */
  count(name: string, by = 1): void {
    if (by === 0) return;
    this.sql.exec(
      "INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
      name,
      by,
    );
  }

  counters(): Map<string, number> {
    const result = new Map<string, number>();
    for (const row of this.sql.exec<{ name: string; value: number }>("SELECT name, value FROM counters"))
      result.set(row.name, row.value);
    return result;
  }
}
