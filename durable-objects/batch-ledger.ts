/**
 * BatchLedger: which shard a batch id went to, for the batch ids of one slice of a site
 * (`<site>:<fnv1a(batch id) % SHARDS>`), so that a batch counts once wherever a resend lands.
 *
 * A shard is chosen by visitor, and the cookieless visitor id hashes the client's IP and
 * User-Agent: a batch resent after a network change derives another visitor and would reach
 * another shard, which has never seen its id. First sends never come here: they go straight to
 * their visitor's shard. A resend first asks every shard of the site whether it holds the id
 * (worker/resend-route.ts); only when none does is it claimed here: the first claim of a batch
 * id records its shard, and every later claim is told that shard, so concurrent resends from
 * different addresses all reach one shard, whose own batch ids then answer "duplicate". The
 * ledger also keeps a digest of the batch's events, so a reused batch id with other contents
 * is refused (409) instead of silently dropped as a duplicate. worker/routes/events.ts has the
 * whole protocol and its races.
 *
 * Claims are kept as long as the shards keep batch ids (DEDUP_HORIZON_MS), never less: an
 * alarm deletes older ones, and a ledger holding MAX_CLAIMS refuses new ids (the Worker
 * answers 503 + Retry-After) until its oldest claim leaves the horizon.
 */
import { DurableObject } from "cloudflare:workers";
import { MAX_SEEN_BATCHES, SEEN_BATCH_RETENTION_MS } from "./ingest-shard/shard-engine";

/** As long as a shard remembers a batch id, and an hour more. */
export const DEDUP_HORIZON_MS = SEEN_BATCH_RETENTION_MS + 60 * 60 * 1000;
/**
 * Claims one ledger object keeps at most (a slice of one site's batches over the horizon).
 * A slice gets about a shard's share of a site's batches, so it is sized like a shard's kept
 * batch ids (shard-engine.ts MAX_SEEN_BATCHES: 185 batches/s for 24 h).
 */
export const MAX_CLAIMS = MAX_SEEN_BATCHES;
const SWEEP_INTERVAL_MS = 60 * 60 * 1000;

export type BatchClaim =
  /** The shard the batch goes to: the one asked for when the id is new, else the one it went to first. */
  | { status: "claimed"; shard: number }
  /** The id was used before for other events. */
  | { status: "conflict" }
  /** The ledger holds MAX_CLAIMS: a new id must wait until the oldest claim leaves the horizon. */
  | { status: "full"; retry_after_seconds: number };

/**
 * Null when a new claim fits under `maxClaims`; else when to retry (at most 60 s, at least
 * 1 s) and when the oldest claim leaves the horizon. Rowids grow with inserts and the sweep
 * deletes the oldest claims, so max − min + 1 bounds the count from above in two lookups.
 */
export function claimsFull(
  sql: SqlStorage,
  maxClaims: number,
  now: number,
): { retryAfterSeconds: number; freeAt: number } | null {
  const span = sql
    .exec<{ first: number | null; last: number | null }>("SELECT min(rowid) AS first, max(rowid) AS last FROM claims")
    .one();
  if (span.first === null || span.last === null || span.last - span.first + 1 < maxClaims) return null;
  const oldest = sql.exec<{ at: number | null }>("SELECT min(claimed_at) AS at FROM claims").one().at ?? now;
  const freeAt = oldest + DEDUP_HORIZON_MS + 1;
  return { retryAfterSeconds: Math.min(60, Math.max(1, Math.ceil((freeAt - now) / 1000))), freeAt };
}

export class BatchLedger extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS claims (batch_id TEXT PRIMARY KEY, shard INTEGER NOT NULL, digest TEXT NOT NULL, claimed_at INTEGER NOT NULL)",
    );
    ctx.storage.sql.exec("CREATE INDEX IF NOT EXISTS claims_by_age ON claims (claimed_at)");
  }

  async claim(batchId: string, shard: number, digest: string): Promise<BatchClaim> {
    const sql = this.ctx.storage.sql;
    const known = sql
      .exec<{ shard: number; digest: string }>("SELECT shard, digest FROM claims WHERE batch_id = ?", batchId)
      .toArray()[0];
    if (known !== undefined)
      return known.digest === digest ? { status: "claimed", shard: known.shard } : { status: "conflict" };
    const full = claimsFull(sql, MAX_CLAIMS, Date.now());
    if (full !== null) {
      // The sweep that frees room comes when the oldest claim leaves the horizon, not an hour later.
      const alarm = await this.ctx.storage.getAlarm();
      if (alarm === null || alarm > full.freeAt) await this.ctx.storage.setAlarm(full.freeAt);
      return { status: "full", retry_after_seconds: full.retryAfterSeconds };
    }
    sql.exec(
      "INSERT INTO claims (batch_id, shard, digest, claimed_at) VALUES (?, ?, ?, ?)",
      batchId,
      shard,
      digest,
      Date.now(),
    );
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + SWEEP_INTERVAL_MS);
    return { status: "claimed", shard };
  }

  /** Idempotent: deletes what is past the horizon (never more), then re-arms (last). */
  override async alarm(): Promise<void> {
    const sql = this.ctx.storage.sql;
    sql.exec("DELETE FROM claims WHERE claimed_at < ?", Date.now() - DEDUP_HORIZON_MS);
    const left = sql.exec("SELECT 1 FROM claims LIMIT 1").toArray().length > 0;
    if (left) await this.ctx.storage.setAlarm(Date.now() + SWEEP_INTERVAL_MS);
  }
}
