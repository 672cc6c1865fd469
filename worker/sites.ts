/**
 * The origins allowed to post for a site, and the CORS answers that follow (sites themselves
 * are found through site-directory.ts).
 *
 * A preflight carries no body, so it cannot name its site: it is answered for any origin
 * that some configured site allows, and the real POST is then checked against its own site.
 */
import type { Config } from "../common/config";
import { ApiError } from "./errors";

/** What the origin checks need of a site, seeded or from the registry. */
export interface SiteOrigins {
  key: string;
  origins: readonly string[];
}

/** Normalises an origin for comparison (scheme and host are case-insensitive; no trailing slash). */
function normaliseOrigin(origin: string): string {
  return origin.trim().replace(/\/+$/, "").toLowerCase();
}

export function isOriginAllowed(site: SiteOrigins, origin: string): boolean {
  const wanted = normaliseOrigin(origin);
  return site.origins.some((allowed) => allowed === "*" || normaliseOrigin(allowed) === wanted);
}

/** No Origin header means a server-to-server call (no browser to protect): allowed. */
export function requireOriginAllowed(site: SiteOrigins, origin: string | null): void {
  if (origin === null) return;
  if (!isOriginAllowed(site, origin))
    throw new ApiError(403, "origin_not_allowed", `origin ${origin} may not post events for site "${site.key}"`);
}

export function isOriginAllowedByAnySite(config: Config, origin: string): boolean {
  for (const site of config.sites.values()) if (isOriginAllowed(site, origin)) return true;
  return false;
}

/** Headers that let a browser page at `origin` read an answer of the events endpoint. */
export function corsHeaders(origin: string): Record<string, string> {
  return {
    "Access-Control-Allow-Origin": origin,
    // The SDK honours Retry-After on 429/503, so a cross-origin script must be able to read it.
    "Access-Control-Expose-Headers": "Retry-After",
    Vary: "Origin",
  };
}

/** Extra headers of a successful preflight answer. */
export function preflightHeaders(origin: string): Record<string, string> {
  return {
    ...corsHeaders(origin),
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": "86400",
  };
}
