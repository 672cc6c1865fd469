import { describe, expect, it } from "vitest";
import { utcDay } from "./utc-day";

describe("utcDay", () => {
  it("names the UTC day, whatever the hour", () => {
    expect(utcDay(Date.UTC(2026, 10, 23, 23, 59, 59, 999))).toBe("2026-11-23");
    expect(utcDay(Date.UTC(2026, 10, 24))).toBe("2026-11-24");
    expect(utcDay(Date.UTC(2026, 0, 2, 23, 0))).toBe("2026-01-02");
  });
});
