/**
 * The history view's ranges: presets relative to now in the site's time zone (calendar days
 * and months, so "yesterday" is 23 h long on the day DST starts), or a custom range of whole
 * days. Each range carries the step that "compare to previous period" moves it back by.
 */
import { type CalendarStep, dateValue, fromWallClock, shiftWallClock, startOfDay, startOfMonth } from "./zoned-time";

export const RANGE_PRESETS = {
  "1h": { label: "Last hour" },
  "24h": { label: "Last 24 hours" },
  today: { label: "Today" },
  yesterday: { label: "Yesterday" },
  "7d": { label: "Last 7 days" },
  "30d": { label: "Last 30 days" },
  mtd: { label: "Month to date" },
  "last-month": { label: "Last month" },
  "12mo": { label: "Last 12 months" },
} as const;
export type RangePreset = keyof typeof RANGE_PRESETS;

export interface TimeRange {
  from: number;
  /** Exclusive. */
  to: number;
  /** The length of the period on the calendar: what a previous-period comparison steps back. */
  step: CalendarStep;
}

export function isRangePreset(value: string): value is RangePreset {
  return Object.hasOwn(RANGE_PRESETS, value);
}

const HOUR_MS = 3600_000;

/** Ranges that end now end just after it (next second, plus one) so the window being filled is included. */
export function presetRange(preset: RangePreset, now: number, zone: string): TimeRange {
  const end = Math.ceil(now / 1000) * 1000 + 1000;
  const today = startOfDay(now, zone);
  const thisMonth = startOfMonth(now, zone);
  const daysBack = (days: number) => shiftWallClock(today, zone, { days: -days });
  switch (preset) {
    case "1h":
      return { from: end - HOUR_MS, to: end, step: { ms: HOUR_MS } };
    case "24h":
      return { from: end - 24 * HOUR_MS, to: end, step: { ms: 24 * HOUR_MS } };
    case "today":
      return { from: today, to: end, step: { days: 1 } };
    case "yesterday":
      return { from: daysBack(1), to: today, step: { days: 1 } };
    case "7d":
      return { from: daysBack(6), to: end, step: { days: 7 } };
    case "30d":
      return { from: daysBack(29), to: end, step: { days: 30 } };
    case "mtd":
      return { from: thisMonth, to: end, step: { months: 1 } };
    case "last-month":
      return { from: shiftWallClock(thisMonth, zone, { months: -1 }), to: thisMonth, step: { months: 1 } };
    case "12mo":
      return { from: shiftWallClock(today, zone, { months: -12, days: 1 }), to: end, step: { months: 12 } };
  }
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function parseDate(value: string): { year: number; month: number; day: number } | null {
  const match = DATE.exec(value);
  if (match === null) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const check = new Date(Date.UTC(year, month - 1, day));
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return null;
  return { year, month, day };
}

/**
 * Whole days from `fromValue` to `toValue` inclusive (`YYYY-MM-DD`, as `<input type="date">`
 * gives them) in the zone. Returns an error message instead when a date is missing, invalid
 * or the two are out of order.
 */
export function customRange(fromValue: string, toValue: string, zone: string): TimeRange | string {
  const first = parseDate(fromValue);
  const last = parseDate(toValue);
  if (first === null || last === null) return "Enter both a start and an end date.";
  const days =
    (Date.UTC(last.year, last.month - 1, last.day) - Date.UTC(first.year, first.month - 1, first.day)) / 86_400_000 + 1;
  if (days < 1) return "The end date must not be before the start date.";
  const midnight = { hour: 0, minute: 0, second: 0, millisecond: 0 };
  const from = fromWallClock({ ...first, ...midnight }, zone);
  const to = shiftWallClock(fromWallClock({ ...last, ...midnight }, zone), zone, { days: 1 });
  return { from, to, step: { days } };
}

/** Start and last day of a range as date-input values (what "Custom" starts from). */
export function rangeDates(range: TimeRange, zone: string): { from: string; to: string } {
  return { from: dateValue(range.from, zone), to: dateValue(range.to - 1, zone) };
}
