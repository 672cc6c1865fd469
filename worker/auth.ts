/**
 * Read access for the dashboard routes (live feed, metrics, history, SQL): the admin token
 * reads every site; a site token reads only its site, and only with the route's scope
 * (`read` for live, metrics and history, `sql` for the console). Site tokens are the `token`
 * of a `SITES` entry (every scope) or registry tokens, looked up by their SHA-256 digest
 * through the in-isolate cache (site-directory.ts), so a revoked token fails within 5 s. The token comes as
 * `Authorization: Bearer <token>`; only the live feed's WebSocket upgrade, which a browser
 * cannot give headers, may carry it as `?token=` (a URL ends up in logs and histories, so no
 * other route accepts it there).
 */
import type { Context } from "hono";
import { sha256Hex } from "../common/crypto";
import type { TokenScope } from "../protocol/sites";
import type { AppEnv } from "./app-env";
import { ApiError } from "./errors";
import { tokenGrant } from "./site-directory";

export type ReadAccess = "admin" | "site";

/** Where a route takes its token from: the Authorization header, or for a WebSocket upgrade also `?token=`. */
export type TokenSource = "header" | "header-or-query";

export function requestToken(c: Context<AppEnv>, source: TokenSource = "header"): string | null {
  const header = c.req.header("Authorization");
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match?.[1] !== undefined) return match[1];
  }
  if (source === "header") return null;
  const query = c.req.query("token");
  return query !== undefined && query !== "" ? query : null;
}

/** Hex SHA-256 of a token: names its per-token objects without the token itself appearing anywhere. */
export async function tokenDigest(token: string): Promise<string> {
  return sha256Hex(token);
}

/** The tag a live socket carries for its token (the hub caps sockets per tag; a revoke closes them by it). */
export function liveTokenTag(digest: string): string {
  return digest.slice(0, 32);
}

/** Compares SHA-256 digests in constant time, so neither content nor length leaks through timing. */
async function tokensEqual(given: string, expected: string): Promise<boolean> {
  const encoder = new TextEncoder();
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(given)),
    crypto.subtle.digest("SHA-256", encoder.encode(expected)),
  ]);
  return crypto.subtle.timingSafeEqual(a, b);
}

/** Throws 401 without a token, 403 with a token that does not open `siteKey` with `scope`. */
export async function requireReadAccess(
  c: Context<AppEnv>,
  siteKey: string,
  source: TokenSource = "header",
  scope: TokenScope = "read",
): Promise<ReadAccess> {
  const config = c.get("config");
  const token = requestToken(c, source);
  if (token === null) {
    throw new ApiError(
      401,
      "unauthorized",
      `a read token is required (Authorization: Bearer <token>${source === "header" ? "" : " or ?token="})`,
    );
  }
  if (config.adminToken !== null && (await tokensEqual(token, config.adminToken))) return "admin";
  const siteToken = config.sites.get(siteKey)?.token;
  if (siteToken !== undefined && (await tokensEqual(token, siteToken))) return "site";
  const grant = await tokenGrant(c, await tokenDigest(token));
  if (grant !== null && grant.site === siteKey) {
    if (grant.scopes.includes(scope)) return "site";
    throw new ApiError(403, "forbidden", `the token lacks the "${scope}" scope for site "${siteKey}"`);
  }
  throw new ApiError(403, "forbidden", `the token does not give access to site "${siteKey}"`);
}

/** Throws 401/403 unless the request carries the admin token. */
export async function requireAdminAccess(c: Context<AppEnv>): Promise<void> {
  const config = c.get("config");
  const token = requestToken(c);
  if (token === null)
    throw new ApiError(401, "unauthorized", "the admin token is required (Authorization: Bearer <token>)");
  if (config.adminToken === null)
    throw new ApiError(
      503,
      "unavailable",
      "the collector is misconfigured: ADMIN_TOKEN is not set, so no admin request can be accepted",
    );
  if (!(await tokensEqual(token, config.adminToken)))
    throw new ApiError(403, "forbidden", "the token is not the admin token");
}

/** Whether the request carries the admin token (no error either way). */
export async function isAdmin(c: Context<AppEnv>): Promise<boolean> {
  const adminToken = c.get("config").adminToken;
  const token = requestToken(c);
  return adminToken !== null && token !== null && (await tokensEqual(token, adminToken));
}
