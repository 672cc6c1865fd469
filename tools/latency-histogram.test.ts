import { describe, expect, it } from "vitest";
import { LatencyHistogram } from "./latency-histogram";
import { SeededRandom } from "./seeded-random";

function exactQuantile(sorted: number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? 0;
}

describe("LatencyHistogram", () => {
  it("reports quantiles within 1 % of the exact ones over six orders of magnitude", () => {
    const random = new SeededRandom(9);
    const histogram = new LatencyHistogram();
    const values: number[] = [];
    for (let index = 0; index < 50_000; index++) {
      const value = random.logNormal(5, 2.5); // ms: from microseconds to minutes
      values.push(value);
      histogram.record(value);
    }
    values.sort((a, b) => a - b);
    for (const q of [0.01, 0.1, 0.5, 0.9, 0.99, 0.999]) {
      const exact = exactQuantile(values, q);
      // Below 256 µs buckets are 1 µs wide, so the bound there is absolute.
      expect(Math.abs(histogram.quantile(q) - exact)).toBeLessThanOrEqual(Math.max(exact * 0.01, 0.001));
    }
    expect(histogram.count).toBe(50_000);
    expect(histogram.max).toBe(values.at(-1));
    expect(histogram.mean).toBeCloseTo(values.reduce((sum, value) => sum + value, 0) / values.length, 6);
  });

  it("merges by adding samples, and is empty-safe", () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    expect(a.quantile(0.5)).toBe(0);
    for (let ms = 1; ms <= 100; ms++) (ms <= 50 ? a : b).record(ms);
    a.merge(b);
    expect(a.count).toBe(100);
    expect(a.quantile(0.5)).toBeCloseTo(50, 0);
    expect(a.quantile(0.99)).toBeCloseTo(99, 0);
    expect(a.summary().max).toBe(100);
  });

  it("ignores values that are not latencies", () => {
    const histogram = new LatencyHistogram();
    histogram.record(Number.NaN);
    histogram.record(-1);
    histogram.record(Infinity);
    expect(histogram.count).toBe(0);
  });
});
