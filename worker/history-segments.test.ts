import { describe, expect, it } from "vitest";
import { planRollupSegments, type RollupSegments, type TimeSpan } from "./history-segments";

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const T = Date.UTC(2025, 2, 3);

/** Every ms of [from, to) covered exactly once, and rollup spans aligned to their grain. */
function expectPartition(plan: RollupSegments, from: number, to: number): void {
  const spans: TimeSpan[] = [...plan.raw, ...plan.rollups.flatMap((rollup) => rollup.spans)].filter(
    (span) => span.from < span.to,
  );
  spans.sort((a, b) => a.from - b.from);
  let at = from;
  for (const span of spans) {
    expect(span.from).toBe(at);
    at = span.to;
  }
  expect(at).toBe(to);
  for (const rollup of plan.rollups) {
    for (const span of rollup.spans) {
      if (span.from < span.to) {
        expect(span.from % (rollup.grainSeconds * 1000)).toBe(0);
        expect(span.to % (rollup.grainSeconds * 1000)).toBe(0);
      }
    }
  }
}

describe("planRollupSegments", () => {
  it("answers whole days from the day rollup, the hours around them hourly and only the edges raw", () => {
    const from = T - 5 * HOUR - 1234;
    const to = T + 3 * DAY + 2 * HOUR + 17;
    const plan = planRollupSegments(from, to, [3600, 86400]);
    expect(plan.rollups[1]?.spans[0]).toEqual({ from: T, to: T + 3 * DAY });
    expect(plan.rollups[0]?.spans).toEqual([
      { from: T - 5 * HOUR, to: T },
      { from: T + 3 * DAY, to: T + 3 * DAY + 2 * HOUR },
    ]);
    expect(plan.raw).toEqual([
      { from, to: T - 5 * HOUR },
      { from: T + 3 * DAY + 2 * HOUR, to },
    ]);
    expectPartition(plan, from, to);
  });

  it("leaves a range shorter than a grain to the raw rows", () => {
    const plan = planRollupSegments(T + 10, T + HOUR - 10, [3600, 86400]);
    expect(plan.raw[0]).toEqual({ from: T + 10, to: T + HOUR - 10 });
    expectPartition(plan, T + 10, T + HOUR - 10);
  });

  it("partitions any range over any grains", () => {
    for (let seed = 1; seed < 400; seed++) {
      const from = T + ((seed * 7_919_993) % (5 * DAY));
      const to = from + ((seed * 104_729_111) % (40 * DAY)) + 1;
      expectPartition(planRollupSegments(from, to, [60, 3600, 86400]), from, to);
      expectPartition(planRollupSegments(from, to, [86400]), from, to);
      expectPartition(planRollupSegments(from, to, []), from, to);
    }
  });
});
