import { describe, expect, it } from "vitest";
import { customRange, presetRange } from "./history-range";

describe("history ranges", () => {
  it("presets end just after now and span their length", () => {
    const range = presetRange("24h", 1_750_000_000_500);
    expect(range.to).toBe(1_750_000_002_000);
    expect(range.to - range.from).toBe(24 * 3600_000);
  });

  it("custom ranges must be complete and ordered", () => {
    expect(customRange("", "2025-01-01T10:00")).toMatch(/both/);
    expect(customRange("2025-01-02T10:00", "2025-01-01T10:00")).toMatch(/after/);
    const range = customRange("2025-01-01T10:00", "2025-01-01T11:00");
    expect(typeof range === "object" && range.to - range.from).toBe(3600_000);
  });
});
