/**
 * `POST /v1/events` (wire protocol v1): read a bounded body, validate, check site and origin,
 * enrich, and hand the batch to the IngestShard of (site, hash(visitor) % SHARDS) by RPC, or
 * to the shard the BatchLedger says the batch id went to before (see batch-ledger.ts).
 * Every refusal is a 4xx JSON error; a shard that cannot answer is a 503 the SDK retries with
 * the same batch id, which the shard's dedup makes safe.
 */
import { type Context, Hono } from "hono";
import { sha256Hex } from "../../common/crypto";
import type { BatchClaim } from "../../durable-objects/batch-ledger";
import { formatTraceparent } from "../../tracing/trace-context";
import { type Batch, batchSchema, MAX_BODY_BYTES, type AcceptedResponse, type IngestOutcome } from "../../protocol";
import type { AppEnv } from "../app-env";
import { decodeUtf8, readBoundedBody } from "../bounded-body";
import { clientIp } from "../client-ip";
import { enrichBatch } from "../enrich";
import { isBotUserAgent } from "../bot-filter";
import { ApiError } from "../errors";
import { batchLedgerName, ingestShardName, shardIndexFor } from "../../common/shard-routing";
import { anySiteAllowsOrigin, requireSite } from "../site-directory";
import { corsHeaders, preflightHeaders, requireOriginAllowed } from "../sites";
import { countRefusedRequests, enforceClientRateLimit, rateLimitsFrom, shardSiteBudget } from "../rate-limit";
import { recordBotBatch } from "../refusal-counter";
import { parseUserAgent } from "../user-agent";
import { deriveVisitorId, visitorDayOf } from "../visitor-id";

/** Seconds a client waits before retrying when the shard could not be reached. */
const UNAVAILABLE_RETRY_AFTER_SECONDS = 2;
const ACCEPTED_MEDIA_TYPES = new Set(["text/plain", "application/json"]);

/** ISO country code from request.cf; '' when absent (local runs, tests) or malformed. */
function countryOf(request: Request): string {
  const cf: unknown = request.cf;
  if (typeof cf !== "object" || cf === null || !("country" in cf)) return "";
  const country = cf.country;
  return typeof country === "string" && /^[A-Za-z0-9]{2}$/.test(country) ? country.toUpperCase() : "";
}

function requireSupportedMediaType(contentType: string | undefined): void {
  const mediaType = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (!ACCEPTED_MEDIA_TYPES.has(mediaType)) {
    throw new ApiError(
      415,
      "unsupported_media_type",
      `Content-Type must be text/plain or application/json, not "${mediaType || "(none)"}"`,
    );
  }
}

/** Hex SHA-256 of the batch's events as accepted: what a resend must repeat (its `sent_at` may change). */
async function eventsDigest(events: unknown): Promise<string> {
  return sha256Hex(JSON.stringify(events));
}

/**
 * The shard a batch goes to: its visitor's, unless its id went to another shard before (a
 * resend after the client's IP or User-Agent changed), then that one, which knows the id.
 * Throws 409 when the id was used for other events.
 */
async function claimShard(c: Context<AppEnv>, site: string, batch: Batch, visitorShard: number): Promise<number> {
  const config = c.get("config");
  if (!config.batchLedger) return visitorShard;
  const ledger = c.env.BATCH_LEDGER.get(
    c.env.BATCH_LEDGER.idFromName(batchLedgerName(site, batch.batch, config.shards)),
  );
  let claim: BatchClaim;
  try {
    claim = await ledger.claim(batch.batch, visitorShard, await eventsDigest(batch.events));
  } catch (error) {
    console.error("batch ledger call failed", { site, error: String(error) });
    throw new ApiError(
      503,
      "unavailable",
      "the collector is busy; retry with the same batch",
      undefined,
      UNAVAILABLE_RETRY_AFTER_SECONDS,
    );
  }
  if (claim.status === "full") {
    throw new ApiError(
      503,
      "overloaded",
      "the collector holds its bound of batch ids; retry later with the same batch",
      undefined,
      claim.retry_after_seconds,
    );
  }
  if (claim.status === "conflict") {
    throw new ApiError(
      409,
      "batch_conflict",
      `batch id ${batch.batch} was already used for other events; every batch needs an id of its own`,
    );
  }
  return claim.shard;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = error instanceof SyntaxError ? `: ${error.message}` : "";
    throw ApiError.invalidPayload(`the body is not valid JSON${reason}`);
  }
}

export const eventsRoutes = new Hono<AppEnv>();

// Browsers may read answers (errors included) only when they carry the CORS header; it is set
// for origins some site allows, before any check can throw.
eventsRoutes.use("*", async (c, next) => {
  const origin = c.req.header("Origin");
  if (origin !== undefined && (await anySiteAllowsOrigin(c, origin))) {
    for (const [name, value] of Object.entries(corsHeaders(origin))) c.header(name, value);
  }
  await next();
});

// Refused requests count against their client's rate limit too (worker/rate-limit.ts).
eventsRoutes.use("/", countRefusedRequests);

eventsRoutes.options("/", async (c) => {
  const origin = c.req.header("Origin");
  if (origin === undefined) return c.body(null, 204, { Allow: "POST, OPTIONS" });
  if (!(await anySiteAllowsOrigin(c, origin)))
    throw new ApiError(403, "origin_not_allowed", `origin ${origin} may not post events`);
  return c.body(null, 204, preflightHeaders(origin));
});

eventsRoutes.post("/", async (c) => {
  const config = c.get("config");
  const request = c.req.raw;
  requireSupportedMediaType(c.req.header("Content-Type"));
  const body = await readBoundedBody(request, MAX_BODY_BYTES);
  if (body.byteLength === 0) throw ApiError.invalidPayload("the body is empty");
  const parsed = batchSchema.safeParse(parseJson(decodeUtf8(body)));
  if (!parsed.success) throw ApiError.fromZod(parsed.error);
  const batch = parsed.data;

  const site = await requireSite(c, batch.site);
  requireOriginAllowed(site, c.req.header("Origin") ?? null);
  const clientKey = await enforceClientRateLimit(c, site.key);

  const userAgent = c.req.header("User-Agent") ?? "";
  // Bots are out of every count: refused here, before any shard or ledger call, with a 202 a
  // client has no reason to retry, and counted for /metrics.
  if (isBotUserAgent(userAgent)) {
    recordBotBatch(c, site.key);
    return c.json({ accepted: 0, duplicate: false, ignored: "bot" } satisfies AcceptedResponse, 202);
  }
  const receivedAt = Date.now();
  let visitorId = batch.visitor;
  if (visitorId === undefined) {
    if (config.visitorSecret === null) {
      throw new ApiError(
        503,
        "unavailable",
        "the collector is misconfigured: VISITOR_SECRET is not set, so no cookieless visitor id can be derived",
      );
    }
    visitorId = await deriveVisitorId({
      secret: config.visitorSecret,
      site: site.key,
      ip: clientIp(request.headers),
      userAgent,
      at: visitorDayOf(batch),
    });
  }
  const shard = await claimShard(c, site.key, batch, shardIndexFor(visitorId, config.shards));
  const enriched = enrichBatch(batch, {
    receivedAt,
    visitorId,
    shard,
    country: countryOf(request),
    userAgent: parseUserAgent(userAgent),
  });

  const stub = c.env.INGEST_SHARD.get(c.env.INGEST_SHARD.idFromName(ingestShardName(site.key, shard)));
  let outcome: IngestOutcome;
  try {
    const trace = c.get("trace");
    outcome = await stub.ingest(
      enriched,
      { client_key: clientKey, site_budget: shardSiteBudget(rateLimitsFrom(c.env).site, config.shards) },
      // Truthiness, not === null: a router mounted without traceRequest (a test app) has no value at all.
      trace ? formatTraceparent(trace) : null,
    );
  } catch (error) {
    // An overloaded or restarting object, a reset connection: the batch may or may not have
    // been stored, and a retry with the same batch id is deduplicated either way.
    console.error("ingest shard call failed", { site: site.key, shard, error: String(error) });
    throw new ApiError(
      503,
      "unavailable",
      "the ingest shard is unavailable; retry with the same batch",
      undefined,
      UNAVAILABLE_RETRY_AFTER_SECONDS,
    );
  }
  switch (outcome.status) {
    case "accepted":
      return c.json({ accepted: outcome.accepted, duplicate: false } satisfies AcceptedResponse, 202);
    case "duplicate":
      return c.json({ accepted: 0, duplicate: true } satisfies AcceptedResponse, 202);
    case "overloaded":
      throw new ApiError(
        503,
        "overloaded",
        "the ingest shard is overloaded; retry later with the same batch",
        undefined,
        outcome.retry_after_seconds,
      );
    case "rate_limited":
      throw new ApiError(
        429,
        "rate_limited",
        `too many requests for site "${site.key}"; retry after ${outcome.retry_after_seconds} s with the same batch`,
        undefined,
        outcome.retry_after_seconds,
      );
  }
});

// Any other method on the ingest route is a client bug: say which methods exist.
eventsRoutes.all("/", (c) => {
  c.header("Allow", "POST, OPTIONS");
  throw new ApiError(405, "method_not_allowed", `${c.req.method} is not allowed on /v1/events; send batches with POST`);
});
