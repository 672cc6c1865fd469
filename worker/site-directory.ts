/**
 * Where the Worker finds sites and tokens: the `SITES` var (a read-only seed) merged with the
 * SiteRegistry object, through one bounded, short-lived in-isolate cache. Ingest pays a
 * registry hop only on a cache miss (once per site key per isolate per TTL), and a revoked
 * token or deleted site stops working everywhere within REGISTRY_CACHE_TTL_MS.
 *
 * Negative answers are cached too, so made-up keys or tokens cannot turn every request into
 * a registry call; the bound keeps that flood from growing the isolate's memory.
 */
import type { Context } from "hono";
import { SITE_REGISTRY_NAME, type SiteRegistry, type TokenGrant } from "../durable-objects/site-registry";
import type { Site } from "../protocol/sites";
import type { AppEnv } from "./app-env";
import type { Config, SiteConfig } from "../common/config";
import { ApiError } from "./errors";
import { isOriginAllowedByAnySite } from "./sites";
import { TtlCache } from "./ttl-cache";

export const REGISTRY_CACHE_MAX_ENTRIES = 1_000;
/** Revocation and deletion take effect within this long in every isolate. */
export const REGISTRY_CACHE_TTL_MS = 5_000;

type Cached = Site | TokenGrant | boolean | null;
const cache = new TtlCache<Cached>(REGISTRY_CACHE_MAX_ENTRIES, REGISTRY_CACHE_TTL_MS);

/** The registry object, or null where the binding is absent (unit tests of a bare hono app). */
export function siteRegistry(env: Env | undefined): DurableObjectStub<SiteRegistry> | null {
  const namespace = env?.SITE_REGISTRY;
  if (namespace === undefined) return null;
  return namespace.get(namespace.idFromName(SITE_REGISTRY_NAME));
}

function hasRegistry(env: Env | undefined): boolean {
  return env?.SITE_REGISTRY !== undefined;
}

/** Only on a cache miss: a hit touches no binding at all. */
function registryStub(env: Env): DurableObjectStub<SiteRegistry> {
  return env.SITE_REGISTRY.get(env.SITE_REGISTRY.idFromName(SITE_REGISTRY_NAME));
}

export function seedSite(site: SiteConfig): Site {
  return {
    key: site.key,
    origins: site.origins,
    time_zone: site.time_zone,
    limits: { batches_per_second: null, batch_burst: null },
    source: "config",
    created_at: null,
    updated_at: null,
  };
}

async function fromRegistry<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    console.error("site registry call failed", { what, error: String(error) });
    throw new ApiError(503, "unavailable", "the site registry is unavailable; retry shortly", undefined, 2);
  }
}

/** The site, from the seed or the registry; null when neither knows it. */
export async function findSite(c: Context<AppEnv>, key: string): Promise<Site | null> {
  const seeded = c.get("config").sites.get(key);
  if (seeded !== undefined) return seedSite(seeded);
  if (!hasRegistry(c.env)) return null;
  const site = await cache.getOrLoad(`site:${key}`, () =>
    fromRegistry("getSite", () => registryStub(c.env).getSite(key)),
  );
  return site === null || typeof site !== "object" || !("key" in site) ? null : site;
}

/** Throws 403 `unknown_site` for a key neither the seed nor the registry knows. */
export async function requireSite(c: Context<AppEnv>, key: string): Promise<Site> {
  const site = await findSite(c, key);
  if (site === null) throw new ApiError(403, "unknown_site", `unknown site "${key}"`);
  return site;
}

/** Whether some site (seed or registry) allows `origin`: what a preflight, which names no site, can check. */
export async function anySiteAllowsOrigin(c: Context<AppEnv>, origin: string): Promise<boolean> {
  if (isOriginAllowedByAnySite(c.get("config"), origin)) return true;
  if (!hasRegistry(c.env)) return false;
  const allowed = await cache.getOrLoad(`origin:${origin.toLowerCase()}`, () =>
    fromRegistry("anySiteAllowsOrigin", () => registryStub(c.env).anySiteAllowsOrigin(origin)),
  );
  return allowed === true;
}

/** What a registry token (by its SHA-256 digest) opens, or null (unknown or revoked). */
export async function tokenGrant(c: Context<AppEnv>, digest: string): Promise<TokenGrant | null> {
  if (!hasRegistry(c.env)) return null;
  const grant = await cache.getOrLoad(`token:${digest}`, () =>
    fromRegistry("lookupToken", () => registryStub(c.env).lookupToken(digest)),
  );
  return grant !== null && typeof grant === "object" && "scopes" in grant ? grant : null;
}

/** An admin's write in this isolate shows here at once (other isolates within the TTL). */
export function forgetSite(key: string): void {
  cache.delete(`site:${key}`);
  cache.deletePrefix("origin:");
}

/** A revoke in this isolate shows here at once (the digest of the revoked token is not known here, so all go). */
export function forgetTokens(): void {
  cache.deletePrefix("token:");
}

/** The seed sites, as the registry API lists them. */
export function seedSites(config: Config): Site[] {
  return [...config.sites.values()].map(seedSite);
}

/** Every site: the seed, then the registry's (uncached; for the admin API, /metrics and GET /v1/sites). */
export async function allSites(c: Context<AppEnv>): Promise<Site[]> {
  const seeded = seedSites(c.get("config"));
  const registry = siteRegistry(c.env);
  if (registry === null) return seeded;
  const keys = new Set(seeded.map((site) => site.key));
  const registered = await fromRegistry("listSites", () => registry.listSites());
  return [...seeded, ...registered.filter((site) => !keys.has(site.key))];
}
