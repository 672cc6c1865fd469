import { describe, expect, it } from "vitest";
import { grainsForZone, isDayInterval, utcOffsetMinutes } from "./history-time-zone";

const OCT_26_2025 = Date.UTC(2025, 9, 26, 12);

describe("history time zones", () => {
  it("reads offsets, DST included", () => {
    expect(utcOffsetMinutes("UTC", OCT_26_2025)).toBe(0);
    expect(utcOffsetMinutes("Europe/Berlin", Date.UTC(2025, 9, 25, 12))).toBe(120);
    expect(utcOffsetMinutes("Europe/Berlin", OCT_26_2025)).toBe(60);
    expect(utcOffsetMinutes("Asia/Tokyo", OCT_26_2025)).toBe(540);
    expect(utcOffsetMinutes("Asia/Kolkata", OCT_26_2025)).toBe(330);
    expect(utcOffsetMinutes("America/St_Johns", OCT_26_2025)).toBe(-150);
  });

  it("keeps only the rollup grains whose periods fit in one local day", () => {
    const grains = [60, 3600, 86400];
    expect(grainsForZone(grains, 86400, "UTC", 0, OCT_26_2025)).toEqual(grains);
    expect(grainsForZone(grains, 3600, "Europe/Berlin", 0, OCT_26_2025)).toEqual(grains);
    expect(grainsForZone(grains, 86400, "Europe/Berlin", 0, OCT_26_2025)).toEqual([60, 3600]);
    expect(grainsForZone(grains, 7 * 86400, "Asia/Tokyo", 0, OCT_26_2025)).toEqual([60, 3600]);
    expect(grainsForZone(grains, 86400, "Asia/Kolkata", 0, OCT_26_2025)).toEqual([60]);
  });

  it("treats whole days, and only whole days, as day intervals", () => {
    expect([3600, 86400, 90000, 7 * 86400].map(isDayInterval)).toEqual([false, true, false, true]);
  });
});
