/**
 * The `insert_deduplication_token` of a shard's inserts, derived only from what an insert
 * holds: (site, shard, the shard's storage epoch, table, first–last sequence number) for every
 * table (events, window parts, sessions), and (table, sequence number) for a row moved to
 * quarantine. Sequence numbers are never reused, and the epoch (random, made when the shard's
 * storage was created) keeps tokens unique even if a shard's storage were wiped. A retried
 * insert therefore carries the same token and ClickHouse drops it if the first attempt had
 * landed. A chunk's bounds are persisted before its first attempt and reused on every retry
 * (flush-queue.ts), so a retry never sends a *larger* set under a new token, which would double
 * the rows that had landed.
 */

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
