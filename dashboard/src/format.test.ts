import { describe, expect, it } from "vitest";
import { formatDuration, formatVital } from "./format";

describe("formats", () => {
  it("shows vitals in their unit and durations in words", () => {
    expect(formatVital("LCP", 1830.4)).toBe("1.83 s");
    expect(formatVital("INP", 180.2)).toBe("180 ms");
    expect(formatVital("CLS", 0.1234)).toBe("0.123");
    expect(formatDuration(42)).toBe("42 s");
    expect(formatDuration(125)).toBe("2 min 05 s");
    expect(formatDuration(7260)).toBe("2 h 01 min");
  });
});
