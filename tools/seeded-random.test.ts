import { describe, expect, it } from "vitest";
import { SeededRandom, ZipfDistribution } from "./seeded-random";

describe("SeededRandom", () => {
  it("repeats its sequence for the same seed and differs for another", () => {
    const draw = (seed: number) => {
      const random = new SeededRandom(seed);
      return Array.from({ length: 5 }, () => random.uint32());
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });

  it("draws uniform values in [0, 1) and integers within bounds", () => {
    const random = new SeededRandom(1);
    let sum = 0;
    let min = 1;
    let max = 0;
    const integers = new Set<number>();
    for (let index = 0; index < 20_000; index++) {
      const value = random.next();
      min = Math.min(min, value);
      max = Math.max(max, value);
      sum += value;
      integers.add(random.int(3, 5));
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect([...integers].sort()).toEqual([3, 4, 5]);
    expect(sum / 20_000).toBeCloseTo(0.5, 1);
  });

  it("gives geometric, exponential and log-normal draws their defining statistics", () => {
    const random = new SeededRandom(2);
    const n = 20_000;
    let geometric = 0;
    let exponential = 0;
    const logNormal: number[] = [];
    let fewestTrials = Infinity;
    for (let index = 0; index < n; index++) {
      const trials = random.geometric(0.2);
      fewestTrials = Math.min(fewestTrials, trials);
      geometric += trials;
      exponential += random.exponential(50);
      logNormal.push(random.logNormal(1000, 0.5));
    }
    expect(fewestTrials).toBe(1);
    expect(geometric / n).toBeGreaterThan(4.8);
    expect(geometric / n).toBeLessThan(5.2);
    expect(exponential / n).toBeGreaterThan(48);
    expect(exponential / n).toBeLessThan(52);
    logNormal.sort((a, b) => a - b);
    const median = logNormal[n / 2] ?? 0;
    expect(median).toBeGreaterThan(970);
    expect(median).toBeLessThan(1030);
  });

  it("picks by weight", () => {
    const random = new SeededRandom(3);
    const counts = { a: 0, b: 0 };
    for (let index = 0; index < 10_000; index++)
      counts[
        random.weighted([
          ["a", 3],
          ["b", 1],
        ] as const)
      ]++;
    expect(counts.a / 10_000).toBeGreaterThan(0.72);
    expect(counts.a / 10_000).toBeLessThan(0.78);
  });
});

describe("ZipfDistribution", () => {
  it("makes rank 0 the most popular and follows 1/k^s", () => {
    const zipf = new ZipfDistribution(100, 1);
    expect(zipf.probability(0) / zipf.probability(1)).toBeCloseTo(2, 5);
    expect(zipf.probability(0) / zipf.probability(9)).toBeCloseTo(10, 5);
    const random = new SeededRandom(4);
    const counts = new Array<number>(100).fill(0);
    const n = 50_000;
    for (let index = 0; index < n; index++) {
      const rank = zipf.sample(random);
      counts[rank] = (counts[rank] ?? 0) + 1;
    }
    expect(counts).toHaveLength(100);
    expect((counts[0] ?? 0) / n).toBeCloseTo(zipf.probability(0), 2);
    expect(counts[0]).toBeGreaterThan((counts[1] ?? 0) * 1.6);
    expect(counts[1]).toBeGreaterThan(counts[50] ?? 0);
  });
});
