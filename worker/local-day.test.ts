import { describe, expect, it } from "vitest";
import { localDayAt } from "./local-day";

describe("localDayAt", () => {
  it("is the UTC day in UTC", () => {
    expect(localDayAt("UTC", Date.UTC(2026, 11, 6, 7, 30))).toEqual({
      day: "2026-12-06",
      start: Date.UTC(2026, 11, 6),
      end: Date.UTC(2026, 11, 7),
    });
  });

  it("starts at local midnight east of UTC, before the UTC date changes", () => {
    // 23:30 UTC on the 5th is 08:30 on the 6th in Tokyo.
    expect(localDayAt("Asia/Tokyo", Date.UTC(2026, 11, 5, 23, 30))).toEqual({
      day: "2026-12-06",
      start: Date.UTC(2026, 11, 5, 15),
      end: Date.UTC(2026, 11, 6, 15),
    });
    expect(localDayAt("Asia/Kolkata", Date.UTC(2026, 11, 6, 0, 0)).start).toBe(Date.UTC(2026, 11, 5, 18, 30));
  });

  it("is 25 hours long on Berlin's last Sunday of October and 23 on the last of March", () => {
    const autumn = localDayAt("Europe/Berlin", Date.UTC(2026, 9, 25, 12));
    expect(autumn).toEqual({ day: "2026-10-25", start: Date.UTC(2026, 9, 24, 22), end: Date.UTC(2026, 9, 25, 23) });
    const spring = localDayAt("Europe/Berlin", Date.UTC(2026, 2, 29, 12));
    expect(spring.end - spring.start).toBe(23 * 3600_000);
    expect(spring.start).toBe(Date.UTC(2026, 2, 28, 23));
  });

  it("holds the instant it was asked about", () => {
    for (const zone of ["UTC", "America/Los_Angeles", "Asia/Kathmandu", "Pacific/Kiritimati"]) {
      const at = Date.UTC(2026, 5, 1, 11, 59);
      const day = localDayAt(zone, at);
      expect(day.start).toBeLessThanOrEqual(at);
      expect(day.end).toBeGreaterThan(at);
    }
  });
});
