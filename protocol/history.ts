/**
 * History answers (`GET /v1/history/*`, from ClickHouse) and the SQL console (`POST /v1/sql`).
 * The Worker builds these and the dashboard validates them with the same schemas.
 *
 * Numbers arrive from ClickHouse as JSON numbers or, for 64-bit integers, as strings; the
 * Worker parses each row with these schemas (coercing), so the dashboard only sees numbers.
 */
import { z } from "zod";
import { siteKeySchema, vitalMetricSchema } from "./events";
import { funnelSchema } from "./live";

/** The `filter` parameter of every history route: its grammar, dimensions and limits. */
export * from "./history-filters";

/** Longest range one history request may cover. */
export const MAX_HISTORY_RANGE_MS = 400 * 24 * 3600 * 1000;
/** Most points a timeseries answer may have; a smaller interval than this allows is refused. */
export const MAX_TIMESERIES_POINTS = 2000;
/** Rows of a top list when `limit` is absent, and the most it may ask for. */
export const DEFAULT_HISTORY_LIMIT = 10;
export const MAX_HISTORY_LIMIT = 100;

/** Longest query the SQL console accepts, and the row / time limits every query runs under. */
export const MAX_SQL_QUERY_LENGTH = 10_000;
export const DEFAULT_SQL_MAX_ROWS = 1000;
export const MAX_SQL_MAX_ROWS = 10_000;
export const SQL_MAX_EXECUTION_SECONDS = 10;

export const historyResourceSchema = z.enum([
  "timeseries",
  "pages",
  "referrers",
  "countries",
  "devices",
  "products",
  "funnel",
  "sessions",
  "vitals",
]);
export type HistoryResource = z.infer<typeof historyResourceSchema>;

const count = z.coerce.number().int().min(0);
const amount = z.coerce.number();

/**
 * The range every history answer covers: ms since the epoch, `to` exclusive; interval in
 * seconds; the site's IANA time zone, in which buckets of whole days start at local midnight.
 * Every route also takes the repeated `filter` parameter (protocol/history-filters.ts).
 */
export const historyRangeSchema = z.object({
  site: siteKeySchema,
  from: z.number().int(),
  to: z.number().int(),
  interval: z.number().int().positive(),
  time_zone: z.string().default("UTC"),
});
export type HistoryRange = z.infer<typeof historyRangeSchema>;

export const timeseriesPointSchema = z.object({
  /** Bucket start, ms (a local midnight of the site's zone for buckets of whole days). */
  start: z.coerce.number().int(),
  events: count,
  page_views: count,
  /** Unique visitors in the bucket (for window-sized buckets exactly the live window's number). */
  visitors: count,
  sessions: count,
  bounces: count,
  cart_adds: count,
  checkouts: count,
  purchases: count,
  revenue: amount,
});
export type TimeseriesPoint = z.infer<typeof timeseriesPointSchema>;

export const historyTimeseriesSchema = historyRangeSchema.extend({
  window_seconds: z.number().int().positive(),
  /** Oldest first; buckets without data are absent. */
  points: z.array(timeseriesPointSchema).max(MAX_TIMESERIES_POINTS),
});
export type HistoryTimeseries = z.infer<typeof historyTimeseriesSchema>;

const rows = <T extends z.ZodType>(row: T) =>
  historyRangeSchema.extend({ rows: z.array(row).max(MAX_HISTORY_LIMIT * 3) });

export const historyPageRowSchema = z.object({ path: z.string(), views: count, visitors: count });
export const historyPagesSchema = rows(historyPageRowSchema);

export const historyReferrerRowSchema = z.object({ host: z.string(), visits: count, page_views: count });
export const historyReferrersSchema = rows(historyReferrerRowSchema);

export const historyCountryRowSchema = z.object({ country: z.string(), visitors: count, page_views: count });
export const historyCountriesSchema = rows(historyCountryRowSchema);

export const deviceDimensionSchema = z.enum(["device", "browser", "os"]);
export const historyDeviceRowSchema = z.object({
  dimension: deviceDimensionSchema,
  value: z.string(),
  visitors: count,
  page_views: count,
});
/** Up to `limit` rows per dimension. */
export const historyDevicesSchema = rows(historyDeviceRowSchema);

export const historyProductRowSchema = z.object({
  product_id: z.string(),
  name: z.string(),
  views: count,
  cart_adds: count,
  /** Units bought. */
  purchases: count,
  revenue: amount,
});
export const historyProductsSchema = rows(historyProductRowSchema);

export const historyFunnelSchema = historyRangeSchema.extend({ funnel: funnelSchema });

export const historySessionsSchema = historyRangeSchema.extend({
  /** Closed sessions that started in the range. */
  sessions: count,
  avg_duration_seconds: amount,
  median_duration_seconds: amount,
  /** Bounced sessions / sessions, 0..1. */
  bounce_rate: amount,
  pages_per_session: amount,
  abandoned_carts: z.object({ sessions: count, value: amount }),
});

export const historyVitalRowSchema = z.object({
  path: z.string(),
  metric: vitalMetricSchema,
  p50: amount,
  p75: amount,
  p95: amount,
  count: count,
});
export const historyVitalsSchema = rows(historyVitalRowSchema);

export type HistoryPageRow = z.infer<typeof historyPageRowSchema>;
export type HistoryReferrerRow = z.infer<typeof historyReferrerRowSchema>;
export type HistoryCountryRow = z.infer<typeof historyCountryRowSchema>;
export type HistoryDeviceRow = z.infer<typeof historyDeviceRowSchema>;
export type HistoryProductRow = z.infer<typeof historyProductRowSchema>;
export type HistoryVitalRow = z.infer<typeof historyVitalRowSchema>;
export type HistoryPages = z.infer<typeof historyPagesSchema>;
export type HistoryReferrers = z.infer<typeof historyReferrersSchema>;
export type HistoryCountries = z.infer<typeof historyCountriesSchema>;
export type HistoryDevices = z.infer<typeof historyDevicesSchema>;
export type HistoryProducts = z.infer<typeof historyProductsSchema>;
export type HistoryFunnel = z.infer<typeof historyFunnelSchema>;
export type HistorySessions = z.infer<typeof historySessionsSchema>;
export type HistoryVitals = z.infer<typeof historyVitalsSchema>;

/** `POST /v1/sql` body. */
export const sqlRequestSchema = z.object({
  site: siteKeySchema,
  // Kept as typed, not trimmed: a syntax error's line and column count the blank lines and
  // indent before the statement (worker/sql-guard.ts syntaxErrorInQuery).
  query: z
    .string()
    .max(MAX_SQL_QUERY_LENGTH)
    .refine((query) => query.trim() !== "", { message: "the query is empty" }),
  max_rows: z.number().int().min(1).max(MAX_SQL_MAX_ROWS).optional(),
});
export type SqlRequest = z.infer<typeof sqlRequestSchema>;

/** A cell as ClickHouse's JSON output gives it (64-bit integers and decimals may be strings). */
export type SqlCell = string | number | boolean | null | SqlCell[] | { [key: string]: SqlCell };
const sqlCellSchema: z.ZodType<SqlCell> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(sqlCellSchema), z.record(z.string(), sqlCellSchema)]),
);

export const sqlResponseSchema = z.object({
  site: siteKeySchema,
  columns: z.array(z.object({ name: z.string(), type: z.string() })),
  rows: z.array(z.array(sqlCellSchema)).max(MAX_SQL_MAX_ROWS),
  row_count: z.number().int().min(0),
  max_rows: z.number().int().min(1),
  elapsed_ms: z.number().min(0),
});
export type SqlResponse = z.infer<typeof sqlResponseSchema>;
