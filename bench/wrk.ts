/**
 * Closed-loop maximum throughput with wrk (C, event-driven: on this machine it needs far less
 * CPU per request than any Node client, so it leaves the most for the server measured).
 * Requests are pre-generated SDK batches (`bench/wrk-post-batches.lua` gives each a unique
 * batch id).
 */
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { z } from "zod";
import { BatchStream } from "../tools/batch-stream";
import { PROJECT_ROOT } from "../tools/wrangler-dev";

const run = promisify(execFile);
const WRK_SCRIPT = join(PROJECT_ROOT, "bench/wrk-post-batches.lua");

const wrkSummarySchema = z.object({
  requests: z.number(),
  duration_us: z.number(),
  bytes: z.number(),
  p50_us: z.number(),
  p90_us: z.number(),
  p99_us: z.number(),
  max_us: z.number(),
  mean_us: z.number(),
  errors: z.object({
    connect: z.number(),
    read: z.number(),
    write: z.number(),
    status: z.number(),
    timeout: z.number(),
  }),
  statuses: z.record(z.string(), z.number()),
});

export interface WrkResult {
  requestsPerSecond: number;
  requests: number;
  /** Answers that were not 202, and socket-level errors. */
  failures: number;
  statuses: Record<string, number>;
  socketErrors: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  connections: number;
  threads: number;
}

/** Parses the `WRK_JSON` line the Lua script prints. */
export function parseWrkOutput(stdout: string, connections: number, threads: number): WrkResult {
  const line = stdout.split("\n").find((text) => text.startsWith("WRK_JSON "));
  if (line === undefined) throw new Error(`wrk printed no summary:\n${stdout.slice(-2000)}`);
  const summary = wrkSummarySchema.parse(JSON.parse(line.slice("WRK_JSON ".length)));
  const socketErrors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout;
  const notAccepted = Object.entries(summary.statuses).reduce(
    (sum, [status, count]) => (status === "202" ? sum : sum + count),
    0,
  );
  return {
    requestsPerSecond: summary.requests / (summary.duration_us / 1e6),
    requests: summary.requests,
    failures: notAccepted + socketErrors,
    statuses: summary.statuses,
    socketErrors,
    latencyMs: {
      p50: summary.p50_us / 1000,
      p90: summary.p90_us / 1000,
      p99: summary.p99_us / 1000,
      max: summary.max_us / 1000,
    },
    connections,
    threads,
  };
}

/**
 * Writes `count` batches of exactly `eventsPerBatch` events (realistic sessions, full batches
 * only) as wrk request lines; the batch id is a placeholder the Lua script fills in.
 */
export function writeWrkBodies(
  path: string,
  options: { count: number; eventsPerBatch: number; sites: readonly string[]; seed: number },
): { meanBytes: number } {
  const stream = new BatchStream({
    seed: options.seed,
    sites: options.sites,
    maxEvents: options.eventsPerBatch,
    fullBatchesOnly: true,
    runId: "wrk",
  });
  const lines: string[] = [];
  let bytes = 0;
  for (let index = 0; index < options.count; index++) {
    const { batch, headers } = stream.next();
    const body = JSON.stringify({ ...batch, batch: "__BATCH__" });
    bytes += Buffer.byteLength(body);
    lines.push(
      `${headers["user-agent"] ?? ""}\t${headers.origin ?? ""}\t${headers["cf-connecting-ip"] ?? ""}\t${body}`,
    );
  }
  writeFileSync(path, `${lines.join("\n")}\n`);
  return { meanBytes: bytes / options.count };
}

export interface WrkOptions {
  url: string;
  bodiesPath: string;
  /** Unique per wrk invocation: batch ids are `${runId}-${thread}-${n}`. */
  runId: string;
  connections: number;
  threads?: number;
  durationSeconds: number;
}

export async function runWrk(options: WrkOptions): Promise<WrkResult> {
  const threads = options.threads ?? 1;
  const { stdout } = await run(
    "wrk",
    [
      "-t",
      String(threads),
      "-c",
      String(options.connections),
      "-d",
      `${options.durationSeconds}s`,
      "--timeout",
      "10s",
      "-s",
      WRK_SCRIPT,
      options.url,
      "--",
      options.bodiesPath,
      options.runId,
    ],
    { maxBuffer: 4 * 1024 * 1024, timeout: (options.durationSeconds + 30) * 1000 },
  );
  return parseWrkOutput(stdout, options.connections, threads);
}
