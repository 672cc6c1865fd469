/**
 * The route of a resend (worker/resend.ts says which batches are): ask every shard of the site
 * whether it holds the batch id, and if none does, claim the id in its BatchLedger slice and
 * send it to the shard the ledger names, past that shard's tombstone. worker/routes/events.ts
 * has the protocol and its race analysis.
 */
import type { Context } from "hono";
import type { BatchClaim } from "../durable-objects/batch-ledger";
import { batchLedgerName, ingestShardName } from "../common/shard-routing";
import type { BatchProbe } from "../protocol";
import type { AppEnv } from "./app-env";
import { ApiError } from "./errors";

/** Seconds a client waits before retrying when an object could not be reached. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 2;

function unavailable(): ApiError {
  return new ApiError(
    503,
    "unavailable",
    "the collector is busy; retry with the same batch",
    undefined,
    UNAVAILABLE_RETRY_AFTER_SECONDS,
  );
}

export function batchConflict(batchId: string): ApiError {
  return new ApiError(
    409,
    "batch_conflict",
    `batch id ${batchId} was already used for other events; every batch needs an id of its own`,
  );
}

/**
 * True when a shard of the site holds the batch (the resend is a duplicate). False when none
 * does: each has then recorded a tombstone, so a first attempt still in flight is refused
 * wherever it lands. Throws 409 when a shard holds the id for other events, 503 when a shard
 * cannot answer or holds its bound of tombstones.
 */
export async function resendIsHeld(
  c: Context<AppEnv>,
  site: string,
  batchId: string,
  digest: string,
  shards: number,
): Promise<boolean> {
  const namespace = c.env.INGEST_SHARD;
  let answers: BatchProbe[];
  try {
    answers = await Promise.all(
      Array.from({ length: shards }, (_, shard) =>
        namespace.get(namespace.idFromName(ingestShardName(site, shard))).probeBatch(batchId, digest),
      ),
    );
  } catch (error) {
    console.error("batch probe failed", { site, error: String(error) });
    throw unavailable();
  }
  if (answers.some((answer) => answer.status === "conflict")) throw batchConflict(batchId);
  if (answers.some((answer) => answer.status === "held")) return true;
  let retryAfter = 0;
  for (const answer of answers)
    if (answer.status === "full") retryAfter = Math.max(retryAfter, answer.retry_after_seconds);
  if (retryAfter > 0) {
    throw new ApiError(
      503,
      "overloaded",
      "the collector holds its bound of resent batch ids; retry later with the same batch",
      undefined,
      retryAfter,
    );
  }
  return false;
}

/**
 * The shard a resend that no shard holds goes to: the one its id was claimed for before (a
 * concurrent resend from another address, or an earlier one that was refused), else its
 * visitor's, which the claim records. Throws 409 when the id was claimed for other events.
 */
export async function claimShard(
  c: Context<AppEnv>,
  site: string,
  batchId: string,
  visitorShard: number,
  digest: string,
  shards: number,
): Promise<number> {
  const ledger = c.env.BATCH_LEDGER.get(c.env.BATCH_LEDGER.idFromName(batchLedgerName(site, batchId, shards)));
  let claim: BatchClaim;
  try {
    claim = await ledger.claim(batchId, visitorShard, digest);
  } catch (error) {
    console.error("batch ledger call failed", { site, error: String(error) });
    throw unavailable();
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
  if (claim.status === "conflict") throw batchConflict(batchId);
  return claim.shard;
}
