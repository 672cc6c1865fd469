/**
 * The history chart's series: ClickHouse answers only buckets that have data, the chart wants
 * every bucket of the range (zeros included), so its time axis spans the chosen range.
 */
import type { TimeseriesPoint } from "../../protocol/history";

export interface HistorySeries {
  /** Bucket starts in seconds (uPlot's x unit), oldest first. */
  x: number[];
  pageViews: number[];
  visitors: number[];
}

/**
 * Buckets aligned as the answer's are: to the epoch, or (a site east or west of UTC with day
 * buckets) to the first point's phase. A point goes to the nearest bucket, so a day bucket that
 * a DST change moved by an hour still lands on its day. At most `maxBuckets` (the newest).
 */
export function fillBuckets(
  points: readonly TimeseriesPoint[],
  from: number,
  to: number,
  intervalSeconds: number,
  maxBuckets = 2000,
): HistorySeries {
  const step = intervalSeconds * 1000;
  const phase = points.length > 0 ? (((points[0]?.start ?? 0) % step) + step) % step : 0;
  const align = (ms: number) => Math.floor((ms - phase) / step) * step + phase;
  const last = align(to - 1);
  const first = Math.max(align(from), last - (maxBuckets - 1) * step);
  const count = Math.round((last - first) / step) + 1;
  const series: HistorySeries = {
    x: Array.from({ length: count }, (_, index) => (first + index * step) / 1000),
    pageViews: new Array<number>(count).fill(0),
    visitors: new Array<number>(count).fill(0),
  };
  for (const point of points) {
    const index = Math.round((point.start - first) / step);
    if (index < 0 || index >= count) continue;
    series.pageViews[index] = (series.pageViews[index] ?? 0) + point.page_views;
    series.visitors[index] = (series.visitors[index] ?? 0) + point.visitors;
  }
  return series;
}

/** "minute", "hour", "day" for the usual buckets, else the length in seconds. */
export function intervalName(seconds: number): string {
  const names: Record<number, string> = {
    60: "minute",
    300: "5 minutes",
    900: "15 minutes",
    1800: "30 minutes",
    3600: "hour",
    86400: "day",
    604800: "week",
  };
  return names[seconds] ?? (seconds % 3600 === 0 ? `${seconds / 3600} hours` : `${seconds} s`);
}
