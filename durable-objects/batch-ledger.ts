/**
 * BatchLedger: which shard a batch id went to, for the batch ids of one slice of a site
 * (`<site>:<fnv1a(batch id) % SHARDS>`), so that a batch counts once wherever a resend lands.
 *
 * A shard is chosen by visitor, and the cookieless visitor id hashes the client's IP and
 * User-Agent: a batch resent after a network change derives another visitor and would reach
 * another shard, which has never seen its id. The Worker asks the ledger first: the first
 * claim of a batch id records its shard, and every later claim is told that shard, whose own
 * seen-batch table then answers "duplicate". The ledger also keeps a digest of the batch's
 * events, so a reused batch id with other contents is refused (409) instead of silently
 * dropped as a duplicate.
 *
 * Claims are kept at least as long as the shards keep batch ids (DEDUP_HORIZON_MS), and
 * bounded: an hourly alarm deletes older ones and, beyond MAX_CLAIMS, the oldest.
 */
import { DurableObject } from "cloudflare:workers";
import { SEEN_BATCH_RETENTION_MS } from "./ingest-shard/shard-engine";

/** As long as a shard remembers a batch id, and an hour more. */
export const DEDUP_HORIZON_MS = SEEN_BATCH_RETENTION_MS + 60 * 60 * 1000;
/** Claims one ledger object keeps at most (a slice of one site's batches over the horizon). */
export const MAX_CLAIMS = 1_000_000;
const SWEEP_INTERVAL_MS = 60 * 60 * 1000;

export type BatchClaim =
  /** The shard the batch goes to: the one asked for when the id is new, else the one it went to first. */
  | { status: "claimed"; shard: number }
  /** The id was used before for other events. */
  | { status: "conflict" };

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

  /** Idempotent: deletes what is past the horizon or over the bound, then re-arms (last). */
  override async alarm(): Promise<void> {
    const sql = this.ctx.storage.sql;
    sql.exec("DELETE FROM claims WHERE claimed_at < ?", Date.now() - DEDUP_HORIZON_MS);
    const { count } = sql.exec<{ count: number }>("SELECT count(*) AS count FROM claims").one();
    if (count > MAX_CLAIMS) {
      sql.exec(
        "DELETE FROM claims WHERE batch_id IN (SELECT batch_id FROM claims ORDER BY claimed_at LIMIT ?)",
        count - MAX_CLAIMS,
      );
    }
    if (count > 0) await this.ctx.storage.setAlarm(Date.now() + SWEEP_INTERVAL_MS);
  }
}
