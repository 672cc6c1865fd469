import { describe, expect, it } from "vitest";
import {
  FIRST_BACKOFF_MS,
  FLUSH_MAX_AGE_MS,
  FLUSH_MIN_ENTRIES,
  FLUSH_QUIET_MS,
  flushDueAt,
  flushPolicy,
  MAX_BACKOFF_MS,
  nextBackoffMs,
  type PendingSummary,
} from "./flush-schedule";

describe("backoff", () => {
  it("doubles from 1 s up to a 60 s cap", () => {
    const delays: number[] = [];
    let delay = 0;
    for (let attempt = 0; attempt < 9; attempt++) delays.push((delay = nextBackoffMs(delay)));
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
    expect(delays[0]).toBe(FIRST_BACKOFF_MS);
    expect(Math.max(...delays)).toBe(MAX_BACKOFF_MS);
  });
});

describe("flushDueAt", () => {
  const policy = flushPolicy(10_000);
  const pending = (values: Partial<PendingSummary>): PendingSummary => ({
    largestQueue: 10,
    windowSealed: false,
    oldestStoredAt: 1_000,
    newestStoredAt: 1_500,
    ...values,
  });

  it("is null with nothing pending, and due at once for a full queue or a window sealed on time", () => {
    expect(flushDueAt(pending({ oldestStoredAt: null, newestStoredAt: null, largestQueue: 0 }), policy)).toBeNull();
    expect(flushDueAt(pending({ largestQueue: FLUSH_MIN_ENTRIES }), policy)).toBe(Number.NEGATIVE_INFINITY);
    expect(flushDueAt(pending({ windowSealed: true }), policy)).toBe(Number.NEGATIVE_INFINITY);
  });

  it("otherwise waits for the oldest entry's age or a quiet spell, whichever comes first", () => {
    // Traffic keeps coming: the oldest entry's age decides.
    expect(flushDueAt(pending({ oldestStoredAt: 1_000, newestStoredAt: 2_900 }), policy)).toBe(
      1_000 + FLUSH_MAX_AGE_MS,
    );
    // Traffic paused: a quiet spell decides.
    expect(flushDueAt(pending({ oldestStoredAt: 1_000, newestStoredAt: 1_200 }), policy)).toBe(1_200 + FLUSH_QUIET_MS);
  });

  it("never holds an event longer than one window", () => {
    expect(flushPolicy(1_000).maxAgeMs).toBe(1_000);
    expect(flushPolicy(60_000).maxAgeMs).toBe(FLUSH_MAX_AGE_MS);
  });
});
