/**
 * Wall-clock arithmetic in an IANA time zone, for the history ranges: "today", "last month"
 * and "same period last year" are calendar notions of the site's zone, and a day there is 23
 * or 25 hours long across a DST change, so they cannot be fixed multiples of 24 h.
 */
export interface WallClock {
  year: number;
  /** 1..12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

/** A step on the calendar: months first (the day clamped to the target month), then days, then plain milliseconds. */
export interface CalendarStep {
  months?: number;
  days?: number;
  ms?: number;
}

const formats = new Map<string, Intl.DateTimeFormat>();

function partsFormat(zone: string): Intl.DateTimeFormat {
  let format = formats.get(zone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formats.set(zone, format);
  }
  return format;
}

/** True for a zone name this browser knows (`Europe/Berlin`, `UTC`). */
export function isTimeZone(zone: string): boolean {
  try {
    partsFormat(zone);
    return true;
  } catch {
    return false;
  }
}

export function wallClock(ms: number, zone: string): WallClock {
  const parts: Record<string, number> = {};
  for (const part of partsFormat(zone).formatToParts(ms))
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  return {
    year: parts.year ?? 1970,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
    millisecond: ((ms % 1000) + 1000) % 1000,
  };
}

function asUtc(clock: WallClock): number {
  return Date.UTC(clock.year, clock.month - 1, clock.day, clock.hour, clock.minute, clock.second, clock.millisecond);
}

/** How far the zone's wall clock is ahead of UTC at `ms`. */
function offsetAt(ms: number, zone: string): number {
  return asUtc(wallClock(ms, zone)) - ms;
}

/**
 * The instant the zone's clock shows `clock`. Two passes settle the offset on either side of a
 * DST change; a time skipped by a change resolves to the instant one offset later.
 */
export function fromWallClock(clock: WallClock, zone: string): number {
  const local = asUtc(clock);
  const guess = local - offsetAt(local, zone);
  return local - offsetAt(guess, zone);
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export function shiftWallClock(ms: number, zone: string, step: CalendarStep): number {
  const clock = wallClock(ms, zone);
  if (step.months) {
    const total = clock.year * 12 + (clock.month - 1) + step.months;
    clock.year = Math.floor(total / 12);
    clock.month = total - clock.year * 12 + 1;
    clock.day = Math.min(clock.day, daysInMonth(clock.year, clock.month));
  }
  if (step.days) {
    const date = new Date(Date.UTC(clock.year, clock.month - 1, clock.day + step.days));
    clock.year = date.getUTCFullYear();
    clock.month = date.getUTCMonth() + 1;
    clock.day = date.getUTCDate();
  }
  return fromWallClock(clock, zone) + (step.ms ?? 0);
}

export function startOfDay(ms: number, zone: string): number {
  return fromWallClock({ ...wallClock(ms, zone), hour: 0, minute: 0, second: 0, millisecond: 0 }, zone);
}

export function startOfMonth(ms: number, zone: string): number {
  return fromWallClock({ ...wallClock(ms, zone), day: 1, hour: 0, minute: 0, second: 0, millisecond: 0 }, zone);
}

/** `YYYY-MM-DD` of `ms` in the zone (a `<input type="date">` value). */
export function dateValue(ms: number, zone: string): string {
  const { year, month, day } = wallClock(ms, zone);
  const pad = (value: number) => String(value).padStart(2, "0");
  return `${year}-${pad(month)}-${pad(day)}`;
}

/** The browser's own zone, the default until an answer names the site's. */
export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}
