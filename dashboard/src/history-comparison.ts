/**
 * Period comparison: the same request again for a shifted range. "Previous period" steps back
 * by the range's own calendar step (last month → the month before, whatever its length);
 * "same period last year" by twelve months, on the wall clock of the site's zone.
 */
import type { TimeRange } from "./range-presets";
import { shiftWallClock } from "./zoned-time";

export const COMPARISON_MODES = {
  off: "No comparison",
  previous: "Previous period",
  year: "Same period last year",
} as const;
export type ComparisonMode = keyof typeof COMPARISON_MODES;

export function isComparisonMode(value: string): value is ComparisonMode {
  return Object.hasOwn(COMPARISON_MODES, value);
}

export function comparisonRange(range: TimeRange, mode: ComparisonMode, zone: string): TimeRange | null {
  if (mode === "off") return null;
  const step = mode === "year" ? { months: 12 } : range.step;
  const back = { months: -(step.months ?? 0), days: -(step.days ?? 0), ms: -(step.ms ?? 0) };
  return {
    from: shiftWallClock(range.from, zone, back),
    to: shiftWallClock(range.to, zone, back),
    step: range.step,
  };
}
