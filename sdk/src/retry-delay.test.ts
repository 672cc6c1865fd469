import { describe, expect, it } from "vitest";
import { MAX_RETRY_DELAY_MS, retryDelay } from "./retry-delay";

describe("retryDelay", () => {
  it("doubles from 1 s with half of each step random, up to a minute", () => {
    const lowest = [0, 1, 2, 3, 4, 5, 6, 7, 10].map((attempt) => retryDelay(attempt, null, 0));
    const highest = [0, 1, 2, 3, 4, 5, 6, 7, 10].map((attempt) => retryDelay(attempt, null, 1));
    expect(lowest).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
    expect(highest).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000]);
    expect(retryDelay(3, null, 0.5)).toBe(6000);
  });

  it("uses real randomness by default, within the step", () => {
    const delays = Array.from({ length: 50 }, () => retryDelay(2));
    for (const delay of delays) expect(delay).toBeGreaterThanOrEqual(2000), expect(delay).toBeLessThanOrEqual(4000);
    expect(new Set(delays).size).toBeGreaterThan(1);
  });

  it("never retries earlier than Retry-After asks, and still spreads clients out", () => {
    expect(retryDelay(0, "30", 0)).toBe(30_000);
    expect(retryDelay(0, "30", 1)).toBe(30_500);
    expect(retryDelay(0, "1", 0)).toBe(1000);
    // A short Retry-After does not cut the backoff a long failure streak has earned.
    expect(retryDelay(6, "1", 0)).toBe(30_000);
    expect(MAX_RETRY_DELAY_MS).toBe(60_000);
  });

  it("ignores a Retry-After it cannot read (an HTTP date, garbage) and falls back to backoff", () => {
    expect(retryDelay(1, "Wed, 21 Oct 2015 07:28:00 GMT", 0)).toBe(1000);
    expect(retryDelay(1, "", 0)).toBe(1000);
    expect(retryDelay(1, undefined, 0)).toBe(1000);
  });
});
