/**
 * The rate limits of one site: a bucket for the whole site and one per client, where a client
 * is a salted hash of IP and User-Agent made by the Worker (never the IP itself). A request
 * passes only when both buckets have a token, and takes from both only then, so a refused
 * request never uses up budget.
 *
 * Client buckets live in memory and are bounded: a bucket that has refilled is the same as no
 * bucket and is dropped first; past the bound the least recently seen client is dropped, which
 * at worst hands that client a fresh (full) bucket. Losing the map (eviction) is lenient the
 * same way, never stricter.
 */
import { TokenBucket, type BucketLimit } from "./token-bucket";

export interface RateLimits {
  /** null: no site-wide limit. */
  site: BucketLimit | null;
  /** null: no per-client limit. */
  client: BucketLimit | null;
}

export type RateLimitScope = "site" | "client";

export type RateLimitDecision = { allowed: true } | { allowed: false; scope: RateLimitScope; retryAfterSeconds: number };

export const DEFAULT_MAX_CLIENT_BUCKETS = 10_000;

export class SiteRateLimiter {
  private siteBucket: TokenBucket | null = null;
  /** Insertion order is recency order: a client is re-inserted whenever it is seen. */
  private readonly clientBuckets = new Map<string, TokenBucket>();

  constructor(private readonly maxClientBuckets = DEFAULT_MAX_CLIENT_BUCKETS) {}

  get trackedClients(): number {
    return this.clientBuckets.size;
  }

  check(clientKey: string, limits: RateLimits, now: number): RateLimitDecision {
    const clientBucket = limits.client === null ? null : this.clientBucket(clientKey, limits.client, now);
    if (clientBucket !== null && limits.client !== null) {
      const wait = clientBucket.secondsUntilToken(limits.client, now);
      if (wait > 0) return { allowed: false, scope: "client", retryAfterSeconds: wait };
    }
    if (limits.site !== null) {
      this.siteBucket ??= new TokenBucket(limits.site, now);
      const wait = this.siteBucket.secondsUntilToken(limits.site, now);
      if (wait > 0) return { allowed: false, scope: "site", retryAfterSeconds: wait };
      this.siteBucket.take(limits.site, now);
    }
    if (clientBucket !== null && limits.client !== null) clientBucket.take(limits.client, now);
    return { allowed: true };
  }

  private clientBucket(clientKey: string, limit: BucketLimit, now: number): TokenBucket {
    let bucket = this.clientBuckets.get(clientKey);
    if (bucket === undefined) {
      if (this.clientBuckets.size >= this.maxClientBuckets) this.evict(limit, now);
      bucket = new TokenBucket(limit, now);
    } else {
      this.clientBuckets.delete(clientKey);
    }
    this.clientBuckets.set(clientKey, bucket);
    return bucket;
  }

  /**
   * Drops refilled buckets; if that frees too little, the least recently seen tenth, so that
   * under a flood of new clients the sweep runs once per many arrivals, not once per request.
   */
  private evict(limit: BucketLimit, now: number): void {
    for (const [key, bucket] of this.clientBuckets) {
      if (bucket.isFull(limit, now)) this.clientBuckets.delete(key);
    }
    const target = Math.floor(this.maxClientBuckets * 0.9);
    if (this.clientBuckets.size < target) return;
    while (this.clientBuckets.size > target) {
      const oldest = this.clientBuckets.keys().next();
      if (oldest.done === true) break;
      this.clientBuckets.delete(oldest.value);
    }
  }
}
