/**
 * `GET /v1/live?site=…&token=…`: the live feed. The Worker checks the token, then hands the
 * upgrade request itself to the site's LiveHub, which accepts the socket with the hibernation
 * API (hono's `upgradeWebSocket` would keep the socket in this Worker, which cannot hibernate).
 */
import { Hono } from "hono";
import { z } from "zod";
import { siteKeySchema } from "../../protocol";
import type { AppEnv } from "../app-env";
import { requireReadAccess } from "../auth";
import { ApiError } from "../errors";
import { requireSite } from "../sites";

const liveQuerySchema = z.object({
  site: siteKeySchema,
  token: z.string().optional(),
});

export const liveRoutes = new Hono<AppEnv>();

liveRoutes.get("/", async (c) => {
  const query = liveQuerySchema.safeParse(c.req.query());
  if (!query.success) throw ApiError.fromZod(query.error, "invalid query");
  const { site } = query.data;
  // Refused before any upgrade: a client without access never gets a socket.
  await requireReadAccess(c, site);
  requireSite(c.get("config"), site);
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
    throw new ApiError(426, "invalid_payload", "this route is a WebSocket: send Upgrade: websocket");
  }
  // The token has done its job here; the hub never needs to see it.
  const url = new URL(c.req.url);
  url.searchParams.delete("token");
  const hub = c.env.LIVE_HUB.get(c.env.LIVE_HUB.idFromName(site));
  return hub.fetch(new Request(url, c.req.raw));
});
