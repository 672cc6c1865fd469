/**
 * `GET /v1/history/{timeseries,pages,referrers,countries,devices,products,funnel,sessions,vitals}`
 * `?site&from&to&interval&limit`: the batch layer, answered from ClickHouse with the constant,
 * parameterised queries of history-queries.ts. Every row ClickHouse returns is parsed with its
 * protocol schema (protocol/history.ts), so the dashboard gets exactly the documented shape.
 */
import { Hono, type Context } from "hono";
import { z } from "zod";
import { ClickHouseError, createClickHouse, type ClickHouse } from "../../clickhouse/client";
import { funnelWithRates } from "../../durable-objects/funnel";
import {
  type HistoryResource,
  historyCountryRowSchema,
  historyDeviceRowSchema,
  historyPageRowSchema,
  historyProductRowSchema,
  historyReferrerRowSchema,
  historyResourceSchema,
  historyVitalRowSchema,
  timeseriesPointSchema,
} from "../../protocol/history";
import type { AppEnv } from "../app-env";
import { requestToken, requireReadAccess } from "../auth";
import { ApiError } from "../errors";
import {
  type HistoryQuery,
  type HistoryQueryRange,
  countriesQuery,
  devicesQuery,
  funnelQuery,
  pagesQuery,
  productsQuery,
  referrersQuery,
  sessionsQuery,
  timeseriesVisitorsQuery,
  timeseriesWindowsQuery,
  vitalsQuery,
} from "../history-queries";
import { historyParamsSchema, resolveHistoryRange } from "../history-range";
import { requireClickHouse } from "../production-checks";
import { requireSite } from "../site-directory";

/** Bounds every history query on the server, whatever the range. */
const HISTORY_QUERY_SETTINGS = { readonly: 1, max_execution_time: 20, max_result_rows: 200_000, result_overflow_mode: "throw" } as const;

const count = z.coerce.number().int().min(0);
const funnelRowSchema = z.object({ sessions: count, product_views: count, cart_adds: count, checkouts: count, purchases: count });
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

async function rows<T>(clickhouse: ClickHouse, query: HistoryQuery, schema: z.ZodType<T>): Promise<T[]> {
  let result: unknown[];
  try {
    result = await clickhouse.query<unknown>(query.sql, query.params, HISTORY_QUERY_SETTINGS);
  } catch (error) {
    if (error instanceof ClickHouseError && error.retryable) throw new ApiError(503, "unavailable", "ClickHouse is not reachable; try again shortly", undefined, 5);
    throw error;
  }
  const parsed = z.array(schema).safeParse(result);
  if (!parsed.success) throw new Error(`history query answered an unexpected shape: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

type Answer = Record<string, unknown>;

async function timeseries(clickhouse: ClickHouse, range: HistoryQueryRange, windowSeconds: number): Promise<Answer> {
  const points = await rows(clickhouse, timeseriesWindowsQuery(range), timeseriesPointSchema);
  // Summed window visitors are exact only for window-sized buckets; larger ones count distinct visitors in events.
  if (range.interval !== windowSeconds) {
    const visitors = new Map((await rows(clickhouse, timeseriesVisitorsQuery(range), visitorsRowSchema)).map((row) => [row.start, row.visitors]));
    for (const point of points) point.visitors = visitors.get(point.start) ?? 0;
  }
  return { window_seconds: windowSeconds, points };
}

const answers: Record<HistoryResource, (clickhouse: ClickHouse, range: HistoryQueryRange, windowSeconds: number) => Promise<Answer>> = {
  timeseries,
  pages: async (clickhouse, range) => ({ rows: await rows(clickhouse, pagesQuery(range), historyPageRowSchema) }),
  referrers: async (clickhouse, range) => ({ rows: await rows(clickhouse, referrersQuery(range), historyReferrerRowSchema) }),
  countries: async (clickhouse, range) => ({ rows: await rows(clickhouse, countriesQuery(range), historyCountryRowSchema) }),
  devices: async (clickhouse, range) => ({ rows: await rows(clickhouse, devicesQuery(range), historyDeviceRowSchema) }),
  products: async (clickhouse, range) => ({ rows: await rows(clickhouse, productsQuery(range), historyProductRowSchema) }),
  vitals: async (clickhouse, range) => ({ rows: await rows(clickhouse, vitalsQuery(range), historyVitalRowSchema) }),
  funnel: async (clickhouse, range) => {
    const [steps] = await rows(clickhouse, funnelQuery(range), funnelRowSchema);
    return { funnel: funnelWithRates(steps ?? { sessions: 0, product_views: 0, cart_adds: 0, checkouts: 0, purchases: 0 }) };
  },
  sessions: async (clickhouse, range) => {
    const [row] = await rows(clickhouse, sessionsQuery(range), sessionsRowSchema);
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

async function answer(c: Context<AppEnv>): Promise<Response> {
  const resource = historyResourceSchema.safeParse(c.req.param("resource"));
  if (!resource.success) throw new ApiError(404, "not_found", `no history resource "${c.req.param("resource")}"; one of ${historyResourceSchema.options.join(", ")}`);
  if (requestToken(c) === null) throw new ApiError(401, "unauthorized", "a read token is required (Authorization: Bearer <token>)");
  const params = historyParamsSchema.safeParse(c.req.query());
  if (!params.success) throw ApiError.fromZod(params.error, "invalid query");
  await requireReadAccess(c, params.data.site);
  const config = c.get("config");
  await requireSite(c, params.data.site);
  requireClickHouse(config);
  const range = resolveHistoryRange(params.data, Date.now(), config.windowSeconds);
  if (Array.isArray(range)) throw ApiError.invalidPayload("invalid range", range);
  const body = await answers[resource.data](createClickHouse(config.clickhouse), range, config.windowSeconds);
  return c.json({ site: range.site, from: range.from, to: range.to, interval: range.interval, ...body });
}

export const historyRoutes = new Hono<AppEnv>();

historyRoutes.get("/:resource", answer);
