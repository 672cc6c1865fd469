/**
 * SiteRegistry: the one object (named "registry") that holds the sites managed at runtime and
 * their tokens, in its SQLite storage. Why a Durable Object and not D1: ARCHITECTURE.md
 * ("Site registry"). Writes are rare (an admin), reads are cache misses of the Workers'
 * in-isolate cache (worker/site-directory.ts), at most one per key per isolate every 5 s.
 *
 * Tokens are stored as SHA-256 digests only; the Worker makes the secret, shows it once and
 * hands this object the digest. A revoked token stays listed (revoked_at) so an audit can see
 * it, but never resolves again.
 */
import { DurableObject } from "cloudflare:workers";
import type { CreateSite, Site, SiteLimits, TokenInfo, TokenScope, UpdateSite } from "../protocol/sites";

export const SITE_REGISTRY_NAME = "registry";

/** What a token opens, as the Worker's auth needs it. */
export interface TokenGrant {
  id: string;
  site: string;
  scopes: TokenScope[];
}

export interface NewToken {
  id: string;
  digest: string;
  hint: string;
  scopes: TokenScope[];
  label: string;
}

export type RegistryResult<T> = { ok: true; value: T } | { ok: false; reason: "not_found" | "exists" };

interface SiteRow extends Record<string, SqlStorageValue> {
  key: string;
  origins: string;
  time_zone: string;
  limits: string;
  created_at: number;
  updated_at: number;
}

interface TokenRow extends Record<string, SqlStorageValue> {
  id: string;
  site: string;
  scopes: string;
  label: string;
  hint: string;
  created_at: number;
  revoked_at: number | null;
}

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS sites (
     key TEXT PRIMARY KEY, origins TEXT NOT NULL, time_zone TEXT NOT NULL, limits TEXT NOT NULL,
     created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)`,
  // One row per (site, origin): the CORS preflight asks "does any site allow this origin?".
  "CREATE TABLE IF NOT EXISTS site_origins (origin TEXT NOT NULL, site TEXT NOT NULL, PRIMARY KEY (origin, site))",
  `CREATE TABLE IF NOT EXISTS tokens (
     id TEXT PRIMARY KEY, site TEXT NOT NULL, digest TEXT NOT NULL UNIQUE, scopes TEXT NOT NULL,
     label TEXT NOT NULL, hint TEXT NOT NULL, created_at INTEGER NOT NULL, revoked_at INTEGER)`,
  "CREATE INDEX IF NOT EXISTS tokens_by_site ON tokens (site)",
];

/** Origins compare without case and trailing slash, as worker/sites.ts does. */
export function normaliseOrigin(origin: string): string {
  return origin.trim().replace(/\/+$/, "").toLowerCase();
}

function toSite(row: SiteRow): Site {
  return {
    key: row.key,
    origins: JSON.parse(row.origins) as string[],
    time_zone: row.time_zone,
    limits: JSON.parse(row.limits) as SiteLimits,
    source: "registry",
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

function toTokenInfo(row: TokenRow): TokenInfo {
  return {
    id: row.id,
    site: row.site,
    scopes: JSON.parse(row.scopes) as TokenScope[],
    label: row.label,
    hint: row.hint,
    created_at: row.created_at,
    revoked_at: row.revoked_at,
  };
}

export class SiteRegistry extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    for (const statement of SCHEMA) ctx.storage.sql.exec(statement);
  }

  private get sql(): SqlStorage {
    return this.ctx.storage.sql;
  }

  private siteRow(key: string): SiteRow | null {
    return this.sql.exec<SiteRow>("SELECT * FROM sites WHERE key = ?", key).toArray()[0] ?? null;
  }

  private setOrigins(key: string, origins: string[]): void {
    this.sql.exec("DELETE FROM site_origins WHERE site = ?", key);
    for (const origin of new Set(origins.map(normaliseOrigin)))
      this.sql.exec("INSERT INTO site_origins (origin, site) VALUES (?, ?)", origin, key);
  }

  async listSites(): Promise<Site[]> {
    return this.sql.exec<SiteRow>("SELECT * FROM sites ORDER BY key").toArray().map(toSite);
  }

  async getSite(key: string): Promise<Site | null> {
    const row = this.siteRow(key);
    return row === null ? null : toSite(row);
  }

  async createSite(input: CreateSite): Promise<RegistryResult<Site>> {
    if (this.siteRow(input.key) !== null) return { ok: false, reason: "exists" };
    const now = Date.now();
    this.ctx.storage.transactionSync(() => {
      this.sql.exec(
        "INSERT INTO sites (key, origins, time_zone, limits, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
        input.key,
        JSON.stringify(input.origins),
        input.time_zone,
        JSON.stringify(input.limits),
        now,
        now,
      );
      this.setOrigins(input.key, input.origins);
    });
    return { ok: true, value: toSite(this.siteRow(input.key) as SiteRow) };
  }

  async updateSite(key: string, patch: UpdateSite): Promise<RegistryResult<Site>> {
    const row = this.siteRow(key);
    if (row === null) return { ok: false, reason: "not_found" };
    const current = toSite(row);
    const origins = patch.origins ?? current.origins;
    this.ctx.storage.transactionSync(() => {
      this.sql.exec(
        "UPDATE sites SET origins = ?, time_zone = ?, limits = ?, updated_at = ? WHERE key = ?",
        JSON.stringify(origins),
        patch.time_zone ?? current.time_zone,
        JSON.stringify(patch.limits ?? current.limits),
        Date.now(),
        key,
      );
      if (patch.origins !== undefined) this.setOrigins(key, origins);
    });
    return { ok: true, value: toSite(this.siteRow(key) as SiteRow) };
  }

  /** Removes the site and all its tokens; answers how many tokens went with it. */
  async deleteSite(key: string): Promise<RegistryResult<{ tokens: number }>> {
    if (this.siteRow(key) === null) return { ok: false, reason: "not_found" };
    let tokens = 0;
    this.ctx.storage.transactionSync(() => {
      tokens = this.sql.exec("DELETE FROM tokens WHERE site = ?", key).rowsWritten;
      this.sql.exec("DELETE FROM site_origins WHERE site = ?", key);
      this.sql.exec("DELETE FROM sites WHERE key = ?", key);
    });
    return { ok: true, value: { tokens } };
  }

  /** Whether some registry site allows `origin` (normalised) or any origin. */
  async anySiteAllowsOrigin(origin: string): Promise<boolean> {
    return (
      this.sql.exec("SELECT 1 FROM site_origins WHERE origin IN (?, '*') LIMIT 1", normaliseOrigin(origin)).toArray()
        .length > 0
    );
  }

  async createToken(site: string, token: NewToken): Promise<RegistryResult<TokenInfo>> {
    if (this.siteRow(site) === null) return { ok: false, reason: "not_found" };
    this.sql.exec(
      "INSERT INTO tokens (id, site, digest, scopes, label, hint, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
      token.id,
      site,
      token.digest,
      JSON.stringify(token.scopes),
      token.label,
      token.hint,
      Date.now(),
    );
    return { ok: true, value: this.tokenInfo(site, token.id) as TokenInfo };
  }

  private tokenInfo(site: string, id: string): TokenInfo | null {
    const row = this.sql
      .exec<TokenRow>(
        "SELECT id, site, scopes, label, hint, created_at, revoked_at FROM tokens WHERE site = ? AND id = ?",
        site,
        id,
      )
      .toArray()[0];
    return row === undefined ? null : toTokenInfo(row);
  }

  async getToken(site: string, id: string): Promise<TokenInfo | null> {
    return this.tokenInfo(site, id);
  }

  async listTokens(site: string): Promise<RegistryResult<TokenInfo[]>> {
    if (this.siteRow(site) === null) return { ok: false, reason: "not_found" };
    const rows = this.sql
      .exec<TokenRow>(
        "SELECT id, site, scopes, label, hint, created_at, revoked_at FROM tokens WHERE site = ? ORDER BY created_at, id",
        site,
      )
      .toArray();
    return { ok: true, value: rows.map(toTokenInfo) };
  }

  /**
   * Marks the token revoked (idempotent: a second revoke keeps the first time). Answers its
   * digest too, so the Worker can close the live sockets the token opened.
   */
  async revokeToken(site: string, id: string): Promise<RegistryResult<{ info: TokenInfo; digest: string }>> {
    const row = this.sql
      .exec<{ digest: string }>("SELECT digest FROM tokens WHERE site = ? AND id = ?", site, id)
      .toArray()[0];
    if (row === undefined) return { ok: false, reason: "not_found" };
    this.sql.exec(
      "UPDATE tokens SET revoked_at = coalesce(revoked_at, ?) WHERE site = ? AND id = ?",
      Date.now(),
      site,
      id,
    );
    return { ok: true, value: { info: this.tokenInfo(site, id) as TokenInfo, digest: row.digest } };
  }

  /** The grant of an unrevoked token with this digest, or null. */
  async lookupToken(digest: string): Promise<TokenGrant | null> {
    const row = this.sql
      .exec<{ id: string; site: string; scopes: string }>(
        "SELECT id, site, scopes FROM tokens WHERE digest = ? AND revoked_at IS NULL",
        digest,
      )
      .toArray()[0];
    return row === undefined ? null : { id: row.id, site: row.site, scopes: JSON.parse(row.scopes) as TokenScope[] };
  }
}
