import { describe, expect, it } from "vitest";
import {
  dedupToken,
  FIRST_BACKOFF_MS,
  FLUSH_MAX_AGE_MS,
  FLUSH_MIN_ENTRIES,
  FLUSH_QUIET_MS,
  flushDueAt,
  flushPolicy,
  insertBisecting,
  MAX_BACKOFF_MS,
  nextBackoffMs,
  rangeKey,
  type PendingSummary,
  type SequencedRow,
} from "./flush-plan";

class DataError extends Error {}

describe("dedup tokens", () => {
  it("derive only from site, shard, storage epoch, table and the rows' range", () => {
    const scope = { site: "shop", shard: 3, epoch: "a1b2" };
    expect(dedupToken(scope, "events", rangeKey(101, 5100))).toBe("shop:3:a1b2:events:101-5100");
    expect(dedupToken(scope, "events", rangeKey(101, 5100))).toBe(
      dedupToken({ ...scope }, "events", rangeKey(101, 5100)),
    );
    expect(dedupToken({ ...scope, epoch: "ffff" }, "events", rangeKey(101, 5100))).not.toBe(
      dedupToken(scope, "events", rangeKey(101, 5100)),
    );
  });
});

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

describe("insertBisecting", () => {
  const rows = (count: number): SequencedRow<string>[] =>
    Array.from({ length: count }, (_, index) => ({ seq: 10 + index, row: `row-${10 + index}` }));

  /** An "insert" that refuses any call containing a poisoned row, like ClickHouse refusing a block. */
  function harness(poisoned: Set<string>) {
    const landed: string[] = [];
    const tokens: string[] = [];
    const refused: number[] = [];
    const inserted: number[] = [];
    const run = (input: SequencedRow<string>[]) =>
      insertBisecting(input, {
        async insert(batch, token) {
          tokens.push(token);
          if (batch.some((row) => poisoned.has(row))) throw new DataError("Cannot parse input");
          landed.push(...batch);
        },
        tokenOf: (first, last) => `t:${first}-${last}`,
        isRetryable: (error) => !(error instanceof DataError),
        onInserted: (done) => inserted.push(...done.map((entry) => entry.seq)),
        async onRefused(entry) {
          refused.push(entry.seq);
        },
      });
    return { run, landed, tokens, refused, inserted };
  }

  it("inserts a clean chunk once under the token of its range", async () => {
    const h = harness(new Set());
    await h.run(rows(5));
    expect(h.tokens).toEqual(["t:10-14"]);
    expect(h.inserted).toEqual([10, 11, 12, 13, 14]);
  });

  it("isolates refused rows by bisection and lands every other row exactly once", async () => {
    const h = harness(new Set(["row-13", "row-27"]));
    await h.run(rows(20));
    expect(h.refused).toEqual([13, 27]);
    expect(h.landed).toHaveLength(18);
    expect(new Set(h.landed).size).toBe(18);
    expect(h.inserted.sort((a, b) => a - b)).toEqual(
      rows(20)
        .map((entry) => entry.seq)
        .filter((seq) => seq !== 13 && seq !== 27),
    );
    // Every token names a distinct range.
    expect(new Set(h.tokens).size).toBe(h.tokens.length);
  });

  it("rethrows a retryable failure without touching the rows", async () => {
    const inserted: number[] = [];
    await expect(
      insertBisecting(rows(4), {
        insert: async () => {
          throw new Error("connect ECONNREFUSED");
        },
        tokenOf: (first, last) => `${first}-${last}`,
        isRetryable: () => true,
        onInserted: (done) => inserted.push(...done.map((entry) => entry.seq)),
        onRefused: async () => undefined,
      }),
    ).rejects.toThrow("ECONNREFUSED");
    expect(inserted).toEqual([]);
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
