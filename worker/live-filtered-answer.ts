/**
 * The filtered live answer (protocol/live-filtered.ts), free of the HTTP layer: the windows,
 * totals and visitors online of live-filtered-queries.ts, and today's funnel, abandoned
 * carts, top lists and Web Vitals from history's own queries over the site's local day, with
 * session attributes read from the sessions' events (`sessionAttributesFrom: "events"`).
 */
import { z } from "zod";
import type { ClickHouse } from "../clickhouse/client";
import { funnelWithRates } from "../durable-objects/shared/funnel";
import { emptyMetricCounts } from "../durable-objects/shared/metric-counts";
import {
  historyPageRowSchema,
  historyProductRowSchema,
  historyReferrerRowSchema,
  historyVitalRowSchema,
} from "../protocol/history";
import { formatHistoryFilter, type HistoryFilter } from "../protocol/history-filters";
import { METRIC_COUNT_NAMES, type MetricCountName, type MetricCounts, type WindowMetrics } from "../protocol/live";
import { LIVE_FILTERED_WINDOWS, LIVE_ONLINE_SPAN_MS, type LiveFilteredAnswer } from "../protocol/live-filtered";
import { funnelRowSchema, queryRows } from "./history-answers";
import {
  funnelQuery,
  type HistoryQueryRange,
  pagesQuery,
  productsQuery,
  referrersQuery,
  sessionsQuery,
  vitalsQuery,
} from "./history-queries";
import { liveOnlineQuery, liveTotalsQuery, liveWindowsQuery } from "./live-filtered-queries";
import { localDayAt } from "./local-day";

export interface LiveFilteredRequest {
  site: string;
  filters: readonly HistoryFilter[];
  timeZone: string;
  windowSeconds: number;
  /** Rows of each top list. */
  limit: number;
  /** ms; the answer's `at`. */
  now: number;
  flushMaxAgeMs: number;
}

const count = z.coerce.number().int().min(0);
/** A row of counters as ClickHouse answers them (numbers may come as strings), one per METRIC_COUNT_NAMES. */
const countsRowSchema = z.object({
  ...(Object.fromEntries(METRIC_COUNT_NAMES.map((name) => [name, count])) as Record<MetricCountName, typeof count>),
  revenue: z.coerce.number(),
  revenue_by_currency: z.record(z.string(), z.coerce.number()),
});
const windowRowSchema = countsRowSchema.extend({ start: z.coerce.number().int() });
const onlineRowSchema = z.object({ online: count });
const abandonedRowSchema = z.object({ abandoned_sessions: count, abandoned_value: z.coerce.number() });

/** Drops the currency "" that non-purchase rows would never add but an empty map key could. */
function counts(row: z.infer<typeof countsRowSchema> | undefined): MetricCounts {
  if (row === undefined) return emptyMetricCounts();
  const byCurrency = Object.fromEntries(
    Object.entries(row.revenue_by_currency).filter(([currency]) => currency !== ""),
  );
  return { ...row, revenue_by_currency: byCurrency };
}

export async function liveFilteredAnswer(
  clickhouse: ClickHouse,
  request: LiveFilteredRequest,
): Promise<LiveFilteredAnswer> {
  const { site, filters, now } = request;
  const day = localDayAt(request.timeZone, now);
  const step = request.windowSeconds * 1000;
  const newest = Math.floor(now / step) * step;
  const windowsSpan = { from: newest - (LIVE_FILTERED_WINDOWS - 1) * step, to: newest + step };
  const today: HistoryQueryRange = {
    site,
    from: day.start,
    to: day.end,
    interval: 86_400,
    limit: request.limit,
    filters,
    timeZone: request.timeZone,
    sessionAttributesFrom: "events",
  };
  const [windowRows, totalsRows, onlineRows, funnelRows, abandonedRows, pages, referrers, products, vitals] =
    await Promise.all([
      queryRows(clickhouse, liveWindowsQuery(site, filters, windowsSpan, request.windowSeconds), windowRowSchema),
      queryRows(clickhouse, liveTotalsQuery(site, filters, { from: day.start, to: day.end }), countsRowSchema),
      queryRows(
        clickhouse,
        liveOnlineQuery(site, filters, { from: now - LIVE_ONLINE_SPAN_MS, to: newest + step }),
        onlineRowSchema,
      ),
      queryRows(clickhouse, funnelQuery(today), funnelRowSchema),
      queryRows(clickhouse, sessionsQuery(today), abandonedRowSchema),
      queryRows(clickhouse, pagesQuery(today), historyPageRowSchema),
      queryRows(clickhouse, referrersQuery(today), historyReferrerRowSchema),
      queryRows(clickhouse, productsQuery(today), historyProductRowSchema),
      queryRows(clickhouse, vitalsQuery(today), historyVitalRowSchema),
    ]);
  const windows: WindowMetrics[] = windowRows
    .slice(0, LIVE_FILTERED_WINDOWS)
    .map(({ start, ...row }) => ({ start, end: start + step, ...counts(row) }));
  const totals = counts(totalsRows[0]);
  const online = onlineRows[0]?.online ?? 0;
  const abandoned = abandonedRows[0];
  return {
    site,
    at: now,
    source: "clickhouse",
    flush_max_age_ms: request.flushMaxAgeMs,
    filters: filters.map(formatHistoryFilter),
    window_seconds: request.windowSeconds,
    time_zone: request.timeZone,
    windows,
    totals,
    online,
    overview: {
      site,
      day: day.day,
      online,
      totals,
      funnel: funnelWithRates(
        funnelRows[0] ?? { sessions: 0, product_views: 0, cart_adds: 0, checkouts: 0, purchases: 0 },
      ),
      abandoned_carts: { sessions: abandoned?.abandoned_sessions ?? 0, value: abandoned?.abandoned_value ?? 0 },
      top_pages: pages.map((row) => ({ path: row.path, views: row.views })),
      top_referrers: referrers.map((row) => ({ host: row.host, visits: row.visits })),
      top_products: products,
    },
    performance: { site, day: day.day, relative_error: 0.01, pages: vitalsByPage(vitals, request.limit) },
  };
}

/** History's rows (page, metric) grouped per page as the feed's performance, at most `limit` pages. */
function vitalsByPage(
  rows: readonly z.infer<typeof historyVitalRowSchema>[],
  limit: number,
): LiveFilteredAnswer["performance"]["pages"] {
  const byPath = new Map<string, LiveFilteredAnswer["performance"]["pages"][number]>();
  for (const row of rows) {
    const page = byPath.get(row.path) ?? { path: row.path, vitals: {} };
    page.vitals[row.metric] = { p75: row.p75, count: row.count };
    byPath.set(row.path, page);
  }
  return [...byPath.values()].slice(0, limit);
}
