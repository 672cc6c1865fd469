/**
 * Counting refused requests by error code, and bot batches by site, for `/metrics`, without slowing the answer or
 * hammering one object during a flood: counts gather in this isolate and one send at a time
 * carries everything gathered so far to the Telemetry object. A request that finds no send
 * under way starts one (after a short pause that lets a burst gather) and keeps it alive with
 * waitUntil; counts added while it is in flight ride on its next round. A failed send puts its counts back for the next one (the map is
 * bounded by the closed set of error codes), so a hiccup delays counts but does not drop them.
 */
import type { Context } from "hono";
import type { ErrorCode } from "../protocol";
import type { BotBatchCounts, RejectionCounts } from "../durable-objects/telemetry";

/** The single Telemetry object's name: refusals arrive coalesced, nothing to shard. */
export const TELEMETRY_OBJECT_NAME = "global";

const pending = new Map<ErrorCode, number>();
/** Bot batches by site key: bounded by the configured sites (counted only once the site is known). */
const pendingBotBatches = new Map<string, number>();
/** When the send under way started, or null. A send older than this bound is presumed dead
 * (its request context was cancelled) and no longer blocks a new one. */
let sendingSince: number | null = null;
const STALE_SEND_MS = 10_000;
/** A send waits this long first, so a burst of refusals travels in one call (metrics lag by as much). */
const GATHER_MS = 50;

function takePending(): RejectionCounts {
  const counts: RejectionCounts = Object.fromEntries(pending);
  pending.clear();
  return counts;
}

function takePendingBotBatches(): BotBatchCounts {
  const counts: BotBatchCounts = Object.fromEntries(pendingBotBatches);
  pendingBotBatches.clear();
  return counts;
}

function restoreBotBatches(counts: BotBatchCounts): void {
  for (const [site, count] of Object.entries(counts))
    pendingBotBatches.set(site, (pendingBotBatches.get(site) ?? 0) + count);
}

function restore(counts: RejectionCounts): void {
  for (const [code, count] of Object.entries(counts) as [ErrorCode, number][])
    pending.set(code, (pending.get(code) ?? 0) + count);
}

type TelemetryBinding = Pick<Env, "TELEMETRY">;

async function sendPending(env: TelemetryBinding): Promise<void> {
  const startedAt = Date.now();
  sendingSince = startedAt;
  try {
    await new Promise((resolve) => setTimeout(resolve, GATHER_MS));
    const telemetry = env.TELEMETRY.get(env.TELEMETRY.idFromName(TELEMETRY_OBJECT_NAME));
    while (pending.size > 0 || pendingBotBatches.size > 0) {
      const counts = takePending();
      const botBatches = takePendingBotBatches();
      try {
        if (Object.keys(counts).length > 0) await telemetry.addRejections(counts);
      } catch (error) {
        restore(counts);
        restoreBotBatches(botBatches);
        console.error("telemetry send failed; counts kept for the next send", String(error));
        return;
      }
      try {
        if (Object.keys(botBatches).length > 0) await telemetry.addBotBatches(botBatches);
      } catch (error) {
        restoreBotBatches(botBatches);
        console.error("telemetry send failed; counts kept for the next send", String(error));
        return;
      }
    }
  } finally {
    if (sendingSince === startedAt) sendingSince = null;
  }
}

/** Counts one refused request. `waitUntil` keeps the isolate alive until the send is done. */
export function countRejection(
  env: TelemetryBinding,
  code: ErrorCode,
  waitUntil: ((promise: Promise<unknown>) => void) | null,
): void {
  pending.set(code, (pending.get(code) ?? 0) + 1);
  startSend(env, waitUntil);
}

/** Counts one batch refused as a bot's, for a configured site. */
export function countBotBatch(
  env: TelemetryBinding,
  site: string,
  waitUntil: ((promise: Promise<unknown>) => void) | null,
): void {
  pendingBotBatches.set(site, (pendingBotBatches.get(site) ?? 0) + 1);
  startSend(env, waitUntil);
}

function startSend(env: TelemetryBinding, waitUntil: ((promise: Promise<unknown>) => void) | null): void {
  if (sendingSince !== null && Date.now() - sendingSince < STALE_SEND_MS) return;
  const send = sendPending(env);
  if (waitUntil !== null) waitUntil(send);
}

function hasTelemetryBinding(env: unknown): env is TelemetryBinding {
  return typeof env === "object" && env !== null && "TELEMETRY" in env;
}

/**
 * Counts the refusal `handleError` is answering. An app driven without bindings (unit tests
 * calling `app.request`) has nothing to count into and is skipped.
 */
export function recordRejection(c: Context, code: ErrorCode): void {
  const env: unknown = c.env;
  if (!hasTelemetryBinding(env)) return;
  countRejection(env, code, waitUntilOf(c));
}

/** Counts a batch refused as a bot's (worker/bot-filter.ts), as recordRejection does a refusal. */
export function recordBotBatch(c: Context, site: string): void {
  const env: unknown = c.env;
  if (!hasTelemetryBinding(env)) return;
  countBotBatch(env, site, waitUntilOf(c));
}

function waitUntilOf(c: Context): ((promise: Promise<unknown>) => void) | null {
  try {
    const executionCtx = c.executionCtx;
    return (promise) => executionCtx.waitUntil(promise);
  } catch {
    // No ExecutionContext (a test harness): the send still runs, just not kept alive.
    return null;
  }
}

/** Reads the bot batch counters, by site. */
export function botBatchCounts(env: TelemetryBinding): Promise<BotBatchCounts> {
  return env.TELEMETRY.get(env.TELEMETRY.idFromName(TELEMETRY_OBJECT_NAME)).botBatches();
}

/** Reads every counter the Telemetry object holds. */
export function rejectionCounts(env: TelemetryBinding): Promise<RejectionCounts> {
  return env.TELEMETRY.get(env.TELEMETRY.idFromName(TELEMETRY_OBJECT_NAME)).rejections();
}
