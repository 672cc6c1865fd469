/**
 * RateLimiter: one object per site holding that site's token buckets in memory (see
 * SiteRateLimiter). The Worker sends the limits with every check, so a change of the
 * RATE_LIMIT_* vars applies at once and the object keeps no configuration of its own.
 *
 * Nothing is stored: buckets are soft state, and losing them (eviction, restart) only hands
 * out full buckets, which is lenient, never wrong in the strict direction.
 */
import { DurableObject } from "cloudflare:workers";
import { SiteRateLimiter, type RateLimitDecision, type RateLimits } from "./site-rate-limiter";

export class RateLimiter extends DurableObject<Env> {
  private readonly limiter = new SiteRateLimiter();

  async check(clientKey: string, limits: RateLimits): Promise<RateLimitDecision> {
    return this.limiter.check(clientKey, limits, Date.now());
  }
}
