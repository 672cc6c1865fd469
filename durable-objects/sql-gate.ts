/**
 * SqlGate: one object per console token (named by a hash of the token), admitting that token's
 * SQL console queries: at most `maxConcurrent` at once and a token bucket of queries per
 * minute. It keeps one hostile or careless client from occupying the ClickHouse server that
 * flushes and history also use.
 *
 * Running queries are leases in SQLite (storage is the truth; an evicted gate still knows
 * them), each with an expiry a little past the query's own time limit, so a Worker that died
 * between admit and release frees its slot by itself. The rate bucket is soft state: an
 * evicted gate starts with a full bucket, which is lenient, never stricter.
 */
import { DurableObject } from "cloudflare:workers";
import { type BucketLimit, TokenBucket } from "./shared/token-bucket";

export interface SqlGateLimits {
  maxConcurrent: number;
  /** Queries a minute; 0 turns the rate limit off. */
  perMinute: number;
  /** How long a lease holds at most, in ms (the query's time limit plus a margin). */
  leaseMs: number;
}

export type SqlGateDecision =
  | { admitted: true; lease: string }
  | { admitted: false; reason: "concurrency" | "rate"; retryAfterSeconds: number };

export class SqlGate extends DurableObject<Env> {
  private bucket: TokenBucket | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS leases (id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)");
  }

  async admit(limits: SqlGateLimits): Promise<SqlGateDecision> {
    const now = Date.now();
    const sql = this.ctx.storage.sql;
    sql.exec("DELETE FROM leases WHERE expires_at <= ?", now);
    const running = sql
      .exec<{ running: number; next_expiry: number | null }>(
        "SELECT count(*) AS running, min(expires_at) AS next_expiry FROM leases",
      )
      .one();
    if (running.running >= limits.maxConcurrent) {
      // A release usually comes much sooner; the expiry is the bound.
      const retryAfterSeconds = Math.min(5, Math.max(1, Math.ceil(((running.next_expiry ?? now) - now) / 1000)));
      return { admitted: false, reason: "concurrency", retryAfterSeconds };
    }
    if (limits.perMinute > 0) {
      const rate: BucketLimit = {
        perSecond: limits.perMinute / 60,
        burst: Math.max(1, Math.ceil(limits.perMinute / 3)),
      };
      this.bucket ??= new TokenBucket(rate, now);
      if (this.bucket.available(rate, now) < 1) {
        return {
          admitted: false,
          reason: "rate",
          retryAfterSeconds: Math.max(1, Math.ceil(this.bucket.secondsUntilToken(rate, now))),
        };
      }
      this.bucket.take(rate, now);
    }
    const lease = crypto.randomUUID();
    sql.exec("INSERT INTO leases (id, expires_at) VALUES (?, ?)", lease, now + limits.leaseMs);
    return { admitted: true, lease };
  }

  async release(lease: string): Promise<void> {
    this.ctx.storage.sql.exec("DELETE FROM leases WHERE id = ?", lease);
  }
}
