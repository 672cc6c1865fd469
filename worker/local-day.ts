/**
 * The site's current day: its local date and the instants its local midnights fall on, DST
 * included (Europe/Berlin's last Sunday of October lasts 25 hours). "Today" of the filtered
 * live answer is this day, as history's day buckets are (history-time-zone.ts).
 */
import { utcOffsetMinutes } from "./history-time-zone";

export interface LocalDay {
  /** `YYYY-MM-DD` in the zone. */
  day: string;
  /** ms of the local midnight that starts the day, and of the next one (exclusive end). */
  start: number;
  end: number;
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** The zone's calendar date at `ms`, as [year, month (1–12), day]. */
function localDate(timeZone: string, ms: number): [number, number, number] {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).formatToParts(ms);
  const part = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((entry) => entry.type === type)?.value);
  return [part("year"), part("month"), part("day")];
}

/**
 * The instant of local midnight starting the date (y, m, d) in `timeZone`. The offset is taken
 * at the guess and then at the corrected guess, which settles it across a DST change (no zone
 * changes its offset at midnight twice in a few hours).
 */
function localMidnight(timeZone: string, year: number, month: number, day: number): number {
  const wall = Date.UTC(year, month - 1, day);
  let guess = wall - utcOffsetMinutes(timeZone, wall) * MINUTE_MS;
  guess = wall - utcOffsetMinutes(timeZone, guess) * MINUTE_MS;
  return guess;
}

export function localDayAt(timeZone: string, ms: number): LocalDay {
  const [year, month, day] = localDate(timeZone, ms);
  const start = localMidnight(timeZone, year, month, day);
  const next = new Date(Date.UTC(year, month - 1, day) + DAY_MS);
  const end = localMidnight(timeZone, next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate());
  const pad = (value: number) => String(value).padStart(2, "0");
  return { day: `${year}-${pad(month)}-${pad(day)}`, start, end };
}
