/**
 * `GET /v1/live?site=…&token=…`: the live feed. The Worker checks the token, then hands the
 * upgrade request itself to the site's LiveHub, which accepts the socket with the hibernation
 * API (hono's `upgradeWebSocket` would keep the socket in this Worker, which cannot hibernate).
 */
import { Hono } from "hono";
import { z } from "zod";
import { siteKeySchema } from "../../protocol";
import { LIVE_CAPS_HEADER, LIVE_CLIENT_HEADER, LIVE_TOKEN_HEADER } from "../../protocol/live";
import type { AppEnv } from "../app-env";
import { liveTokenTag, requestToken, requireReadAccess, tokenDigest } from "../auth";
import { clientIp } from "../client-ip";
import { ApiError } from "../errors";
import { requireSite } from "../site-directory";

const liveQuerySchema = z.object({
  site: siteKeySchema,
  token: z.string().optional(),
});

export const liveRoutes = new Hono<AppEnv>();

liveRoutes.get("/", async (c) => {
  const query = liveQuerySchema.safeParse(c.req.query());
  if (!query.success) throw ApiError.fromZod(query.error, "invalid query");
  const { site } = query.data;
  const upgrade = c.req.header("Upgrade")?.toLowerCase() === "websocket";
  // Refused before any upgrade: a client without access never gets a socket. Only the upgrade
  // may carry the token in the URL (a browser's WebSocket cannot set headers).
  await requireReadAccess(c, site, upgrade ? "header-or-query" : "header");
  await requireSite(c, site);
  if (!upgrade) throw new ApiError(426, "upgrade_required", "this route is a WebSocket: send Upgrade: websocket");
  // The token has done its job here; the hub never sees it, only digests of it and of the
  // client's address, by which it caps the sockets one token or one client may hold.
  const url = new URL(c.req.url);
  const token = requestToken(c, "header-or-query") ?? "";
  url.searchParams.delete("token");
  const headers = new Headers(c.req.raw.headers);
  headers.delete("Authorization");
  headers.set(LIVE_TOKEN_HEADER, liveTokenTag(await tokenDigest(token)));
  headers.set(LIVE_CLIENT_HEADER, (await tokenDigest(`client:${clientIp(c.req.raw.headers)}`)).slice(0, 32));
  const { maxSocketsPerToken, maxSocketsPerClient } = c.get("config").live;
  headers.set(LIVE_CAPS_HEADER, `${maxSocketsPerToken},${maxSocketsPerClient}`);
  const hub = c.env.LIVE_HUB.get(c.env.LIVE_HUB.idFromName(site));
  return hub.fetch(new Request(url, { method: "GET", headers }));
});
