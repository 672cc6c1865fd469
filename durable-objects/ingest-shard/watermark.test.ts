import { describe, expect, it } from "vitest";
import { isWindowSealedBy, wallClockSealTime, watermarkOf, windowStartOf } from "./watermark";

const windowMs = 10_000;
const latenessMs = 5_000;

describe("watermark", () => {
  it("is the max event time minus the allowed lateness while events flow", () => {
    const now = 1_000_000;
    expect(watermarkOf({ maxEventTs: now - 1_000, now, windowMs, latenessMs })).toBe(now - 1_000 - latenessMs);
  });

  it("follows the wall clock (minus lateness and one window) when events stop", () => {
    const now = 1_000_000;
    expect(watermarkOf({ maxEventTs: now - 60_000, now, windowMs, latenessMs })).toBe(now - latenessMs - windowMs);
    expect(watermarkOf({ maxEventTs: null, now, windowMs, latenessMs })).toBe(now - latenessMs - windowMs);
  });

  it("does not let a future-dated event move it past the wall clock", () => {
    const now = 1_000_000;
    expect(watermarkOf({ maxEventTs: now + 240_000, now, windowMs, latenessMs })).toBe(now - latenessMs);
  });
});

describe("tumbling windows", () => {
  it("puts an event in the window starting at the multiple of the window length below it", () => {
    expect(windowStartOf(0, windowMs)).toBe(0);
    expect(windowStartOf(9_999, windowMs)).toBe(0);
    expect(windowStartOf(10_000, windowMs)).toBe(10_000);
    expect(windowStartOf(1_732_350_001_234, windowMs)).toBe(1_732_350_000_000);
  });

  it("seals a window exactly when the watermark reaches its exclusive end", () => {
    expect(isWindowSealedBy(10_000, windowMs, 19_999)).toBe(false);
    expect(isWindowSealedBy(10_000, windowMs, 20_000)).toBe(true);
  });

  it("seals a quiet window WINDOW + LATENESS after its end by the wall clock", () => {
    const start = 100_000;
    const sealAt = wallClockSealTime(start, windowMs, latenessMs);
    expect(sealAt).toBe(start + windowMs + windowMs + latenessMs);
    expect(
      isWindowSealedBy(start, windowMs, watermarkOf({ maxEventTs: start + 1, now: sealAt - 1, windowMs, latenessMs })),
    ).toBe(false);
    expect(
      isWindowSealedBy(start, windowMs, watermarkOf({ maxEventTs: start + 1, now: sealAt, windowMs, latenessMs })),
    ).toBe(true);
  });
});
