/**
 * Benchmarks 1 and 2: maximum sustained requests per second of a target (closed loop, wrk,
 * over a few connection counts), and latency at a fixed offered rate (open loop, the load
 * generator). The same procedure runs against the hello-world baseline and the collector,
 * so their ratio compares like with like.
 */
import { execFileSync } from "node:child_process";
import type { OutgoingBatch } from "../tools/batch-stream";
import { startCpuMeter } from "./cpu";
import { runWrk, type WrkResult } from "./wrk";
import type { LatencySummary } from "../tools/latency-histogram";
import { runLoad } from "../tools/run-load";

export interface ThroughputLevel {
  connections: number;
  requestsPerSecond: number;
  eventsPerSecond: number;
  failures: number;
  statuses: Record<string, number>;
  latencyMs: { p50: number; p99: number };
  /** CPU the server's processes (workerd; wrangler's Node too under wrangler dev) spent per request, ms. */
  serverCpuMsPerRequest: number;
  /** CPU the load client spent per request, ms. */
  clientCpuMsPerRequest: number;
  /** Share of the whole machine busy during the level (all processes, 0–1). */
  machineBusy: number;
  client: "wrk" | "node";
}

export interface SweepResult {
  levels: ThroughputLevel[];
  /** Highest throughput without a single failed request; null when every level failed. */
  best: ThroughputLevel | null;
}

let wrkAvailable: boolean | null = null;
export function hasWrk(): boolean {
  if (wrkAvailable === null) {
    try {
      execFileSync("wrk", ["--version"], { stdio: "ignore" });
      wrkAvailable = true;
    } catch (error) {
      // wrk --version exits 1 after printing its version; only a missing binary throws ENOENT.
      wrkAvailable = !(error instanceof Error && "code" in error && error.code === "ENOENT");
    }
  }
  return wrkAvailable;
}

export interface SweepOptions {
  url: string;
  /** CPU ms used so far by the server's processes (RunningWorker.cpuMs). */
  serverCpuMs: () => number;
  /** wrk request lines (wrk.ts) and the batches behind them, for the Node fallback. */
  bodiesPath: string;
  nextBatch: () => OutgoingBatch;
  eventsPerBatch: number;
  connectionLevels: readonly number[];
  durationSeconds: number;
  runId: string;
}

/** One closed-loop run at `connections`: wrk, or the Node load generator where wrk is missing. */
export async function measureClosedLoop(options: SweepOptions, connections: number): Promise<ThroughputLevel> {
  const useWrk = hasWrk();
  const meter = startCpuMeter({ server: options.serverCpuMs, client: useWrk ? "child" : "in-process" });
  let result: WrkResult;
  if (useWrk) {
    result = await runWrk({
      url: options.url,
      bodiesPath: options.bodiesPath,
      runId: `${options.runId}-c${connections}`,
      connections,
      durationSeconds: options.durationSeconds,
    });
  } else {
    const report = await runLoad({
      url: options.url,
      rate: Infinity,
      rateUnit: "batches",
      durationMs: options.durationSeconds * 1000,
      maxBatches: Number.MAX_SAFE_INTEGER,
      concurrency: connections,
      maxRetries: 0,
      nextBatch: options.nextBatch,
    });
    const failures = Object.values(report.rejected).reduce((sum, count) => sum + count, 0);
    result = {
      requestsPerSecond: report.batchesPerSecond,
      requests: report.sent,
      failures,
      statuses: { "202": report.accepted, ...report.rejected },
      socketErrors: report.rejected["0"] ?? 0,
      latencyMs: { p50: report.latency.p50, p90: report.latency.p90, p99: report.latency.p99, max: report.latency.max },
      connections,
      threads: 1,
    };
  }
  const cpu = meter.stop();
  const requests = Math.max(1, result.requests);
  return {
    connections,
    requestsPerSecond: result.requestsPerSecond,
    eventsPerSecond: result.requestsPerSecond * options.eventsPerBatch,
    failures: result.failures,
    statuses: result.statuses,
    latencyMs: { p50: result.latencyMs.p50, p99: result.latencyMs.p99 },
    serverCpuMsPerRequest: cpu.serverCpuMs / requests,
    clientCpuMsPerRequest: cpu.clientCpuMs / requests,
    machineBusy: cpu.machineBusy,
    client: useWrk ? "wrk" : "node",
  };
}

/** Runs every connection level; the best is the highest throughput with zero failures. */
export async function sweepThroughput(options: SweepOptions, log: (line: string) => void): Promise<SweepResult> {
  const levels: ThroughputLevel[] = [];
  for (const connections of options.connectionLevels) {
    const level = await measureClosedLoop(options, connections);
    levels.push(level);
    log(
      `  c=${connections}: ${level.requestsPerSecond.toFixed(0)} req/s, p50 ${level.latencyMs.p50.toFixed(1)} ms, p99 ${level.latencyMs.p99.toFixed(1)} ms, ` +
        `failures ${level.failures}, server CPU ${level.serverCpuMsPerRequest.toFixed(3)} ms/req, machine ${(level.machineBusy * 100).toFixed(0)} % busy`,
    );
  }
  const clean = levels.filter((level) => level.failures === 0);
  const best = clean.reduce<ThroughputLevel | null>(
    (top, level) => (top === null || level.requestsPerSecond > top.requestsPerSecond ? level : top),
    null,
  );
  return { levels, best };
}

export interface OpenLoopResult {
  offeredPerSecond: number;
  achievedPerSecond: number;
  sent: number;
  failures: number;
  rejected: Record<string, number>;
  /** From each batch's due time to its answer (includes any queueing in the client). */
  latency: LatencySummary;
  maxScheduleLagMs: number;
  serverCpuMsPerRequest: number;
  clientCpuMsPerRequest: number;
}

/** Offers `rate` batches/s for `durationMs` with the Node load generator and reports latency. */
export async function openLoop(
  url: string,
  serverCpuMs: () => number,
  rate: number,
  durationMs: number,
  nextBatch: () => OutgoingBatch,
  concurrency = 256,
): Promise<OpenLoopResult> {
  const meter = startCpuMeter({ server: serverCpuMs, client: "in-process" });
  const report = await runLoad({
    url,
    rate,
    rateUnit: "batches",
    durationMs,
    maxBatches: Number.MAX_SAFE_INTEGER,
    concurrency,
    maxRetries: 0,
    nextBatch,
  });
  const cpu = meter.stop();
  return {
    offeredPerSecond: rate,
    achievedPerSecond: report.batchesPerSecond,
    sent: report.sent,
    failures: Object.values(report.rejected).reduce((sum, count) => sum + count, 0) + report.abandoned,
    rejected: report.rejected,
    latency: report.latencyFromDue,
    maxScheduleLagMs: report.maxScheduleLagMs,
    serverCpuMsPerRequest: cpu.serverCpuMs / Math.max(1, report.sent),
    clientCpuMsPerRequest: cpu.clientCpuMs / Math.max(1, report.sent),
  };
}
