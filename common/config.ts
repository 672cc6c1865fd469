/**
 * Configuration from wrangler vars / `.dev.vars` / `--var`, parsed once per isolate and
 * validated, so a typo in a var fails loudly instead of silently using a default.
 */
import { z } from "zod";
import { timeZoneSchema } from "../protocol/sites";
import { type BudgetLimit, siteKeySchema } from "../protocol";
import { type TracingSettings, tracingSettingsFrom } from "../tracing/tracing-config";

export const LOCAL_DEV_SITE = "demo";
export const LOCAL_DEV_ADMIN_TOKEN = "dev-admin-token";
export const LOCAL_DEV_CLICKHOUSE_URL = "http://127.0.0.1:8123";
/** Only used under LOCAL_DEV; production must set VISITOR_SECRET. */
const LOCAL_DEV_VISITOR_SECRET = "edgepulse-local-dev-visitor-secret";

const siteConfigSchema = z.object({
  key: siteKeySchema,
  /** Origins allowed to post events: exact origins (`https://shop.example`) or "*". */
  origins: z.array(z.string().min(1)).default([]),
  /** Read token scoped to this site (dashboard, live feed, history, SQL). */
  token: z.string().min(16).optional(),
  /** IANA zone of the site's days in history and the dashboard. */
  time_zone: timeZoneSchema.default("UTC"),
});
export type SiteConfig = z.infer<typeof siteConfigSchema>;

const intVar = (fallback: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((value) => (value === undefined || value.trim() === "" ? fallback : Number(value)))
    .pipe(z.number().int().min(min).max(max));

const rateVar = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === "" ? undefined : Number(value)))
  .pipe(z.number().finite().min(0).max(1_000_000).optional());

/** The site limit when RATE_LIMIT_SITE_PER_SECOND is unset, and its burst in seconds' worth. */
export const DEFAULT_SITE_PER_SECOND = 1000;
const DEFAULT_SITE_BURST_FACTOR = 2;

export interface RateLimits {
  /** The whole site's rate, null: no site limit. Each shard enforces a SHARDS-th of it. */
  site: BudgetLimit | null;
  /** Whether the per-client binding is consulted. */
  client: boolean;
}

function rateLimits(vars: {
  RATE_LIMIT_SITE_PER_SECOND?: number | undefined;
  RATE_LIMIT_SITE_BURST?: number | undefined;
  RATE_LIMIT_CLIENT_PER_SECOND?: number | undefined;
}): RateLimits {
  const perSecond = vars.RATE_LIMIT_SITE_PER_SECOND ?? DEFAULT_SITE_PER_SECOND;
  return {
    site:
      perSecond === 0
        ? null
        : {
            perSecond,
            burst: Math.max(1, vars.RATE_LIMIT_SITE_BURST ?? Math.ceil(perSecond * DEFAULT_SITE_BURST_FACTOR)),
          },
    client: vars.RATE_LIMIT_CLIENT_PER_SECOND !== 0,
  };
}

const configSchema = z.object({
  WINDOW_SECONDS: intVar(10, 1, 3600),
  ALLOWED_LATENESS_SECONDS: intVar(5, 0, 3600),
  SESSION_IDLE_MINUTES: intVar(30, 1, 24 * 60),
  SHARDS: intVar(8, 1, 1024),
  /** Backpressure bound per shard (unflushed events); unset = the shard's default (100,000). Tests set it small. */
  SHARD_MAX_PENDING_EVENTS: z
    .string()
    .optional()
    .transform((value) => (value === undefined || value.trim() === "" ? null : Number(value)))
    .pipe(z.number().int().min(1).max(100_000_000).nullable()),
  DEDUP_ACROSS_SHARDS: z.enum(["on", "off"]).optional(),
  LIVE_MAX_SOCKETS_PER_TOKEN: intVar(500, 1, 10_000),
  LIVE_MAX_SOCKETS_PER_CLIENT: intVar(50, 1, 10_000),
  SQL_MAX_MEMORY_BYTES: intVar(1024 ** 3, 16 * 1024 ** 2, 1024 ** 4),
  SQL_MAX_CONCURRENT_PER_TOKEN: intVar(2, 1, 64),
  SQL_QUERIES_PER_MINUTE: intVar(60, 0, 100_000),
  CLICKHOUSE_URL: z.string().optional(),
  CLICKHOUSE_USER: z.string().optional(),
  CLICKHOUSE_PASSWORD: z.string().optional(),
  CLICKHOUSE_DATABASE: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
    .optional(),
  ADMIN_TOKEN: z.string().optional(),
  VISITOR_SECRET: z.string().optional(),
  SITES: z.string().optional(),
  LOCAL_DEV: z.string().optional(),
  /** Requests per second for a whole site (0: no site limit; each shard enforces a SHARDS-th). */
  RATE_LIMIT_SITE_PER_SECOND: rateVar,
  RATE_LIMIT_SITE_BURST: rateVar,
  /** 0 turns the per-client Rate Limiting binding off; its limit itself is in wrangler.toml. */
  RATE_LIMIT_CLIENT_PER_SECOND: rateVar,
  // OpenTelemetry (tracing/tracing-config.ts parses them, leniently).
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.string().optional(),
  OTEL_EXPORTER_OTLP_HEADERS: z.string().optional(),
  OTEL_EXPORTER_OTLP_TIMEOUT: z.string().optional(),
  OTEL_TRACES_SAMPLER: z.string().optional(),
  OTEL_TRACES_SAMPLER_ARG: z.string().optional(),
  OTEL_SERVICE_NAME: z.string().optional(),
});

export interface ClickHouseConfig {
  /** '' when not configured: flushes back off and /readyz reports it. */
  url: string;
  username: string;
  password: string;
  database: string;
}

/** Bounds on the SQL console, per query and per token. */
export interface SqlConsoleLimits {
  maxMemoryBytes: number;
  maxConcurrentPerToken: number;
  /** 0: no rate limit. */
  queriesPerMinute: number;
}

/** Live sockets one token, and one client address, may hold on a site's hub. */
export interface LiveLimits {
  maxSocketsPerToken: number;
  maxSocketsPerClient: number;
}

export interface Config {
  windowSeconds: number;
  allowedLatenessSeconds: number;
  sessionIdleMinutes: number;
  shards: number;
  /** null: the shard's own default (shard-engine.ts MAX_PENDING_EVENTS). */
  shardMaxPendingEvents: number | null;
  clickhouse: ClickHouseConfig;
  sqlConsole: SqlConsoleLimits;
  live: LiveLimits;
  /** Whether a resend probes every shard and is placed by the BatchLedger, so it counts once on any shard. */
  batchLedger: boolean;
  adminToken: string | null;
  visitorSecret: string | null;
  sites: ReadonlyMap<string, SiteConfig>;
  localDev: boolean;
  rateLimits: RateLimits;
  /** null: tracing off (no OTLP endpoint set). */
  tracing: TracingSettings | null;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

function parseSites(raw: string | undefined): SiteConfig[] {
  if (raw === undefined || raw.trim() === "") return [];
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new ConfigError(
      'SITES must be a JSON array like [{"key":"shop","origins":["https://shop.example"],"token":"…"}]',
    );
  }
  const parsed = z.array(siteConfigSchema).safeParse(json);
  if (!parsed.success) throw new ConfigError(`SITES is invalid: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

const cache = new WeakMap<object, Config>();

/** Parses `env` once per isolate (env objects are stable per isolate). */
export function loadConfig(env: object): Config {
  const cached = cache.get(env);
  if (cached) return cached;
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(`invalid configuration: ${z.prettifyError(parsed.error)}`);
  const vars = parsed.data;
  const localDev = vars.LOCAL_DEV === "1" || vars.LOCAL_DEV === "true";
  const sites = new Map(parseSites(vars.SITES).map((site) => [site.key, site]));
  if (localDev && !sites.has(LOCAL_DEV_SITE))
    sites.set(LOCAL_DEV_SITE, { key: LOCAL_DEV_SITE, origins: ["*"], time_zone: "UTC" });
  const config: Config = {
    windowSeconds: vars.WINDOW_SECONDS,
    allowedLatenessSeconds: vars.ALLOWED_LATENESS_SECONDS,
    sessionIdleMinutes: vars.SESSION_IDLE_MINUTES,
    shards: vars.SHARDS,
    shardMaxPendingEvents: vars.SHARD_MAX_PENDING_EVENTS,
    clickhouse: {
      url: vars.CLICKHOUSE_URL?.trim() || (localDev ? LOCAL_DEV_CLICKHOUSE_URL : ""),
      username: vars.CLICKHOUSE_USER?.trim() || "default",
      password: vars.CLICKHOUSE_PASSWORD ?? "",
      database: vars.CLICKHOUSE_DATABASE || "edgepulse",
    },
    sqlConsole: {
      maxMemoryBytes: vars.SQL_MAX_MEMORY_BYTES,
      maxConcurrentPerToken: vars.SQL_MAX_CONCURRENT_PER_TOKEN,
      queriesPerMinute: vars.SQL_QUERIES_PER_MINUTE,
    },
    batchLedger: vars.DEDUP_ACROSS_SHARDS !== "off",
    live: {
      maxSocketsPerToken: vars.LIVE_MAX_SOCKETS_PER_TOKEN,
      maxSocketsPerClient: vars.LIVE_MAX_SOCKETS_PER_CLIENT,
    },
    adminToken: vars.ADMIN_TOKEN || (localDev ? LOCAL_DEV_ADMIN_TOKEN : null),
    visitorSecret: vars.VISITOR_SECRET || (localDev ? LOCAL_DEV_VISITOR_SECRET : null),
    sites,
    localDev,
    rateLimits: rateLimits(vars),
    tracing: tracingSettingsFrom(vars),
  };
  cache.set(env, config);
  return config;
}
