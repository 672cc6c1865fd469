import { describe, expect, it } from "vitest";
import { rateVital } from "./vitals-rating";

describe("rateVital", () => {
  it.each([
    ["LCP", 2500, "good"],
    ["LCP", 2501, "needs-improvement"],
    ["LCP", 4001, "poor"],
    ["INP", 200, "good"],
    ["INP", 500, "needs-improvement"],
    ["INP", 501, "poor"],
    ["CLS", 0.1, "good"],
    ["CLS", 0.2, "needs-improvement"],
    ["CLS", 0.26, "poor"],
  ] as const)("%s %d is %s", (metric, value, rating) => {
    expect(rateVital(metric, value)).toBe(rating);
  });
});
