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

/** Buckets aligned to the epoch, as the Worker's queries align them; at most `maxBuckets` (the newest). */
export function fillBuckets(
  points: readonly TimeseriesPoint[],
  from: number,
  to: number,
  intervalSeconds: number,
  maxBuckets = 2000,
): HistorySeries {
  const step = intervalSeconds * 1000;
  const byStart = new Map(points.map((point) => [point.start, point]));
  const last = Math.floor((to - 1) / step) * step;
  const first = Math.max(Math.floor(from / step) * step, last - (maxBuckets - 1) * step);
  const series: HistorySeries = { x: [], pageViews: [], visitors: [] };
  for (let start = first; start <= last; start += step) {
    const point = byStart.get(start);
    series.x.push(start / 1000);
    series.pageViews.push(point?.page_views ?? 0);
    series.visitors.push(point?.visitors ?? 0);
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
