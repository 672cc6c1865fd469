import { describe, expect, it } from "vitest";
import { customRange, presetRange, rangeDates } from "./range-presets";

const at = (iso: string) => Date.parse(iso);

describe("history ranges", () => {
  it("rolling presets end just after now and span their length", () => {
    const range = presetRange("24h", 1_750_000_000_500, "UTC");
    expect(range.to).toBe(1_750_000_002_000);
    expect(range.to - range.from).toBe(24 * 3600_000);
  });

  it("today, yesterday, 7 and 30 days start at midnight in the site's zone", () => {
    const now = at("2026-12-06T04:30:00Z");
    // Tokyo is at 13:30 on 6 December.
    expect(presetRange("today", now, "Asia/Tokyo").from).toBe(at("2026-12-05T15:00:00Z"));
    const yesterday = presetRange("yesterday", now, "Asia/Tokyo");
    expect([yesterday.from, yesterday.to]).toEqual([at("2026-12-04T15:00:00Z"), at("2026-12-05T15:00:00Z")]);
    expect(presetRange("7d", now, "UTC").from).toBe(at("2026-11-30T00:00:00Z"));
    expect(presetRange("30d", now, "UTC").from).toBe(at("2026-11-07T00:00:00Z"));
  });

  it("yesterday is 25 hours long on the day DST ends in Berlin", () => {
    const range = presetRange("yesterday", at("2026-10-26T09:00:00Z"), "Europe/Berlin");
    expect(range.to - range.from).toBe(25 * 3600_000);
  });

  it("month to date and last month follow month boundaries, including across a year", () => {
    const now = at("2026-01-10T12:00:00Z");
    expect(presetRange("mtd", now, "UTC").from).toBe(at("2026-01-01T00:00:00Z"));
    const last = presetRange("last-month", now, "UTC");
    expect([last.from, last.to]).toEqual([at("2025-12-01T00:00:00Z"), at("2026-01-01T00:00:00Z")]);
    const march = presetRange("last-month", at("2026-03-01T00:30:00Z"), "Europe/Berlin");
    // 1 March 00:30 UTC is 01:30 in Berlin: last month is February (CET, UTC+1).
    expect([march.from, march.to]).toEqual([at("2026-01-31T23:00:00Z"), at("2026-02-28T23:00:00Z")]);
    const year = presetRange("12mo", now, "UTC");
    expect(year.from).toBe(at("2025-01-11T00:00:00Z"));
  });

  it("custom ranges are whole days, inclusive, and must be complete and ordered", () => {
    expect(customRange("", "2026-01-01", "UTC")).toMatch(/both/);
    expect(customRange("2026-02-30", "2026-03-01", "UTC")).toMatch(/both/);
    expect(customRange("2026-01-02", "2026-01-01", "UTC")).toMatch(/before/);
    const range = customRange("2026-01-01", "2026-01-31", "Asia/Tokyo");
    if (typeof range === "string") throw new Error(range);
    expect([range.from, range.to]).toEqual([at("2025-12-31T15:00:00Z"), at("2026-01-31T15:00:00Z")]);
    expect(range.step).toEqual({ days: 31 });
    expect(rangeDates(range, "Asia/Tokyo")).toEqual({ from: "2026-01-01", to: "2026-01-31" });
  });
});
