/**
 * The speed layer over HTTP: the same numbers the live feed pushes, answered by the site's
 * LiveHub over RPC. Shapes are protocol/live.ts (WindowsResponse, Overview, Performance).
 *
 * - `GET /v1/metrics/windows?site&limit=N` — the latest N windows, newest first (1 ≤ N ≤ 360, default 60)
 * - `GET /v1/metrics/overview?site` — online now, today's totals, funnel, abandoned carts, top lists (≤ 50)
 * - `GET /v1/metrics/performance?site` — p75 of each web vital per page (≤ 50 pages), with the sketch's relative error
 */
import { Hono, type Context } from "hono";
import { z } from "zod";
import { siteKeySchema } from "../../protocol";
import { MAX_HUB_WINDOWS } from "../../durable-objects/shard-to-hub/shard-live-state";
import type { AppEnv } from "../app-env";
import { requireReadAccess } from "../auth";
import { ApiError } from "../errors";
import { requireSite } from "../site-directory";

export const DEFAULT_WINDOWS_LIMIT = 60;

const siteQuerySchema = z.object({ site: siteKeySchema });
const windowsQuerySchema = siteQuerySchema.extend({
  limit: z.coerce.number().int().min(1).max(MAX_HUB_WINDOWS).default(DEFAULT_WINDOWS_LIMIT),
});

/** Validates the query, checks read access and the site; answers the site's hub. */
async function hubFor<T extends z.ZodType<{ site: string }>>(c: Context<AppEnv>, schema: T) {
  const query = schema.safeParse(c.req.query());
  if (!query.success) throw ApiError.fromZod(query.error, "invalid query");
  const { site } = query.data;
  await requireReadAccess(c, site);
  await requireSite(c, site);
  return { query: query.data, hub: c.env.LIVE_HUB.get(c.env.LIVE_HUB.idFromName(site)) };
}

export const metricsRoutes = new Hono<AppEnv>();

metricsRoutes.get("/windows", async (c) => {
  const { query, hub } = await hubFor(c, windowsQuerySchema);
  return c.json(await hub.recentWindows(query.site, query.limit));
});

metricsRoutes.get("/overview", async (c) => {
  const { query, hub } = await hubFor(c, siteQuerySchema);
  return c.json(await hub.overview(query.site));
});

metricsRoutes.get("/performance", async (c) => {
  const { query, hub } = await hubFor(c, siteQuerySchema);
  return c.json(await hub.performance(query.site));
});
