/** The history view's range picker: presets relative to now, or a custom range in local time. */
export const RANGE_PRESETS = {
  "1h": { label: "Last hour", ms: 3600_000 },
  "24h": { label: "Last 24 hours", ms: 24 * 3600_000 },
  "7d": { label: "Last 7 days", ms: 7 * 24 * 3600_000 },
  "30d": { label: "Last 30 days", ms: 30 * 24 * 3600_000 },
} as const;
export type RangePreset = keyof typeof RANGE_PRESETS;

export interface TimeRange {
  from: number;
  to: number;
}

export function isRangePreset(value: string): value is RangePreset {
  return Object.hasOwn(RANGE_PRESETS, value);
}

/** `to` is rounded up to the next second so the window being filled now is included. */
export function presetRange(preset: RangePreset, now: number): TimeRange {
  const to = Math.ceil(now / 1000) * 1000 + 1000;
  return { from: to - RANGE_PRESETS[preset].ms, to };
}

/**
 * A custom range from two `<input type="datetime-local">` values (local time). Returns an
 * error message instead when the inputs are empty, unparseable or out of order.
 */
export function customRange(fromValue: string, toValue: string): TimeRange | string {
  const from = new Date(fromValue).getTime();
  const to = new Date(toValue).getTime();
  if (fromValue === "" || toValue === "" || Number.isNaN(from) || Number.isNaN(to))
    return "Enter both a start and an end.";
  if (to <= from) return "The end must be after the start.";
  return { from, to };
}

/** `datetime-local` input value for `ms` in local time (minute precision). */
export function toLocalInputValue(ms: number): string {
  const date = new Date(ms);
  const pad = (value: number) => String(value).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
