/**
 * `/v1/admin/sites`: the site registry's admin API (admin token only).
 *
 * - `GET /` list (seed sites from SITES first, `source: "config"`, read-only), `POST /` create
 * - `GET /:key`, `PATCH /:key` (origins, time_zone, limits), `DELETE /:key` (everything the
 *   site had: registry row and tokens, ClickHouse rows, Durable Object state; answers what)
 * - `GET /:key/export?format=ndjson|csv`: the site's raw events, streamed from ClickHouse
 * - `GET /:key/tokens`, `POST /:key/tokens` (the secret is in this answer only),
 *   `DELETE /:key/tokens/:id` (revoke), `POST /:key/tokens/:id/rotate` (new secret, same
 *   scopes, the old one revoked)
 */
import { type Context, Hono } from "hono";
import { createClickHouse } from "../../clickhouse/client";
import type { RegistryResult } from "../../durable-objects/site-registry";
import { siteKeySchema } from "../../protocol";
import {
  type CreatedToken,
  type SiteDeletion,
  createSiteSchema,
  createTokenSchema,
  updateSiteSchema,
} from "../../protocol/sites";
import type { AppEnv } from "../app-env";
import { liveTokenTag, requireAdminAccess } from "../auth";
import { ApiError } from "../errors";
import { readJsonBody } from "../json-body";
import { requireClickHouse } from "../production-checks";
import { REGISTRY_CACHE_TTL_MS, allSites, findSite, forgetSite, forgetTokens, siteRegistry } from "../site-directory";
import { deleteClickHouseRows, purgeDurableObjects } from "../site-deletion";
import { mintToken } from "../site-tokens";

const EXPORT_FORMATS = {
  ndjson: { clickhouse: "JSONEachRow", contentType: "application/x-ndjson; charset=utf-8" },
  csv: { clickhouse: "CSVWithNames", contentType: "text/csv; charset=utf-8" },
} as const;

function registryOf(c: Context<AppEnv>) {
  const registry = siteRegistry(c.env);
  if (registry === null) throw new ApiError(503, "unavailable", "the SITE_REGISTRY binding is missing (wrangler.toml)");
  return registry;
}

function siteKey(c: Context<AppEnv>): string {
  const key = siteKeySchema.safeParse(c.req.param("key"));
  if (!key.success) throw ApiError.fromZod(key.error, "invalid site key");
  return key.data;
}

function refuseSeed(c: Context<AppEnv>, key: string): void {
  if (c.get("config").sites.has(key)) {
    throw new ApiError(
      409,
      "conflict",
      `site "${key}" comes from the SITES var and is read-only here; change SITES and redeploy`,
    );
  }
}

function unwrap<T>(result: RegistryResult<T>, what: string): T {
  if (result.ok) return result.value;
  if (result.reason === "exists") throw new ApiError(409, "conflict", `${what} already exists`);
  throw new ApiError(404, "not_found", `${what} does not exist`);
}

function tokenId(c: Context<AppEnv>): string {
  const id = c.req.param("id") ?? "";
  if (!/^tok_[A-Za-z0-9_-]{1,40}$/.test(id)) throw ApiError.invalidPayload(`"${id}" is not a token id (tok_…)`);
  return id;
}

/**
 * A revoked token's open live sockets are closed at once: other routes refuse it within the
 * cache TTL, but a socket, once open, is never asked for its token again. Best effort: the
 * revocation stands even if the hub cannot be reached.
 */
async function closeLiveSockets(c: Context<AppEnv>, site: string, digest: string): Promise<void> {
  try {
    await c.env.LIVE_HUB.get(c.env.LIVE_HUB.idFromName(site)).closeSocketsOf(liveTokenTag(digest));
  } catch (error) {
    console.error("closing a revoked token's live sockets failed", { site, error: String(error) });
  }
}

export const adminSitesRoutes = new Hono<AppEnv>();

adminSitesRoutes.use("*", async (c, next) => {
  await requireAdminAccess(c);
  c.header("Cache-Control", "no-store");
  await next();
});

adminSitesRoutes.get("/", async (c) => c.json({ sites: await allSites(c) }));

adminSitesRoutes.post("/", async (c) => {
  const input = await readJsonBody(c.req.raw, createSiteSchema);
  refuseSeed(c, input.key);
  const site = unwrap(await registryOf(c).createSite(input), `site "${input.key}"`);
  forgetSite(site.key);
  return c.json(site, 201);
});

adminSitesRoutes.get("/:key", async (c) => {
  const key = siteKey(c);
  const site = await findSite(c, key);
  if (site === null) throw new ApiError(404, "not_found", `site "${key}" does not exist`);
  return c.json(site);
});

adminSitesRoutes.patch("/:key", async (c) => {
  const key = siteKey(c);
  refuseSeed(c, key);
  const patch = await readJsonBody(c.req.raw, updateSiteSchema);
  const site = unwrap(await registryOf(c).updateSite(key, patch), `site "${key}"`);
  forgetSite(key);
  return c.json(site);
});

// Idempotent: deleting a key the registry no longer knows still cleans up what is left under
// it, so a delete that failed half-way (ClickHouse down) can simply be repeated.
adminSitesRoutes.delete("/:key", async (c) => {
  const key = siteKey(c);
  refuseSeed(c, key);
  const config = c.get("config");
  requireClickHouse(config);
  const removed = await registryOf(c).deleteSite(key);
  forgetSite(key);
  // No isolate's cache still holds the site after one TTL, so nothing recreates its state below.
  if (removed.ok) await new Promise((resolve) => setTimeout(resolve, REGISTRY_CACHE_TTL_MS));
  const durableObjects = await purgeDurableObjects(c.env, config, key);
  let clickhouseRows: Record<string, number>;
  try {
    clickhouseRows = await deleteClickHouseRows(
      createClickHouse(config.clickhouse, { timeoutMs: 60_000 }),
      config.clickhouse.database,
      key,
    );
  } catch (error) {
    console.error("site deletion: ClickHouse failed", { site: key, error: String(error) });
    throw new ApiError(
      503,
      "unavailable",
      `site "${key}" was removed from the registry and its Durable Object state purged, but ClickHouse did not delete its rows; repeat the DELETE`,
      undefined,
      5,
    );
  }
  const answer: SiteDeletion = {
    site: key,
    deleted: {
      registry: { site: removed.ok, tokens: removed.ok ? removed.value.tokens : 0 },
      clickhouse: clickhouseRows,
      durable_objects: durableObjects,
    },
  };
  return c.json(answer);
});

adminSitesRoutes.get("/:key/export", async (c) => {
  const key = siteKey(c);
  const format = c.req.query("format") ?? "ndjson";
  if (format !== "ndjson" && format !== "csv")
    throw ApiError.invalidPayload(`format must be ndjson or csv, not "${format}"`);
  if ((await findSite(c, key)) === null) throw new ApiError(404, "not_found", `site "${key}" does not exist`);
  const config = c.get("config");
  requireClickHouse(config);
  const { clickhouse: clickhouseFormat, contentType } = EXPORT_FORMATS[format];
  const clickhouse = createClickHouse(config.clickhouse, { timeoutMs: 300_000 });
  const stream = await clickhouse.stream(
    `SELECT * FROM ${config.clickhouse.database}.events WHERE site = {site:String} ORDER BY ts, event_id FORMAT ${clickhouseFormat}`,
    { site: key },
    { readonly: 1, output_format_json_quote_64bit_integers: 1 },
    { signal: c.req.raw.signal },
  );
  return new Response(stream, {
    headers: {
      "Content-Type": contentType,
      "Content-Disposition": `attachment; filename="${key}-events.${format}"`,
      "Cache-Control": "no-store",
    },
  });
});

adminSitesRoutes.get("/:key/tokens", async (c) => {
  const key = siteKey(c);
  refuseSeed(c, key);
  return c.json({ tokens: unwrap(await registryOf(c).listTokens(key), `site "${key}"`) });
});

adminSitesRoutes.post("/:key/tokens", async (c) => {
  const key = siteKey(c);
  refuseSeed(c, key);
  const input = await readJsonBody(c.req.raw, createTokenSchema);
  const { secret, token } = await mintToken(input.scopes, input.label);
  const info = unwrap(await registryOf(c).createToken(key, token), `site "${key}"`);
  return c.json({ ...info, token: secret } satisfies CreatedToken, 201);
});

adminSitesRoutes.delete("/:key/tokens/:id", async (c) => {
  const key = siteKey(c);
  const id = tokenId(c);
  const { info, digest } = unwrap(await registryOf(c).revokeToken(key, id), `token ${id} of site "${key}"`);
  forgetTokens();
  await closeLiveSockets(c, key, digest);
  return c.json(info);
});

adminSitesRoutes.post("/:key/tokens/:id/rotate", async (c) => {
  const key = siteKey(c);
  const id = tokenId(c);
  const registry = registryOf(c);
  const old = await registry.getToken(key, id);
  if (old === null) throw new ApiError(404, "not_found", `token ${id} of site "${key}" does not exist`);
  const { secret, token } = await mintToken(old.scopes, old.label);
  const info = unwrap(await registry.createToken(key, token), `site "${key}"`);
  const { digest } = unwrap(await registry.revokeToken(key, id), `token ${id} of site "${key}"`);
  forgetTokens();
  await closeLiveSockets(c, key, digest);
  return c.json({ ...info, token: secret } satisfies CreatedToken, 201);
});
