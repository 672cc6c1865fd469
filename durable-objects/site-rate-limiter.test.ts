import { describe, expect, it } from "vitest";
import { SiteRateLimiter, type RateLimits } from "./site-rate-limiter";
import { TokenBucket } from "./token-bucket";

describe("TokenBucket", () => {
  const limit = { perSecond: 2, burst: 3 };

  it("starts full, empties, then refills at the rate", () => {
    const bucket = new TokenBucket(limit, 0);
    for (let i = 0; i < 3; i++) {
      expect(bucket.secondsUntilToken(limit, 0)).toBe(0);
      bucket.take(limit, 0);
    }
    expect(bucket.secondsUntilToken(limit, 0)).toBeCloseTo(0.5);
    expect(bucket.secondsUntilToken(limit, 250)).toBeCloseTo(0.25);
    expect(bucket.secondsUntilToken(limit, 500)).toBe(0);
    expect(bucket.isFull(limit, 500)).toBe(false);
    expect(bucket.isFull(limit, 1500)).toBe(true);
  });

  it("never holds more than the burst, however long it was idle", () => {
    const bucket = new TokenBucket(limit, 0);
    expect(bucket.available(limit, 3_600_000)).toBe(3);
  });

  it("ignores a clock that goes backwards", () => {
    const bucket = new TokenBucket(limit, 1000);
    bucket.take(limit, 1000);
    expect(bucket.available(limit, 0)).toBe(2);
  });
});

describe("SiteRateLimiter", () => {
  const clientOnly: RateLimits = { site: null, client: { perSecond: 1, burst: 2 } };

  it("limits each client on its own", () => {
    const limiter = new SiteRateLimiter();
    expect(limiter.check("a", clientOnly, 0)).toEqual({ allowed: true });
    expect(limiter.check("a", clientOnly, 0)).toEqual({ allowed: true });
    expect(limiter.check("a", clientOnly, 0)).toEqual({ allowed: false, scope: "client", retryAfterSeconds: 1 });
    expect(limiter.check("b", clientOnly, 0)).toEqual({ allowed: true });
    expect(limiter.check("a", clientOnly, 1000)).toEqual({ allowed: true });
  });

  it("limits the site across clients", () => {
    const limiter = new SiteRateLimiter();
    const limits: RateLimits = { site: { perSecond: 10, burst: 3 }, client: { perSecond: 1, burst: 2 } };
    expect(limiter.check("a", limits, 0).allowed).toBe(true);
    expect(limiter.check("b", limits, 0).allowed).toBe(true);
    expect(limiter.check("c", limits, 0).allowed).toBe(true);
    const refused = limiter.check("d", limits, 0);
    expect(refused).toMatchObject({ allowed: false, scope: "site" });
    expect(refused.allowed === false && refused.retryAfterSeconds).toBeCloseTo(0.1);
  });

  it("does not charge a client for a request the site refused", () => {
    const limiter = new SiteRateLimiter();
    const limits: RateLimits = { site: { perSecond: 1, burst: 1 }, client: { perSecond: 1, burst: 1 } };
    expect(limiter.check("a", limits, 0).allowed).toBe(true);
    expect(limiter.check("b", limits, 0)).toMatchObject({ allowed: false, scope: "site" });
    // b was refused by the site, so its own bucket is still full once the site refills.
    expect(limiter.check("b", limits, 1000).allowed).toBe(true);
  });

  it("passes everything when both limits are off", () => {
    const limiter = new SiteRateLimiter();
    for (let i = 0; i < 1000; i++) expect(limiter.check("a", { site: null, client: null }, 0).allowed).toBe(true);
    expect(limiter.trackedClients).toBe(0);
  });

  it("keeps the client map bounded, dropping the least recently seen client", () => {
    const limiter = new SiteRateLimiter(10);
    limiter.check("busy", clientOnly, 0);
    limiter.check("busy", clientOnly, 0);
    // 100 one-off clients pass by while "busy" keeps knocking with an empty bucket.
    for (let i = 0; i < 100; i++) {
      limiter.check(`once-${i}`, clientOnly, 10 * i);
      expect(limiter.check("busy", clientOnly, 10 * i).allowed).toBe(false);
      expect(limiter.trackedClients).toBeLessThanOrEqual(10);
    }
  });

  it("drops refilled buckets before any other", () => {
    const limiter = new SiteRateLimiter(10);
    for (let i = 0; i < 10; i++) limiter.check(`early-${i}`, clientOnly, 0);
    // Ten seconds later every early bucket is full again: all of them go, none is needed.
    limiter.check("late", clientOnly, 10_000);
    expect(limiter.trackedClients).toBe(1);
  });
});
