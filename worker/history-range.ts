/**
 * The query parameters every `/v1/history/*` route takes, validated and bounded:
 * `site`, `from` / `to` (ms since the epoch or ISO 8601; default the last 24 hours, `to`
 * exclusive), `interval` (bucket seconds; chosen when absent; from one day up, whole days,
 * which start at the site's local midnight), `limit` (top-list rows) and the repeated
 * `filter` (protocol/history-filters.ts).
 */
import { z } from "zod";
import { siteKeySchema } from "../protocol";
import {
  DEFAULT_HISTORY_LIMIT,
  MAX_HISTORY_LIMIT,
  MAX_HISTORY_RANGE_MS,
  MAX_TIMESERIES_POINTS,
} from "../protocol/history";
import { type HistoryFilter, MAX_HISTORY_FILTERS, parseHistoryFilter } from "../protocol/history-filters";
import type { HistoryQueryRange } from "./history-queries";
import { isDayInterval } from "./history-time-zone";

/** Bucket sizes tried, smallest first, when the request names none. */
const NICE_INTERVALS_SECONDS = [60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 7 * 86400];
/** About this many buckets make a readable chart. */
const TARGET_POINTS = 180;
const DEFAULT_RANGE_MS = 24 * 3600 * 1000;
/** Year 2000 to year 2200: a bound that keeps every timestamp a valid DateTime64. */
const MIN_TIME_MS = 946_684_800_000;
const MAX_TIME_MS = 7_258_118_400_000;

const timeSchema = z
  .string()
  .trim()
  .min(1)
  .transform((value, ctx) => {
    const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
    if (!Number.isFinite(ms) || ms < MIN_TIME_MS || ms > MAX_TIME_MS) {
      ctx.addIssue({ code: "custom", message: "must be ms since the epoch or an ISO 8601 time between 2000 and 2200" });
      return z.NEVER;
    }
    return ms;
  });

export const historyParamsSchema = z.object({
  site: siteKeySchema,
  from: timeSchema.optional(),
  to: timeSchema.optional(),
  interval: z.coerce
    .number()
    .int()
    .min(1)
    .max(31 * 86400)
    .optional(),
  limit: z.coerce.number().int().min(1).max(MAX_HISTORY_LIMIT).default(DEFAULT_HISTORY_LIMIT),
});
export type HistoryParams = z.infer<typeof historyParamsSchema>;

/** A problem with otherwise well-formed parameters, as `path: message`. */
export interface HistoryRangeIssue {
  path: string;
  message: string;
}

/** The smallest nice bucket (at least one window) that keeps the chart near TARGET_POINTS. */
export function chooseInterval(rangeMs: number, windowSeconds: number): number {
  const candidates = [
    windowSeconds,
    ...NICE_INTERVALS_SECONDS.filter((seconds) => seconds > windowSeconds && seconds % windowSeconds === 0),
  ];
  return (
    candidates.find((seconds) => rangeMs / (seconds * 1000) <= TARGET_POINTS) ?? candidates.at(-1) ?? windowSeconds
  );
}

/** The `filter` parameters, and one issue per refused one (path `filter.<index>`, the message quoting it). */
export function parseHistoryFilters(raw: readonly string[]): { filters: HistoryFilter[]; issues: HistoryRangeIssue[] } {
  const filters: HistoryFilter[] = [];
  const issues: HistoryRangeIssue[] = [];
  if (raw.length > MAX_HISTORY_FILTERS)
    return {
      filters,
      issues: [{ path: "filter", message: `at most ${MAX_HISTORY_FILTERS} filters; got ${raw.length}` }],
    };
  for (const [index, value] of raw.entries()) {
    const parsed = parseHistoryFilter(value);
    if (typeof parsed === "string")
      issues.push({ path: `filter.${index}`, message: `${JSON.stringify(value.slice(0, 100))}: ${parsed}` });
    else filters.push(parsed);
  }
  return { filters, issues };
}

/** Applies defaults and the bounds; returns the range or the issues to answer 400 with. */
export function resolveHistoryRange(
  params: HistoryParams,
  now: number,
  windowSeconds: number,
  filters: readonly HistoryFilter[] = [],
  timeZone = "UTC",
): HistoryQueryRange | HistoryRangeIssue[] {
  const to = params.to ?? now;
  const from = params.from ?? to - DEFAULT_RANGE_MS;
  const issues: HistoryRangeIssue[] = [];
  if (from >= to) issues.push({ path: "from", message: "must be before to" });
  if (to - from > MAX_HISTORY_RANGE_MS)
    issues.push({ path: "from", message: `the range may cover at most ${MAX_HISTORY_RANGE_MS / 86_400_000} days` });
  const interval = params.interval ?? chooseInterval(to - from, windowSeconds);
  if (interval > 86400 && !isDayInterval(interval))
    issues.push({ path: "interval", message: "from one day up, must be a whole number of days (a multiple of 86400)" });
  if ((to - from) / (interval * 1000) > MAX_TIMESERIES_POINTS) {
    issues.push({
      path: "interval",
      message: `gives more than ${MAX_TIMESERIES_POINTS} buckets for this range; choose a larger one`,
    });
  }
  if (issues.length > 0) return issues;
  return { site: params.site, from, to, interval, limit: params.limit, filters, timeZone };
}
