/**
 * `GET /v1/sites`: the sites the request's token may read, for the dashboard's site switcher.
 * The admin token sees every site (seed and registry) with every scope; a site token sees its
 * own site with its scopes. 401 without a token, 403 with one that opens nothing.
 */
import { Hono } from "hono";
import type { ReadableSites, TokenScope } from "../../protocol/sites";
import type { AppEnv } from "../app-env";
import { isAdmin, requestToken, tokenDigest } from "../auth";
import { ApiError } from "../errors";
import { allSites, findSite, tokenGrant } from "../site-directory";

const ALL_SCOPES: TokenScope[] = ["read", "sql", "alerts"];

export const sitesRoutes = new Hono<AppEnv>();

sitesRoutes.get("/", async (c) => {
  const token = requestToken(c);
  if (token === null) throw new ApiError(401, "unauthorized", "a token is required (Authorization: Bearer <token>)");
  c.header("Cache-Control", "no-store");
  if (await isAdmin(c)) {
    const sites = await allSites(c);
    return c.json({
      admin: true,
      sites: sites.map((site) => ({ key: site.key, time_zone: site.time_zone, scopes: ALL_SCOPES })),
    } satisfies ReadableSites);
  }
  const digest = await tokenDigest(token);
  for (const site of c.get("config").sites.values()) {
    if (site.token !== undefined && (await tokenDigest(site.token)) === digest) {
      return c.json({
        admin: false,
        sites: [{ key: site.key, time_zone: site.time_zone, scopes: ALL_SCOPES }],
      } satisfies ReadableSites);
    }
  }
  const grant = await tokenGrant(c, digest);
  const site = grant === null ? null : await findSite(c, grant.site);
  if (grant === null || site === null) throw new ApiError(403, "forbidden", "the token opens no site");
  return c.json({
    admin: false,
    sites: [{ key: site.key, time_zone: site.time_zone, scopes: grant.scopes }],
  } satisfies ReadableSites);
});
