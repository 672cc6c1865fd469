/**
 * The dashboard's copy of the live feed. A snapshot replaces everything; an update carries
 * absolute values for the windows that changed, so it overwrites those windows by start
 * time. A missed message is therefore harmless: the next one is right again, and a
 * reconnect resynchronises from its snapshot.
 */
import type { LiveMessage, MetricCounts, Overview, Performance, WindowMetrics } from "../../protocol/live";

/** Windows kept for the chart; older ones are dropped so memory stays bounded. */
export const MAX_LIVE_WINDOWS = 90;
/** The span `eventsPerSecond` averages over. */
export const EVENT_RATE_SPAN_MS = 60_000;

export interface LiveView {
  site: string;
  /** Hub time of the latest message, ms. */
  at: number;
  windowSeconds: number;
  /** Newest first, at most MAX_LIVE_WINDOWS. */
  windows: readonly WindowMetrics[];
  totals: MetricCounts;
  online: number;
  overview: Overview;
  performance: Performance;
  /** The zone `overview.day` is a date in: absent for the feed (UTC), the site's for filtered figures. */
  timeZone?: string;
}

export class LiveState {
  private current: LiveView | null = null;
  private readonly windowsByStart = new Map<number, WindowMetrics>();

  apply(message: LiveMessage): LiveView {
    if (message.type === "snapshot" || this.current === null || this.current.site !== message.site)
      this.windowsByStart.clear();
    for (const window of message.windows) this.windowsByStart.set(window.start, window);
    const windows = [...this.windowsByStart.values()].sort((a, b) => b.start - a.start).slice(0, MAX_LIVE_WINDOWS);
    if (windows.length < this.windowsByStart.size) {
      this.windowsByStart.clear();
      for (const window of windows) this.windowsByStart.set(window.start, window);
    }
    this.current = {
      site: message.site,
      at: message.at,
      windowSeconds: message.window_seconds,
      windows,
      totals: message.totals,
      online: message.online,
      overview: message.overview,
      performance: message.performance,
    };
    return this.current;
  }

  /** Forget everything, e.g. when the site changes; the next snapshot starts afresh. */
  reset(): void {
    this.current = null;
    this.windowsByStart.clear();
  }

  view(): LiveView | null {
    return this.current;
  }
}

/** Events per second over the last minute of windows (the current, partial window included). */
export function eventsPerSecond(view: Pick<LiveView, "windows" | "at" | "windowSeconds">): number {
  const since = view.at - EVENT_RATE_SPAN_MS;
  const recent = view.windows.filter((window) => window.end > since && window.start <= view.at);
  if (recent.length === 0) return 0;
  const events = recent.reduce((sum, window) => sum + window.events, 0);
  const oldestStart = Math.max(since, Math.min(...recent.map((window) => window.start)));
  const seconds = Math.max(view.windowSeconds, (view.at - oldestStart) / 1000);
  return events / seconds;
}

export interface ChartSeries {
  /** Window starts in seconds (uPlot's x unit), oldest first, one per window without gaps. */
  x: number[];
  pageViews: number[];
  visitors: number[];
}

/**
 * The last `count` windows up to the one holding `at`, oldest first. Windows nobody was
 * active in are absent from the feed; they are zeros here so the chart's time axis is even.
 */
export function chartSeries(view: Pick<LiveView, "windows" | "at" | "windowSeconds">, count = 60): ChartSeries {
  const step = view.windowSeconds * 1000;
  const newestStart = Math.floor(view.at / step) * step;
  const byStart = new Map(view.windows.map((window) => [window.start, window]));
  const series: ChartSeries = { x: [], pageViews: [], visitors: [] };
  for (let index = count - 1; index >= 0; index--) {
    const start = newestStart - index * step;
    const window = byStart.get(start);
    series.x.push(start / 1000);
    series.pageViews.push(window?.page_views ?? 0);
    series.visitors.push(window?.visitors ?? 0);
  }
  return series;
}
