/**
 * `GET /v1/live/filtered?site&filter…&limit`: the Live tab's figures for filtered traffic,
 * answered from freshly flushed `events` in ClickHouse (live-filtered-answer.ts), because the
 * speed layer sums shards' state per site and keeps nothing per dimension value. The same
 * filters, refusals and tenant scoping as `/v1/history/*` (history-request.ts): a read token
 * for the site, every value a query parameter, each query bound to `site`.
 */
import { Hono } from "hono";
import { z } from "zod";
import { createClickHouse } from "../../clickhouse/client";
import { flushPolicy } from "../../durable-objects/ingest-shard/flush-schedule";
import { siteKeySchema } from "../../protocol";
import { DEFAULT_LIVE_FILTERED_LIMIT, MAX_LIVE_FILTERED_LIMIT } from "../../protocol/live-filtered";
import type { AppEnv } from "../app-env";
import { requestToken, requireReadAccess } from "../auth";
import { ApiError } from "../errors";
import { whileClickHouseAnswers } from "../history-request";
import { parseHistoryFilters } from "../history-range";
import { liveFilteredAnswer } from "../live-filtered-answer";
import { requireClickHouse } from "../production-checks";
import { requireSite } from "../site-directory";

const liveFilteredQuerySchema = z.object({
  site: siteKeySchema,
  limit: z.coerce.number().int().min(1).max(MAX_LIVE_FILTERED_LIMIT).default(DEFAULT_LIVE_FILTERED_LIMIT),
});

export const liveFilteredRoutes = new Hono<AppEnv>();

liveFilteredRoutes.get("/", async (c) => {
  if (requestToken(c) === null)
    throw new ApiError(401, "unauthorized", "a read token is required (Authorization: Bearer <token>)");
  const query = liveFilteredQuerySchema.safeParse(c.req.query());
  if (!query.success) throw ApiError.fromZod(query.error, "invalid query");
  const { filters, issues } = parseHistoryFilters(c.req.queries("filter") ?? []);
  if (issues.length > 0) throw ApiError.invalidPayload(`invalid filter: ${issues[0]?.message ?? ""}`, issues);
  await requireReadAccess(c, query.data.site);
  const site = await requireSite(c, query.data.site);
  const config = c.get("config");
  requireClickHouse(config);
  const answer = await whileClickHouseAnswers(() =>
    liveFilteredAnswer(createClickHouse(config.clickhouse), {
      site: site.key,
      filters,
      timeZone: site.time_zone,
      windowSeconds: config.windowSeconds,
      limit: query.data.limit,
      now: Date.now(),
      flushMaxAgeMs: flushPolicy(config.windowSeconds * 1000).maxAgeMs,
    }),
  );
  // Polled every few seconds: a cache between here and the dashboard would only add staleness.
  c.header("Cache-Control", "no-store");
  return c.json(answer);
});
