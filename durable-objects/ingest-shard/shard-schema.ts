/**
 * The IngestShard's SQLite schema, created and upgraded through a migrations table so a
 * deployed shard with older storage is brought forward exactly once, in order, atomically.
 * Append new migrations; never edit an applied one.
 *
 * Durable state = the last checkpoint (the state tables below, written by the alarm) plus the
 * log of batches accepted since (`batch_log`, one row per batch, written before the 202):
 * shard-engine.ts loads the one and replays the other.
 *
 * Tables:
 *   meta              scalars: identity (site, shard, epoch), sequence counters, watermark
 *                     input, flush backoff, in-flight chunk bounds, live-send bookkeeping,
 *                     checkpoint bookkeeping (checkpoint_seq, checkpoint_version)
 *   counters          monotonic counters for /metrics (ShardStats)
 *   batch_log         one row per accepted batch (v3): its id (dedup, kept 24 h), the digest
 *                     of its events (v4; NULL on rows from before, which match any events)
 *                     and, until a checkpoint covers it, the batch itself to replay (`entry`,
 *                     then NULL)
 *   batch_tombstones  ids a resend probed for and this shard did not hold (v4, kept 24 h):
 *                     a first attempt of one arriving later is refused (batch-tombstones.ts)
 *   pending_events    event rows not yet acknowledged by ClickHouse, by insertion seq
 *   windows           per-window total / emitted-in-parts state (window-sealing.ts)
 *   window_entries    the windows' maps (pages, products, vitals), one row per entry (v2,
 *                     like day_entries below)
 *   window_members    (window, visitor|session) sets: exact distinct counts, late events too
 *   window_parts      sealed window_metrics parts not yet acknowledged by ClickHouse
 *   open_sessions     per-session state until the session closes
 *   pending_sessions  session rows not yet acknowledged by ClickHouse
 *   days              per-UTC-day accumulators (today's DayPartial): counters, funnel, carts
 *   day_entries       the days' top-list maps (pages, referrers, products, vitals), one row
 *                     per entry, so a batch writes the entries it touched (v2; a v1 day
 *                     still holding its maps in `days` moves them here on its next write)
 *   day_members       (day, visitor|session) sets for exact daily distinct counts
 *   online_visitors   last activity per visitor, for "online now"
 */

interface Migration {
  version: number;
  statements: string[];
}

/** Queue tables share one layout so flush-queue.ts can drain any of them. */
const queueTable = (name: string) =>
  `CREATE TABLE ${name} (seq INTEGER PRIMARY KEY, stored_at INTEGER NOT NULL, row TEXT NOT NULL)`;

export const SHARD_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    statements: [
      "CREATE TABLE meta (key TEXT PRIMARY KEY, value)",
      // The epoch makes dedup tokens unique across storage lifetimes (dedup-token.ts).
      "INSERT INTO meta (key, value) VALUES ('epoch', lower(hex(randomblob(8))))",
      "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
      "CREATE TABLE seen_batches (batch_id TEXT PRIMARY KEY, seen_at INTEGER NOT NULL)",
      "CREATE INDEX seen_batches_by_time ON seen_batches (seen_at)",
      queueTable("pending_events"),
      "CREATE TABLE windows (start INTEGER PRIMARY KEY, state TEXT NOT NULL, needs_part INTEGER NOT NULL, live_change INTEGER NOT NULL)",
      "CREATE INDEX windows_needing_part ON windows (needs_part, start)",
      "CREATE INDEX windows_by_live_change ON windows (live_change)",
      "CREATE TABLE window_members (window_start INTEGER NOT NULL, kind INTEGER NOT NULL, member TEXT NOT NULL, PRIMARY KEY (window_start, kind, member)) WITHOUT ROWID",
      queueTable("window_parts"),
      "CREATE TABLE open_sessions (session_id TEXT PRIMARY KEY, visitor_id TEXT NOT NULL, assigned INTEGER NOT NULL, last_seen INTEGER NOT NULL, state TEXT NOT NULL)",
      "CREATE INDEX open_sessions_by_visitor ON open_sessions (visitor_id, assigned, last_seen)",
      "CREATE INDEX open_sessions_by_last_seen ON open_sessions (last_seen)",
      queueTable("pending_sessions"),
      "CREATE TABLE days (day TEXT PRIMARY KEY, state TEXT NOT NULL)",
      "CREATE TABLE day_members (day TEXT NOT NULL, kind INTEGER NOT NULL, member TEXT NOT NULL, PRIMARY KEY (day, kind, member)) WITHOUT ROWID",
      "CREATE TABLE online_visitors (visitor_id TEXT PRIMARY KEY, last_active INTEGER NOT NULL)",
      "CREATE INDEX online_visitors_by_time ON online_visitors (last_active)",
    ],
  },
  {
    version: 2,
    statements: [
      "CREATE TABLE day_entries (day TEXT NOT NULL, map TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (day, map, key)) WITHOUT ROWID",
      "CREATE TABLE window_entries (window_start INTEGER NOT NULL, map TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (window_start, map, key)) WITHOUT ROWID",
    ],
  },
  {
    // The batch log replaces seen_batches: the dedup id and the replayable batch in one row per batch.
    version: 3,
    statements: [
      "CREATE TABLE batch_log (seq INTEGER PRIMARY KEY, batch_id TEXT NOT NULL UNIQUE, stored_at INTEGER NOT NULL, entry TEXT)",
      "INSERT INTO batch_log (seq, batch_id, stored_at, entry) SELECT row_number() OVER (ORDER BY seen_at, batch_id), batch_id, seen_at, NULL FROM seen_batches",
      "INSERT INTO meta (key, value) SELECT 'checkpoint_seq', coalesce(max(seq), 0) FROM batch_log WHERE true ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      "DROP TABLE seen_batches",
      // The engine keeps these in memory (shard-state-store.ts indexes); on disk they only cost writes.
      "DROP INDEX open_sessions_by_visitor",
      "DROP INDEX open_sessions_by_last_seen",
      "DROP INDEX windows_needing_part",
      "DROP INDEX windows_by_live_change",
      "DROP INDEX online_visitors_by_time",
    ],
  },
  {
    // Conflict detection moved here from the BatchLedger for first sends (batch-tombstones.ts).
    version: 4,
    statements: [
      "ALTER TABLE batch_log ADD COLUMN digest TEXT",
      "CREATE TABLE batch_tombstones (batch_id TEXT PRIMARY KEY, stored_at INTEGER NOT NULL)",
    ],
  },
];

export const SHARD_SCHEMA_VERSION = SHARD_MIGRATIONS.reduce((max, migration) => Math.max(max, migration.version), 0);

/**
 * Applies the migrations newer than the recorded version. Run inside transactionSync (the
 * caller does), so a failing migration leaves the previous schema intact.
 */
export function migrateShardSchema(sql: SqlStorage, now: number): number {
  sql.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
  const current =
    sql.exec<{ version: number | null }>("SELECT max(version) AS version FROM schema_migrations").one().version ?? 0;
  for (const migration of SHARD_MIGRATIONS) {
    if (migration.version <= current) continue;
    for (const statement of migration.statements) sql.exec(statement);
    sql.exec("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", migration.version, now);
  }
  return SHARD_SCHEMA_VERSION;
}
