import { describe, expect, it } from "vitest";
import { comparisonRange } from "./history-comparison";
import { customRange, presetRange } from "./range-presets";

const at = (iso: string) => Date.parse(iso);

describe("comparison ranges", () => {
  it("is absent when off", () => {
    expect(comparisonRange(presetRange("7d", Date.now(), "UTC"), "off", "UTC")).toBeNull();
  });

  it("steps a rolling range back by its length", () => {
    const range = presetRange("1h", at("2026-12-06T04:30:00Z"), "UTC");
    const previous = comparisonRange(range, "previous", "UTC");
    expect(previous?.to).toBe(range.from);
    expect(previous && previous.to - previous.from).toBe(3600_000);
  });

  it("compares last month with the month before, whatever their lengths", () => {
    const march = presetRange("last-month", at("2026-03-15T00:00:00Z"), "UTC");
    const january = comparisonRange(march, "previous", "UTC");
    expect([january?.from, january?.to]).toEqual([at("2026-01-01T00:00:00Z"), at("2026-02-01T00:00:00Z")]);
  });

  it("compares month to date with the same days of the previous month", () => {
    const range = presetRange("mtd", at("2026-12-06T04:30:00Z"), "UTC");
    const previous = comparisonRange(range, "previous", "UTC");
    expect(previous?.from).toBe(at("2026-11-01T00:00:00Z"));
    expect(previous?.to).toBe(range.to - 30 * 86_400_000);
  });

  it("compares a custom range of days with the days just before, across a DST change", () => {
    const range = customRange("2026-10-26", "2026-10-27", "Europe/Berlin");
    if (typeof range === "string") throw new Error(range);
    const previous = comparisonRange(range, "previous", "Europe/Berlin");
    // 24 and 25 October: the second one is 25 hours long.
    expect([previous?.from, previous?.to]).toEqual([at("2026-10-23T22:00:00Z"), at("2026-10-25T23:00:00Z")]);
  });

  it("compares with the same dates last year", () => {
    const range = presetRange("7d", at("2026-12-06T04:30:00Z"), "UTC");
    const year = comparisonRange(range, "year", "UTC");
    expect(year?.from).toBe(at("2025-11-30T00:00:00Z"));
    expect(year && year.to - year.from).toBe(range.to - range.from);
  });
});
