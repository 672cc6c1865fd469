import { describe, expect, it } from "vitest";
import { compareBatches } from "./exactness";

describe("compareBatches", () => {
  it("counts a batch exact only with one row per acknowledged event, each event once", () => {
    const acknowledged = new Map([
      ["b1", 20],
      ["b2", 3],
      ["b3", 5],
      ["b4", 2],
      ["b5", 7],
    ]);
    const result = compareBatches(acknowledged, [
      { batch: "b1", rows: 20, distinctEvents: 20 },
      // Stored twice: as many rows as a doubled batch of half the size would have, but repeated ids.
      { batch: "b2", rows: 6, distinctEvents: 3 },
      // Same count, but one event twice and one missing.
      { batch: "b3", rows: 5, distinctEvents: 4 },
      { batch: "b5", rows: 6, distinctEvents: 6 },
      { batch: "stray", rows: 1, distinctEvents: 1 },
    ]);
    expect(result).toMatchObject({ exact: 1, wrong: 3, missing: 1, unacknowledged: 1 });
    expect(result.examples).toContain("b4: missing (2 events acknowledged)");
    expect(result.examples).toContain("stray: 1 rows, never acknowledged");
    expect(result.examples).toContain("b2: 6 rows, 3 distinct events, 3 acknowledged");
  });

  it("finds nothing wrong when ClickHouse holds exactly what was acknowledged", () => {
    const acknowledged = new Map([
      ["a", 1],
      ["b", 2],
    ]);
    const result = compareBatches(acknowledged, [
      { batch: "b", rows: 2, distinctEvents: 2 },
      { batch: "a", rows: 1, distinctEvents: 1 },
    ]);
    expect(result).toEqual({ exact: 2, wrong: 0, missing: 0, storedAfterFailure: 0, unacknowledged: 0, examples: [] });
  });

  it("accepts a failed batch stored exactly once (a timeout hid its 202) but not one stored twice", () => {
    const failed = new Map([
      ["timed-out", 4],
      ["doubled", 3],
    ]);
    const result = compareBatches(
      new Map([["ok", 1]]),
      [
        { batch: "ok", rows: 1, distinctEvents: 1 },
        { batch: "timed-out", rows: 4, distinctEvents: 4 },
        { batch: "doubled", rows: 6, distinctEvents: 3 },
      ],
      failed,
    );
    expect(result).toMatchObject({ exact: 1, storedAfterFailure: 1, unacknowledged: 1, wrong: 0, missing: 0 });
  });

  it("keeps only the first few examples however many batches are wrong", () => {
    const acknowledged = new Map(Array.from({ length: 50 }, (_, index) => [`m${index}`, 1] as const));
    const result = compareBatches(acknowledged, []);
    expect(result.missing).toBe(50);
    expect(result.examples).toHaveLength(10);
  });
});
