/**
 * `POST /v1/events` (wire protocol v1): read a bounded body, validate, check site and origin,
 * enrich, and hand the batch to the IngestShard of (site, hash(visitor) % SHARDS) by RPC.
 * Every refusal is a 4xx JSON error; a shard that cannot answer is a 503 the SDK retries with
 * the same batch id, which the shard's dedup makes safe.
 *
 * A batch counts once on any shard. The shard keeps every batch id it took, with a digest of
 * its events, for 24 h: a repeat on the same shard is a duplicate (202), the id with other
 * events a 409. A shard is chosen by visitor, and a cookieless visitor id hashes the client's
 * address and User-Agent, so a batch resent after a network change can reach another shard,
 * which never saw its id. That only happens to a resend, so the route splits on it
 * (worker/resend.ts says which batches count as resends, erring towards "resend"):
 *
 * - A first send goes straight to its visitor's shard: no other call on the way.
 * - A resend (DEDUP_ACROSS_SHARDS on) first asks every shard of the site, in parallel, whether
 *   it holds the id (`probeBatch`: storage only, no admission or rate budget). One does → 202
 *   duplicate (409 if with other events). None does → each has recorded a tombstone for the id
 *   (batch-tombstones.ts), and the resend claims the id in its BatchLedger slice
 *   (batch-ledger.ts), which names the shard of the id's first claim (else records the
 *   visitor's), and is ingested there with `pass_tombstone`. A shard refuses a batch it holds
 *   a tombstone for, without that flag, with a retryable 503, never "duplicate": the resend
 *   may yet fail, so the client must keep the batch and resend it (marked), and the probe then
 *   finds it.
 *
 * Races (one shard handles one call at a time, and the probe, the tombstone check and the
 * ingest are each one SQLite transaction there, so on a shard each happens before or after
 * the other, never between):
 * - First attempt F still in flight when resend R probes. F lands before R's probe on its shard
 *   → R finds it: duplicate. After → the tombstone refuses F (503); R goes through the ledger
 *   and counts once; F's client resends marked and is told duplicate (or, if R was refused
 *   too, the first marked resend to pass the probe counts it). F can only land on its own
 *   visitor's shard, which R probed, so F never counts beside R.
 * - Two resends at once from different addresses (two tabs, a network change mid-retry): both
 *   may find no holder; the ledger serialises them onto one shard (the first claim's), whose
 *   batch ids make the second a duplicate. Only a resend that passed the probe of every shard
 *   is ingested past a tombstone, and all of them go to the ledger's one shard.
 * - A resend on another day: the cookieless visitor's day is the batch's earliest event's
 *   (visitor-id.ts), so the same address still derives the same visitor; a holder is found
 *   while it keeps the id (24 h, like the ledger's claims and the tombstones), after which a
 *   resend counts again, as before.
 * - An id reused by a *different* visitor on a first send (another client picking the same
 *   id) reaches that visitor's shard, which never saw it: it is counted there, as the
 *   different batch it is. Only a reuse on the same shard, or seen by a resend's probe, is a
 *   409 (before, the ledger refused every reuse; it now sees resends only).
 * - An unmarked resend that worker/resend.ts takes for a first send (an old SDK's page-hide
 *   beacon within 500 ms of a fetch of the same batch) goes to its visitor's shard: counted
 *   once unless the address changed within that half second.
 * With DEDUP_ACROSS_SHARDS=off nothing is probed or claimed: every batch goes to its visitor's
 * shard, and a resend from another address counts again.
 */
import { Hono } from "hono";
import { sha256Hex } from "../../common/crypto";
import { formatTraceparent } from "../../tracing/trace-context";
import { batchSchema, MAX_BODY_BYTES, type AcceptedResponse, type IngestOutcome } from "../../protocol";
import type { AppEnv } from "../app-env";
import { decodeUtf8, readBoundedBody } from "../bounded-body";
import { clientIp } from "../client-ip";
import { enrichBatch } from "../enrich";
import { isBotUserAgent } from "../bot-filter";
import { ApiError } from "../errors";
import { ingestShardName, shardIndexFor } from "../../common/shard-routing";
import { isResend } from "../resend";
import { batchConflict, claimShard, resendIsHeld, UNAVAILABLE_RETRY_AFTER_SECONDS } from "../resend-route";
import { anySiteAllowsOrigin, requireSite } from "../site-directory";
import { corsHeaders, preflightHeaders, requireOriginAllowed } from "../sites";
import { countRefusedRequests, enforceClientRateLimit, rateLimitsFrom, shardSiteBudget } from "../rate-limit";
import { recordBotBatch } from "../refusal-counter";
import { parseUserAgent } from "../user-agent";
import { deriveVisitorId, visitorDayOf } from "../visitor-id";

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

/** Hex SHA-256 of the batch's events as accepted: what a resend must repeat (its `sent_at` and `retry` may change). */
async function eventsDigest(events: unknown): Promise<string> {
  return sha256Hex(JSON.stringify(events));
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
  const visitorShard = shardIndexFor(visitorId, config.shards);
  const digest = await eventsDigest(batch.events);
  let shard = visitorShard;
  let passTombstone = false;
  // With one shard every attempt meets the same batch ids: nothing to probe.
  if (config.batchLedger && config.shards > 1 && isResend(batch)) {
    if (await resendIsHeld(c, site.key, batch.batch, digest, config.shards))
      return c.json({ accepted: 0, duplicate: true } satisfies AcceptedResponse, 202);
    shard = await claimShard(c, site.key, batch.batch, visitorShard, digest, config.shards);
    passTombstone = true;
  }
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
      { digest, pass_tombstone: passTombstone },
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
    case "conflict":
      throw batchConflict(batch.batch);
    case "tombstoned":
      throw new ApiError(
        503,
        "unavailable",
        "a resend of this batch is being counted; resend it (marked, retry: 1) to be told it was",
        undefined,
        outcome.retry_after_seconds,
      );
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
