/**
 * One load run against a collector: open-loop pacing, bounded concurrency, bounded in time
 * and count, retries of 429/503 with the same batch id after `Retry-After` (as the SDK does),
 * and a report of what happened. The CLI (`tools/loadgen.ts`) and the benchmarks share it.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { acceptedResponseSchema } from "../protocol";
import type { OutgoingBatch } from "./batch-stream";
import { CollectorClient } from "./collector-client";
import { LatencyHistogram, type LatencySummary } from "./latency-histogram";
import { rebaseBatch } from "./session-generator";
import { SendSchedule } from "./send-schedule";

export interface LoadOptions {
  /** Collector base URL, e.g. http://127.0.0.1:8787. */
  url: string;
  /** Per second, in `rateUnit`; `Infinity` = as fast as `concurrency` allows (closed loop). */
  rate: number;
  rateUnit: "batches" | "events";
  durationMs: number;
  /**
   * Stop sending once `durationMs` of wall time has passed even when behind schedule (a soak's
   * length is its wall time); by default a paced run sends every batch its schedule holds.
   */
  endOnWallClock?: boolean;
  /** Stop after this many batches even if time remains. */
  maxBatches: number;
  /** Requests in flight at most. */
  concurrency: number;
  burstFactor?: number;
  burstEveryMs?: number;
  burstForMs?: number;
  /** Attempts after the first, for 429/503/5xx/network errors. */
  maxRetries?: number;
  /** Longest wait honoured from a `Retry-After`. */
  maxRetryWaitMs?: number;
  /** After the schedule ends, how long to wait for answers still outstanding. */
  drainTimeoutMs?: number;
  /** Rebase event times to the send time (on by default; off for bodies that must stay byte-identical). */
  rebase?: boolean;
  nextBatch: () => OutgoingBatch;
  /** Called with every batch's final answer (the soak checks each acknowledged batch in ClickHouse). */
  onAnswer?: (answer: BatchAnswer) => void;
  /** Called about once a second while the run lasts. */
  onProgress?: (progress: LoadProgress) => void;
  signal?: AbortSignal;
}

export interface LoadProgress {
  elapsedMs: number;
  sent: number;
  accepted: number;
  rejected: number;
  retried: number;
  inFlight: number;
  /** Batches answered in the last interval, per second. */
  batchesPerSecond: number;
  eventsPerSecond: number;
  /** Request latency over the last interval. */
  p50: number;
  p99: number;
}

/** A batch's final answer: after its retries, or the first answer that is not retried. */
export interface BatchAnswer {
  batch: OutgoingBatch;
  /** HTTP status; 0 = network error / timeout. */
  status: number;
  /** Events the collector accepted (from a 202's body); 0 for a duplicate, a bot or a refusal. */
  accepted: number;
  /** A 202 saying an earlier attempt of this batch id was already stored. */
  duplicate: boolean;
  /** Request latency of the final attempt, ms. */
  latencyMs: number;
  /** Attempts made, the final one included. */
  attempts: number;
  /** Status of each attempt that was retried, in order (0 = network error / timeout). */
  retriedStatuses: number[];
}

export interface LoadReport {
  durationMs: number;
  /** Batches sent (first attempts). */
  sent: number;
  events: number;
  /** Batches answered 202, and the events they accepted. */
  accepted: number;
  acceptedEvents: number;
  duplicates: number;
  /** Final non-202 answers by status; 0 = network error / timeout. */
  rejected: Record<string, number>;
  /** Attempts after the first. */
  retried: number;
  /** Batches still unanswered when the drain timeout passed. */
  abandoned: number;
  batchesPerSecond: number;
  eventsPerSecond: number;
  /** Per request, from write to full answer. */
  latency: LatencySummary;
  /** Per batch, from its due time to its final answer: includes waits for a free slot and retries. */
  latencyFromDue: LatencySummary;
  /** How far sending fell behind the schedule at most (client or concurrency bound), ms. */
  maxScheduleLagMs: number;
}

const RETRIED_STATUSES = new Set([429, 500, 502, 503, 504]);

export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const schedule = new SendSchedule({
    rate: options.rate,
    ...(options.burstFactor === undefined ? {} : { burstFactor: options.burstFactor }),
    ...(options.burstEveryMs === undefined ? {} : { burstEveryMs: options.burstEveryMs }),
    ...(options.burstForMs === undefined ? {} : { burstForMs: options.burstForMs }),
  });
  const client = new CollectorClient(options.url, options.concurrency);
  const maxRetries = options.maxRetries ?? 5;
  const maxRetryWaitMs = options.maxRetryWaitMs ?? 30_000;
  const latency = new LatencyHistogram();
  const latencyFromDue = new LatencyHistogram();
  let interval = new LatencyHistogram();
  const rejected: Record<string, number> = {};
  let sent = 0;
  let events = 0;
  let accepted = 0;
  let acceptedEvents = 0;
  let duplicates = 0;
  let retried = 0;
  let answered = 0;
  let answeredEvents = 0;
  let maxScheduleLagMs = 0;
  let lastAnswerAt = 0;
  /** Set when the run is over: outstanding retries give up instead of waiting on. */
  let stopped = false;
  const inFlight = new Set<Promise<void>>();
  const start = performance.now();

  const sendOne = async (item: OutgoingBatch, dueAt: number): Promise<void> => {
    const body = JSON.stringify(options.rebase === false ? item.batch : rebaseBatch(item.batch, Date.now()));
    const eventCount = item.batch.events.length;
    const retriedStatuses: number[] = [];
    for (let attempt = 0; ; attempt++) {
      const began = performance.now();
      let status = 0;
      let retryAfterMs: number | null = null;
      let answerBody = "";
      try {
        ({ status, retryAfterMs, body: answerBody } = await client.post("/v1/events", body, item.headers));
      } catch {
        status = 0;
      }
      const took = performance.now() - began;
      latency.record(took);
      interval.record(took);
      const retryable = status === 0 || RETRIED_STATUSES.has(status);
      if (retryable && attempt < maxRetries && !stopped && !options.signal?.aborted) {
        retried++;
        retriedStatuses.push(status);
        // Honour Retry-After; without one, back off exponentially with jitter like the SDK.
        const wait = retryAfterMs ?? Math.min(maxRetryWaitMs, 250 * 2 ** attempt * (0.5 + Math.random()));
        await sleep(Math.min(wait, maxRetryWaitMs), undefined, { ref: false });
        continue;
      }
      answered++;
      answeredEvents += eventCount;
      lastAnswerAt = performance.now();
      latencyFromDue.record(performance.now() - dueAt);
      let acceptedHere = 0;
      let duplicate = false;
      if (status === 202) {
        accepted++;
        const parsed = acceptedResponseSchema.safeParse(safeJson(answerBody));
        if (parsed.success) {
          acceptedHere = parsed.data.accepted;
          duplicate = parsed.data.duplicate;
          acceptedEvents += acceptedHere;
          if (duplicate) duplicates++;
        }
      } else {
        rejected[String(status)] = (rejected[String(status)] ?? 0) + 1;
      }
      options.onAnswer?.({
        batch: item,
        status,
        accepted: acceptedHere,
        duplicate,
        latencyMs: took,
        attempts: attempt + 1,
        retriedStatuses,
      });
      return;
    }
  };

  let lastProgressAt = start;
  let answeredAtLastProgress = 0;
  let answeredEventsAtLastProgress = 0;
  const progressTimer = options.onProgress
    ? setInterval(() => {
        const now = performance.now();
        const seconds = (now - lastProgressAt) / 1000;
        options.onProgress?.({
          elapsedMs: now - start,
          sent,
          accepted,
          rejected: Object.values(rejected).reduce((sum, count) => sum + count, 0),
          retried,
          inFlight: inFlight.size,
          batchesPerSecond: (answered - answeredAtLastProgress) / seconds,
          eventsPerSecond: (answeredEvents - answeredEventsAtLastProgress) / seconds,
          p50: interval.quantile(0.5),
          p99: interval.quantile(0.99),
        });
        lastProgressAt = now;
        answeredAtLastProgress = answered;
        answeredEventsAtLastProgress = answeredEvents;
        interval = new LatencyHistogram();
      }, 1000)
    : undefined;

  try {
    while (sent < options.maxBatches && !options.signal?.aborted) {
      const item = options.nextBatch();
      const due = schedule.next(options.rateUnit === "events" ? item.batch.events.length : 1);
      if (due >= options.durationMs) break;
      const wait = start + due - performance.now();
      // Timers fire no finer than ~1 ms; closer than that, send now and stay on schedule on average.
      if (wait > 1) await sleep(wait);
      while (inFlight.size >= options.concurrency) await Promise.race(inFlight);
      if ((schedule.unpaced || options.endOnWallClock === true) && performance.now() - start >= options.durationMs)
        break;
      const dueAt = schedule.unpaced ? performance.now() : start + due;
      maxScheduleLagMs = Math.max(maxScheduleLagMs, performance.now() - dueAt);
      sent++;
      events += item.batch.events.length;
      const task: Promise<void> = sendOne(item, dueAt).finally(() => inFlight.delete(task));
      inFlight.add(task);
    }
    const drainTimer = new AbortController();
    const timedOut = sleep(options.drainTimeoutMs ?? 30_000, undefined, { signal: drainTimer.signal }).catch(
      () => undefined,
    );
    await Promise.race([Promise.all(inFlight), timedOut]);
    drainTimer.abort();
  } finally {
    stopped = true;
    if (progressTimer) clearInterval(progressTimer);
    client.close();
  }

  const durationMs = performance.now() - start;
  // Rates over the time answers kept coming, so waiting out a drain timeout does not dilute them.
  const answeringSeconds = Math.max(1, lastAnswerAt - start) / 1000;
  return {
    durationMs,
    sent,
    events,
    accepted,
    acceptedEvents,
    duplicates,
    rejected,
    retried,
    abandoned: inFlight.size,
    batchesPerSecond: answered / answeringSeconds,
    eventsPerSecond: answeredEvents / answeringSeconds,
    latency: latency.summary(),
    latencyFromDue: latencyFromDue.summary(),
    maxScheduleLagMs,
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
