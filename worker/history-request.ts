/**
 * What every `GET /v1/history/*` route reads before it queries: a read token, the parameters
 * (history-range.ts) with their filters, access to the site, and the site's time zone. One
 * place, so every history route takes the same parameters and refuses the same way.
 */
import { type Context, Hono } from "hono";
import type { z } from "zod";
import { ClickHouseError, createClickHouse } from "../clickhouse/client";
import type { AppEnv } from "./app-env";
import { requestToken, requireReadAccess } from "./auth";
import { ApiError } from "./errors";
import { queryRows } from "./history-answers";
import type { HistoryQuery, HistoryQueryRange } from "./history-queries";
import { historyParamsSchema, parseHistoryFilters, resolveHistoryRange } from "./history-range";
import { requireClickHouse } from "./production-checks";
import { requireSite } from "./site-directory";

/** The range to query, with the site's filters and time zone; throws the 4xx to answer. */
export async function readHistoryRequest(c: Context<AppEnv>): Promise<HistoryQueryRange & { timeZone: string }> {
  if (requestToken(c) === null)
    throw new ApiError(401, "unauthorized", "a read token is required (Authorization: Bearer <token>)");
  const params = historyParamsSchema.safeParse(c.req.query());
  if (!params.success) throw ApiError.fromZod(params.error, "invalid query");
  const { filters, issues } = parseHistoryFilters(c.req.queries("filter") ?? []);
  if (issues.length > 0) throw ApiError.invalidPayload(`invalid filter: ${issues[0]?.message ?? ""}`, issues);
  await requireReadAccess(c, params.data.site);
  const config = c.get("config");
  const site = await requireSite(c, params.data.site);
  requireClickHouse(config);
  const range = resolveHistoryRange(params.data, Date.now(), config.windowSeconds, filters, site.time_zone);
  if (Array.isArray(range)) throw ApiError.invalidPayload("invalid range", range);
  return { ...range, timeZone: site.time_zone };
}

/** Runs the route's queries; a ClickHouse that cannot be reached is a 503 with Retry-After, not a 500. */
export async function whileClickHouseAnswers<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ClickHouseError && error.retryable)
      throw new ApiError(503, "unavailable", "ClickHouse is not reachable; try again shortly", undefined, 5);
    throw error;
  }
}

/** The answer: the range it covers (with the site's zone), then the route's own fields. */
export function historyJson(
  c: Context<AppEnv>,
  range: HistoryQueryRange & { timeZone: string },
  body: Record<string, unknown>,
): Response {
  return c.json({
    site: range.site,
    from: range.from,
    to: range.to,
    interval: range.interval,
    time_zone: range.timeZone,
    ...body,
  });
}

/** A history resource answered as `{ rows }`: its query and the schema each row parses with. */
export interface HistoryRowsResource {
  query: (range: HistoryQueryRange) => HistoryQuery;
  row: z.ZodType<Record<string, unknown>>;
}

/** A router with `GET /<resource>` for each resource, answering `{ ...range, rows }`. */
export function historyRowsRoutes(resources: Readonly<Record<string, HistoryRowsResource>>): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();
  for (const [resource, { query, row }] of Object.entries(resources))
    routes.get(`/${resource}`, async (c) => {
      const range = await readHistoryRequest(c);
      const clickhouse = createClickHouse(c.get("config").clickhouse);
      const rows = await whileClickHouseAnswers(() => queryRows(clickhouse, query(range), row));
      return historyJson(c, range, { rows });
    });
  return routes;
}
