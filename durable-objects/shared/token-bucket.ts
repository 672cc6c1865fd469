/**
 * A token bucket: `burst` tokens at most, refilled at `perSecond` tokens a second. A request
 * takes one token; without one it is refused and told how long until one is there, which is
 * what the 429's Retry-After carries. Time is passed in, so tests need no clock.
 */

export interface BucketLimit {
  /** Sustained rate, tokens a second (> 0). */
  perSecond: number;
  /** Capacity: how many requests may arrive at once after a quiet spell (≥ 1). */
  burst: number;
}

export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(limit: BucketLimit, now: number) {
    this.tokens = limit.burst;
    this.updatedAt = now;
  }

  /** Tokens available at `now` (refills lazily; the limit may change between calls). */
  available(limit: BucketLimit, now: number): number {
    const elapsedSeconds = Math.max(0, now - this.updatedAt) / 1000;
    this.tokens = Math.min(limit.burst, this.tokens + elapsedSeconds * limit.perSecond);
    this.updatedAt = Math.max(this.updatedAt, now);
    return this.tokens;
  }

  /** Seconds until one token is available (0 when one is there now). */
  secondsUntilToken(limit: BucketLimit, now: number): number {
    const missing = 1 - this.available(limit, now);
    return missing <= 0 ? 0 : missing / limit.perSecond;
  }

  /** Takes one token; callers check `available` first so a refused request costs nothing. */
  take(limit: BucketLimit, now: number): void {
    this.tokens = this.available(limit, now) - 1;
  }

  /** A bucket that has refilled to capacity is the same as no bucket: it can be dropped. */
  isFull(limit: BucketLimit, now: number): boolean {
    return this.available(limit, now) >= limit.burst;
  }
}
