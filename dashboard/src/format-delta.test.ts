import { describe, expect, it } from "vitest";
import { formatDelta, formatRateDelta } from "./format-delta";

describe("deltas", () => {
  it("are relative changes with a sign and a direction", () => {
    expect(formatDelta(150, 100)).toEqual({ text: "+50%", direction: "up" });
    expect(formatDelta(75, 100)).toEqual({ text: "-25%", direction: "down" });
    expect(formatDelta(1001, 1000)).toEqual({ text: "+0.1%", direction: "up" });
    expect(formatDelta(10_001, 10_000)).toEqual({ text: "0%", direction: "flat" });
  });

  it("say new when the previous period had nothing", () => {
    expect(formatDelta(3, 0)).toEqual({ text: "new", direction: "up" });
    expect(formatDelta(0, 0)).toEqual({ text: "0%", direction: "flat" });
  });

  it("compare rates in percentage points", () => {
    expect(formatRateDelta(0.44, 0.4)).toEqual({ text: "+4 pp", direction: "up" });
    expect(formatRateDelta(0.3, 0.325)).toEqual({ text: "-2.5 pp", direction: "down" });
  });
});
