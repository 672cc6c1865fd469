import { describe, expect, it } from "vitest";
import { insertBisecting, type SequencedRow } from "./insert-bisection";

class DataError extends Error {}

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
