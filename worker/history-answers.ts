/**
 * The answer of each `GET /v1/history/*` resource, built from the queries of
 * history-queries.ts and parsed row by row with its protocol schema (protocol/history.ts), so
 * the dashboard gets exactly the documented shape. Free of the HTTP layer, so the Node suite
 * (test/history/rollups.test.ts) asks the same questions the route does.
 */
import { z } from "zod";
import type { ClickHouse } from "../clickhouse/client";
import { funnelWithRates } from "../durable-objects/shared/funnel";
import {
  type HistoryResource,
  historyCountryRowSchema,
  historyDeviceRowSchema,
  historyPageRowSchema,
  historyProductRowSchema,
  historyReferrerRowSchema,
  historyVitalRowSchema,
  timeseriesPointSchema,
} from "../protocol/history";
import {
  type HistoryQuery,
  type HistoryQueryRange,
  countriesQuery,
  devicesQuery,
  filteredTimeseriesQuery,
  funnelQuery,
  hasFilters,
  pagesQuery,
  productsQuery,
  referrersQuery,
  sessionsQuery,
  timeseriesVisitorsQuery,
  timeseriesWindowsQuery,
  vitalsQuery,
} from "./history-queries";

/** Bounds every history query on the server, whatever the range. */
export const HISTORY_QUERY_SETTINGS = {
  readonly: 1,
  max_execution_time: 20,
  max_result_rows: 200_000,
  result_overflow_mode: "throw",
} as const;

const count = z.coerce.number().int().min(0);
/** The funnel query's one row (worker/history-queries.ts funnelQuery), for history and the filtered live answer. */
export const funnelRowSchema = z.object({
  sessions: count,
  product_views: count,
  cart_adds: count,
  checkouts: count,
  purchases: count,
});
const sessionsRowSchema = z.object({
  sessions: count,
  avg_duration_seconds: z.coerce.number(),
  median_duration_seconds: z.coerce.number(),
  bounce_rate: z.coerce.number(),
  pages_per_session: z.coerce.number(),
  abandoned_sessions: count,
  abandoned_value: z.coerce.number(),
});
const visitorsRowSchema = z.object({ start: z.coerce.number().int(), visitors: count });

/** A row ClickHouse answered that its schema refuses: a bug here, not bad input. */
export class HistoryShapeError extends Error {
  override name = "HistoryShapeError";
}

/** Runs one history query under HISTORY_QUERY_SETTINGS and parses every row with `schema`. */
export async function queryRows<T>(clickhouse: ClickHouse, query: HistoryQuery, schema: z.ZodType<T>): Promise<T[]> {
  const result = await clickhouse.query<unknown>(query.sql, query.params, HISTORY_QUERY_SETTINGS);
  const parsed = z.array(schema).safeParse(result);
  if (!parsed.success)
    throw new HistoryShapeError(`history query answered an unexpected shape: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export type HistoryAnswer = Record<string, unknown>;

async function timeseries(
  clickhouse: ClickHouse,
  range: HistoryQueryRange,
  windowSeconds: number,
): Promise<HistoryAnswer> {
  if (hasFilters(range))
    return {
      window_seconds: windowSeconds,
      points: await queryRows(clickhouse, filteredTimeseriesQuery(range), timeseriesPointSchema),
    };
  // Summed window visitors are exact only for window-sized buckets; larger ones merge distinct-visitor states.
  const [points, visitorRows] = await Promise.all([
    queryRows(clickhouse, timeseriesWindowsQuery(range), timeseriesPointSchema),
    range.interval === windowSeconds
      ? Promise.resolve(null)
      : queryRows(clickhouse, timeseriesVisitorsQuery(range), visitorsRowSchema),
  ]);
  if (visitorRows !== null) {
    const visitors = new Map(visitorRows.map((row) => [row.start, row.visitors]));
    for (const point of points) point.visitors = visitors.get(point.start) ?? 0;
  }
  return { window_seconds: windowSeconds, points };
}

export const historyAnswers: Record<
  HistoryResource,
  (clickhouse: ClickHouse, range: HistoryQueryRange, windowSeconds: number) => Promise<HistoryAnswer>
> = {
  timeseries,
  pages: async (clickhouse, range) => ({ rows: await queryRows(clickhouse, pagesQuery(range), historyPageRowSchema) }),
  referrers: async (clickhouse, range) => ({
    rows: await queryRows(clickhouse, referrersQuery(range), historyReferrerRowSchema),
  }),
  countries: async (clickhouse, range) => ({
    rows: await queryRows(clickhouse, countriesQuery(range), historyCountryRowSchema),
  }),
  devices: async (clickhouse, range) => ({
    rows: await queryRows(clickhouse, devicesQuery(range), historyDeviceRowSchema),
  }),
  products: async (clickhouse, range) => ({
    rows: await queryRows(clickhouse, productsQuery(range), historyProductRowSchema),
  }),
  vitals: async (clickhouse, range) => ({
    rows: await queryRows(clickhouse, vitalsQuery(range), historyVitalRowSchema),
  }),
  funnel: async (clickhouse, range) => {
    const [steps] = await queryRows(clickhouse, funnelQuery(range), funnelRowSchema);
    return {
      funnel: funnelWithRates(steps ?? { sessions: 0, product_views: 0, cart_adds: 0, checkouts: 0, purchases: 0 }),
    };
  },
  sessions: async (clickhouse, range) => {
    const [row] = await queryRows(clickhouse, sessionsQuery(range), sessionsRowSchema);
    return {
      sessions: row?.sessions ?? 0,
      avg_duration_seconds: row?.avg_duration_seconds ?? 0,
      median_duration_seconds: row?.median_duration_seconds ?? 0,
      bounce_rate: row?.bounce_rate ?? 0,
      pages_per_session: row?.pages_per_session ?? 0,
      abandoned_carts: { sessions: row?.abandoned_sessions ?? 0, value: row?.abandoned_value ?? 0 },
    };
  },
};
