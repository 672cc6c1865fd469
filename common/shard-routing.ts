/**
 * Which IngestShard a batch goes to: FNV-1a (32 bit) of the visitor id modulo SHARDS.
 * Stable across isolates and deploys, so every batch of a visitor meets the same shard and
 * its session state needs no coordination (see docs/design.md, "Why these keys").
 */

export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  const bytes = new TextEncoder().encode(text);
  for (const byte of bytes) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export function shardIndexFor(visitorId: string, shards: number): number {
  return fnv1a32(visitorId) % Math.max(1, shards);
}

/** Durable Object name of a shard: one object per (site, shard index). */
export function ingestShardName(site: string, shardIndex: number): string {
  return `${site}:${shardIndex}`;
}

/**
 * Durable Object name of the BatchLedger slice that remembers `batchId`'s shard: one per
 * (site, hash(batch id) % SHARDS), so a site's claims spread like its batches do.
 */
export function batchLedgerName(site: string, batchId: string, shards: number): string {
  return `${site}:${fnv1a32(batchId) % Math.max(1, shards)}`;
}
