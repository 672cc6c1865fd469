/**
 * The site registry's wire shapes: `/v1/admin/sites*` (admin token) and `GET /v1/sites`
 * (any token). Shared by the Worker, the CLI (tools/sites-cli.ts) and the dashboard.
 */
import { z } from "zod";
import { siteKeySchema } from "./events";

export const tokenScopeSchema = z.enum(["read", "sql", "alerts"]);
export type TokenScope = z.infer<typeof tokenScopeSchema>;

/** An origin a browser sends (`https://shop.example`, no path) or "*" for any. */
export const originSchema = z
  .string()
  .max(200)
  .refine(
    (value) => value === "*" || /^https?:\/\/[^/\s?#]+$/i.test(value),
    "must be an origin like https://shop.example (scheme and host, no path) or *",
  );

/** An IANA time zone the runtime knows (the dashboard's "today" for the site). */
export const timeZoneSchema = z
  .string()
  .max(64)
  .refine((value) => {
    try {
      new Intl.DateTimeFormat("en", { timeZone: value });
      return true;
    } catch {
      return false;
    }
  }, "must be an IANA time zone such as Europe/Berlin or UTC");

/** Per-site bounds; null: the collector's defaults (RATE_LIMIT_SITE_*). */
export const siteLimitsSchema = z
  .object({
    batches_per_second: z.number().int().min(0).max(1_000_000).nullable().default(null),
    batch_burst: z.number().int().min(1).max(10_000_000).nullable().default(null),
  })
  .strict();
export type SiteLimits = z.infer<typeof siteLimitsSchema>;

export const siteSchema = z.object({
  key: siteKeySchema,
  origins: z.array(originSchema),
  time_zone: z.string(),
  limits: siteLimitsSchema,
  /** "config": seeded from the SITES var, read-only here; "registry": managed at runtime. */
  source: z.enum(["config", "registry"]),
  created_at: z.number().nullable(),
  updated_at: z.number().nullable(),
});
export type Site = z.infer<typeof siteSchema>;

export const createSiteSchema = z
  .object({
    key: siteKeySchema,
    origins: z.array(originSchema).max(50).default([]),
    time_zone: timeZoneSchema.default("UTC"),
    limits: siteLimitsSchema.default({ batches_per_second: null, batch_burst: null }),
  })
  .strict();
export type CreateSite = z.infer<typeof createSiteSchema>;

export const updateSiteSchema = z
  .object({
    origins: z.array(originSchema).max(50).optional(),
    time_zone: timeZoneSchema.optional(),
    limits: siteLimitsSchema.optional(),
  })
  .strict()
  .refine((value) => Object.keys(value).length > 0, "name at least one of origins, time_zone, limits");
export type UpdateSite = z.infer<typeof updateSiteSchema>;

export const createTokenSchema = z
  .object({
    scopes: z.array(tokenScopeSchema).min(1).max(3).default(["read"]),
    label: z.string().max(100).default(""),
  })
  .strict();
export type CreateToken = z.infer<typeof createTokenSchema>;

/** A token as listed: never the secret, only its first characters. */
export const tokenInfoSchema = z.object({
  id: z.string(),
  site: siteKeySchema,
  scopes: z.array(tokenScopeSchema),
  label: z.string(),
  /** The token's first characters, to tell tokens apart. */
  hint: z.string(),
  created_at: z.number(),
  revoked_at: z.number().nullable(),
});
export type TokenInfo = z.infer<typeof tokenInfoSchema>;

/** The answer to creating or rotating a token: the only time the secret is shown. */
export const createdTokenSchema = tokenInfoSchema.extend({ token: z.string() });
export type CreatedToken = z.infer<typeof createdTokenSchema>;

export const siteDeletionSchema = z.object({
  site: siteKeySchema,
  deleted: z.object({
    registry: z.object({ site: z.boolean(), tokens: z.number() }),
    /** Rows removed per ClickHouse table. */
    clickhouse: z.record(z.string(), z.number()),
    durable_objects: z.object({ ingest_shards: z.number(), live_hub: z.boolean() }),
  }),
});
export type SiteDeletion = z.infer<typeof siteDeletionSchema>;

/** `GET /v1/sites`: the sites the request's token may read, with what it may do there. */
export const readableSitesSchema = z.object({
  admin: z.boolean(),
  sites: z.array(z.object({ key: siteKeySchema, time_zone: z.string(), scopes: z.array(tokenScopeSchema) })),
});
export type ReadableSites = z.infer<typeof readableSitesSchema>;
