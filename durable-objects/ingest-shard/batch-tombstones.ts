/**
 * Batch ids a resend probed this shard for, when the shard did not hold them: a first attempt
 * of such an id that arrives later is refused here (retryably), because the resend is being
 * counted on another shard (worker/routes/events.ts has the whole protocol and its races).
 *
 * A tombstone is kept as long as a batch id (SEEN_BATCH_RETENTION_MS), never less, and a
 * shard holding `max` of them answers a probe for a new id "full" (the Worker: 503 +
 * Retry-After until the oldest expires) rather than forget one early, since a forgotten
 * tombstone lets a late first attempt count a second time. Expired ones are deleted by the
 * alarm's pruning and, when full, by the probe itself (a shard that only ever received probes
 * has no alarm).
 *
 * Rowids grow with inserts and pruning deletes from the oldest, so the count is bounded from
 * above by max − min + 1 in two lookups, and expiry scans the oldest rows by rowid (no index
 * on the time), like the batch log.
 */

/** Tombstones scanned per pruning pass (the oldest, by rowid). */
const PRUNE_SCAN = 10_000;

export function hasTombstone(sql: SqlStorage, batchId: string): boolean {
  return sql.exec("SELECT 1 FROM batch_tombstones WHERE batch_id = ?", batchId).toArray().length > 0;
}

/** Deletes tombstones stored before `cutoff` among the oldest PRUNE_SCAN. */
export function pruneTombstones(sql: SqlStorage, cutoff: number): void {
  const upTo = sql
    .exec<{ id: number | null }>(
      "SELECT max(rowid) AS id FROM (SELECT rowid, stored_at FROM batch_tombstones ORDER BY rowid LIMIT ?) WHERE stored_at < ?",
      PRUNE_SCAN,
      cutoff,
    )
    .one().id;
  if (upTo !== null) sql.exec("DELETE FROM batch_tombstones WHERE rowid <= ?", upTo);
}

/**
 * Records a tombstone for `batchId` (an existing one keeps its time). Returns null, or, when
 * the shard holds `max` tombstones none of which has expired, the seconds until the oldest
 * does (1 to 60).
 */
export function recordTombstone(
  sql: SqlStorage,
  batchId: string,
  now: number,
  retentionMs: number,
  max: number,
): number | null {
  if (hasTombstone(sql, batchId)) return null;
  if (tombstoneCountBound(sql) >= max) {
    pruneTombstones(sql, now - retentionMs);
    if (tombstoneCountBound(sql) >= max) {
      const oldest = sql.exec<{ at: number | null }>("SELECT min(stored_at) AS at FROM batch_tombstones").one().at;
      return Math.min(60, Math.max(1, Math.ceil(((oldest ?? now) + retentionMs + 1 - now) / 1000)));
    }
  }
  sql.exec("INSERT INTO batch_tombstones (batch_id, stored_at) VALUES (?, ?)", batchId, now);
  return null;
}

function tombstoneCountBound(sql: SqlStorage): number {
  const span = sql
    .exec<{ first: number | null; last: number | null }>(
      "SELECT min(rowid) AS first, max(rowid) AS last FROM batch_tombstones",
    )
    .one();
  return span.first === null || span.last === null ? 0 : span.last - span.first + 1;
}
