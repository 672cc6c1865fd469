import { describe, expect, it } from "vitest";
import { dateValue, fromWallClock, shiftWallClock, startOfDay, startOfMonth, wallClock } from "./zoned-time";

const at = (iso: string) => Date.parse(iso);

describe("zoned time", () => {
  it("reads and writes the wall clock of a zone east of UTC", () => {
    const ms = at("2026-03-31T20:30:00Z");
    expect(wallClock(ms, "Asia/Tokyo")).toMatchObject({ year: 2026, month: 4, day: 1, hour: 5, minute: 30 });
    expect(startOfDay(ms, "Asia/Tokyo")).toBe(at("2026-03-31T15:00:00Z"));
    expect(startOfMonth(ms, "Asia/Tokyo")).toBe(at("2026-03-31T15:00:00Z"));
    expect(dateValue(ms, "Asia/Tokyo")).toBe("2026-04-01");
  });

  it("keeps midnight across the October DST change in Berlin (a 25-hour day)", () => {
    const sunday = fromWallClock(
      { year: 2026, month: 10, day: 25, hour: 0, minute: 0, second: 0, millisecond: 0 },
      "Europe/Berlin",
    );
    expect(sunday).toBe(at("2026-10-24T22:00:00Z"));
    const monday = shiftWallClock(sunday, "Europe/Berlin", { days: 1 });
    expect(monday).toBe(at("2026-10-25T23:00:00Z"));
    expect(monday - sunday).toBe(25 * 3600_000);
  });

  it("clamps the day when stepping months (31 March back one month is 28 February)", () => {
    const march31 = at("2026-03-31T10:00:00Z");
    expect(shiftWallClock(march31, "UTC", { months: -1 })).toBe(at("2026-02-28T10:00:00Z"));
    expect(shiftWallClock(at("2026-01-15T00:00:00Z"), "UTC", { months: -12 })).toBe(at("2025-01-15T00:00:00Z"));
    expect(shiftWallClock(at("2026-01-15T00:00:00Z"), "UTC", { months: -1 })).toBe(at("2025-12-15T00:00:00Z"));
  });
});
