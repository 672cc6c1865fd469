/**
 * `npm run bench`: every benchmark in one run, starting what it needs itself (local
 * ClickHouse, the collector bundle on Miniflare, wrangler dev, hello-world Workers), then a
 * table on stdout and `bench/results/latest.json`. Figures only — nothing here passes or fails.
 * `npm run bench -- --help` lists the options.
 *
 *   npm run bench                   # the full run (about 10 minutes on 2 cores)
 *   npm run bench -- --quick        # shorter steps and a 1M-event history, to try things out
 *   npm run bench -- --skip wrangler,history
 *   npm run bench -- --history-events 100m   # the history step on 100M events (about 20 GB of disk)
 *   npm run bench -- --render-loads 30 --render-url '' --render-url '?filter=country:is:DE'   # History tab in Chromium: loads, views
 *   npm run bench -- --only alerts  # only the named steps
 *   npm run bench -- --only tracing # ingest with OpenTelemetry tracing off vs on at 1 %
 *
 * Method and the latest figures: docs/benchmarks.md.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { measureDayFill } from "./day-fill";
import { BatchStream } from "../tools/batch-stream";
import { BENCH_DATABASE, startClickHouseProcess } from "./clickhouse";
import { ClickHouseGate } from "./clickhouse-gate";
import { startCpuMeter, waitUntilQuiet } from "./cpu";
import { measureFlush } from "./flush";
import { type RenderOutcome, timeHistoryRender } from "./history-render";
import { generateHistoryDataset, optimizeRollups, parseEventCount, timeHistoryQueries } from "./history";
import { probeLiveLatency } from "./live";
import { measureAlertLatency } from "./alerts";
import { machineInfo } from "./machine";
import {
  buildWorkerBundle,
  type RunningWorker,
  startCollectorOnMiniflare,
  startHelloWorldOnMiniflare,
} from "./miniflare";
import { hotFunctions, type Phase, phaseShares, profileWorkerd } from "./profile";
import {
  type BaselineResult,
  type BenchResults,
  formatTable,
  type IngestProfile,
  type IngestResult,
  type Step,
} from "./report";
import { measureSdkSizes } from "./sdk-size";
import { measureTracingOverhead } from "./tracing";
import { measureClosedLoop, openLoop, sweepThroughput, type SweepResult } from "./throughput";
import { startCollectorOnWranglerDev, startHelloWorldOnWranglerDev } from "./wrangler";
import { writeWrkBodies } from "./wrk";
import { runLoad } from "../tools/run-load";
import { freePort, PROJECT_ROOT } from "../tools/wrangler-dev";

/**
 * Where the collector's CPU goes, by the function on a sample's stack (first match wins):
 * names from durable-objects/ (shard engine, live sender, hub), then the Worker route's
 * phases (worker/). What is left ("other") is the runtime: HTTP, RPC serialisation, GC.
 */
const PROFILE_PHASES: readonly Phase[] = [
  { name: "hub merge", functions: ["applyShardState"] },
  { name: "shard live send", functions: ["sendLiveState", "buildState"] },
  { name: "shard alarm + flush", functions: ["alarm", "drain", "flush"] },
  { name: "shard ingest", functions: ["ingest", "applyBatch"] },
  { name: "route: body read + JSON", functions: ["readBoundedBody", "decodeUtf8", "parseJson"] },
  { name: "route: zod validation", functions: ["safeParse"] },
  { name: "route: User-Agent parse", functions: ["parseUserAgent"] },
  {
    name: "route: visitor id + client key (HMAC)",
    functions: ["deriveVisitorId", "clientRateLimitKey", "clientKeyFor"],
  },
  {
    name: "route: rate limit binding",
    functions: ["enforceClientRateLimit", "countRefusedRequests", "withinClientLimit"],
  },
  { name: "route: enrich", functions: ["enrichBatch"] },
  // Cross-shard dedup (DEDUP_ACROSS_SHARDS): the events' digest on every batch; for resends
  // only, the probe of every shard and the BatchLedger claim (worker/resend-route.ts).
  { name: "batch ledger claim", functions: ["claimShard", "claim", "eventsDigest", "resendIsHeld", "probeBatch"] },
];

const STEPS = [
  "baseline",
  "ingest",
  "dayfill",
  "limiter",
  "wrangler",
  "live",
  "flush",
  "history",
  "sdk",
  "alerts",
  "tracing",
] as const;
type StepName = (typeof STEPS)[number];

const EVENTS_PER_BATCH = 20;
const INGEST_SITES = ["shop-a", "shop-b", "shop-c"] as const;
const LIVE_SITE = "live-probe";
const FLUSH_SITE = "flush-bench";
const HISTORY_SITE = "bench-history";
const ALERTS_SITE = "alerts-probe";
/** A site of its own for the day-fill step, so its shards start the day empty. */
const DAY_FILL_SITE = "day-fill";
const ADMIN_TOKEN = "dev-admin-token";

interface Settings {
  levelSeconds: number;
  connectionLevels: number[];
  openLoopSeconds: number;
  liveProbes: number;
  historyRows: number;
  historyRuns: { day: number; month: number };
  /** Timed loads of the History tab in Chromium; 0 skips them. */
  renderLoads: number;
  flushBacklogSeconds: number;
  alertProbes: number;
  /** Alternating off/on rounds of the tracing step (each levelSeconds long). */
  tracingRounds: number;
  /** Batches the day-fill step sends to one fresh site, and how many per measured chunk. */
  dayFillBatches: number;
  dayFillChunk: number;
}

/** Waits (at most 2 minutes) until the collector uses under a tenth of a core, and says how long it took. */
async function settle(serverCpuMs: () => number): Promise<void> {
  const settled = await waitUntilQuiet(serverCpuMs, { busyBelow: 0.1, windowMs: 1_000, timeoutMs: 120_000 });
  log(
    `  waited ${(settled.waitedMs / 1000).toFixed(0)} s for the collector to go quiet${settled.quiet ? "" : " (it did not: the next figure includes background work)"}`,
  );
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function step<T>(name: StepName, skip: ReadonlySet<string>, run: () => Promise<T>): Promise<Step<T>> {
  if (skip.has(name)) return { ok: false, skipped: true };
  log(`\n== ${name}`);
  const began = performance.now();
  try {
    const result = await run();
    return { ok: true, seconds: (performance.now() - began) / 1000, result };
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    log(`   ${name} failed: ${message}`);
    return { ok: false, seconds: (performance.now() - began) / 1000, error: message };
  }
}

/** Stops `worker` whatever happens inside `body`. */
async function using<T>(worker: RunningWorker, body: (worker: RunningWorker) => Promise<T>): Promise<T> {
  try {
    return await body(worker);
  } finally {
    await worker.stop();
  }
}

function collectorVars(clickhouseUrl: string, rateLimiter: boolean): Record<string, string> {
  const sites = [...INGEST_SITES, LIVE_SITE, FLUSH_SITE, HISTORY_SITE, ALERTS_SITE, DAY_FILL_SITE].map((key) => ({
    key,
    origins: ["*"],
  }));
  return {
    LOCAL_DEV: "1",
    CLICKHOUSE_URL: clickhouseUrl,
    CLICKHOUSE_DATABASE: BENCH_DATABASE,
    SITES: JSON.stringify(sites),
    // On: wrangler.toml's limits (1000/s per site, 10/s per client; every visitor of the load
    // has its own address, so no client comes near its limit). Off: no check at all.
    ...(rateLimiter ? {} : { RATE_LIMIT_SITE_PER_SECOND: "0", RATE_LIMIT_CLIENT_PER_SECOND: "0" }),
  };
}

async function measureIngest(
  worker: RunningWorker,
  settings: Settings,
  bodiesPath: string,
  baseline: SweepResult | null,
  options: {
    levels: number[];
    openLoop: boolean;
    runId: string;
    inspectorPort?: number;
    profilePath?: string;
    gate?: ClickHouseGate;
  },
): Promise<IngestResult> {
  const stream = new BatchStream({
    seed: 7,
    sites: INGEST_SITES,
    maxEvents: EVENTS_PER_BATCH,
    fullBatchesOnly: true,
    runId: options.runId,
  });
  // Warm-up: creates the shard objects and their SQLite schema, JITs the Worker.
  await sweepThroughput(
    {
      url: worker.url,
      serverCpuMs: () => worker.cpuMs(),
      bodiesPath,
      nextBatch: () => stream.next(),
      eventsPerBatch: EVENTS_PER_BATCH,
      connectionLevels: [8],
      durationSeconds: 3,
      runId: `${options.runId}-warm`,
    },
    () => {},
  );
  const sweepStarted = performance.now();
  const sweep = await sweepThroughput(
    {
      url: worker.url,
      serverCpuMs: () => worker.cpuMs(),
      bodiesPath,
      nextBatch: () => stream.next(),
      eventsPerBatch: EVENTS_PER_BATCH,
      connectionLevels: options.levels,
      durationSeconds: settings.levelSeconds,
      runId: options.runId,
    },
    log,
  );
  const sweepEnded = performance.now();
  // How the shards' flushes reach ClickHouse under this load: inserts per second, rows per insert.
  let clickhouseInserts: IngestResult["clickhouseInserts"] = null;
  if (options.gate !== undefined) {
    const inserts = options.gate.inserts.filter(
      (insert) =>
        insert.table === "events" &&
        insert.answeredAt >= sweepStarted &&
        insert.answeredAt <= sweepEnded &&
        INGEST_SITES.some((site) => insert.token.startsWith(`${site}:`)),
    );
    const rows = inserts.reduce((sum, insert) => sum + insert.writtenRows, 0);
    clickhouseInserts = {
      perSecond: inserts.length / ((sweepEnded - sweepStarted) / 1000),
      meanRows: inserts.length === 0 ? 0 : rows / inserts.length,
    };
    log(
      `  ClickHouse: ${clickhouseInserts.perSecond.toFixed(1)} event inserts/s, ${clickhouseInserts.meanRows.toFixed(0)} rows per insert`,
    );
  }
  let atHalf = null;
  let atFull = null;
  if (options.openLoop && sweep.best !== null) {
    const rate = sweep.best.requestsPerSecond;
    // The sweep leaves the shards flushing its backlog to ClickHouse, on the same workerd
    // thread that answers the open loop: measured right away, "half load" was half load plus
    // that backlog, and its tail was the backlog's. Each open loop starts from a quiet collector.
    await settle(() => worker.cpuMs());
    atHalf = await openLoop(
      worker.url,
      () => worker.cpuMs(),
      rate / 2,
      settings.openLoopSeconds * 1000,
      () => stream.next(),
    );
    log(
      `  open loop ${(rate / 2) | 0}/s: p50 ${atHalf.latency.p50.toFixed(1)} ms, p99 ${atHalf.latency.p99.toFixed(1)} ms, errors ${atHalf.failures}`,
    );
    await settle(() => worker.cpuMs());
    atFull = await openLoop(
      worker.url,
      () => worker.cpuMs(),
      rate,
      settings.openLoopSeconds * 1000,
      () => stream.next(),
    );
    log(
      `  open loop ${rate | 0}/s: p50 ${atFull.latency.p50.toFixed(1)} ms, p99 ${atFull.latency.p99.toFixed(1)} ms, errors ${atFull.failures}, achieved ${atFull.achievedPerSecond.toFixed(0)}/s`,
    );
  }
  const base = baseline?.best ?? null;
  const best = sweep.best;
  let profile: IngestProfile | null = null;
  if (options.inspectorPort !== undefined && options.profilePath !== undefined) {
    const connections = best?.connections ?? options.levels[0] ?? 8;
    let requestsPerSecond = 0;
    let serverCpuMsPerRequest = 0;
    const recorded = await profileWorkerd(options.inspectorPort, "core:user:edgepulse", async () => {
      const level = await measureClosedLoop(
        {
          url: worker.url,
          serverCpuMs: () => worker.cpuMs(),
          bodiesPath,
          nextBatch: () => stream.next(),
          eventsPerBatch: EVENTS_PER_BATCH,
          connectionLevels: [],
          durationSeconds: settings.levelSeconds,
          runId: `${options.runId}-profile`,
        },
        connections,
      );
      serverCpuMsPerRequest = level.serverCpuMsPerRequest;
      requestsPerSecond = level.requestsPerSecond;
    });
    mkdirSync(dirname(options.profilePath), { recursive: true });
    writeFileSync(options.profilePath, JSON.stringify(recorded));
    profile = {
      file: options.profilePath,
      requestsPerSecond,
      serverCpuMsPerRequest,
      hot: hotFunctions(recorded, 20),
      phases: phaseShares(recorded, PROFILE_PHASES),
    };
    log(
      `  profile (${requestsPerSecond.toFixed(0)} req/s, ${serverCpuMsPerRequest.toFixed(2)} ms workerd CPU per batch while profiling) written to ${options.profilePath}`,
    );
    for (const [phase, share] of Object.entries(profile.phases))
      log(`    ${phase}: ${(share * 100).toFixed(0)} % = ${(share * serverCpuMsPerRequest).toFixed(2)} ms/batch`);
    for (const hot of profile.hot.slice(0, 8))
      log(
        `    ${(hot.selfShare * 100).toFixed(1).padStart(5)} % self ${(hot.totalShare * 100).toFixed(1).padStart(5)} % incl.  ${hot.name}`,
      );
  }
  return {
    via: worker.via,
    sweep,
    atHalf,
    atFull,
    profile,
    clickhouseInserts,
    ratioToBaseline: base && best ? best.requestsPerSecond / base.requestsPerSecond : null,
    cpuRatioToBaseline:
      base && best && best.serverCpuMsPerRequest > 0 ? base.serverCpuMsPerRequest / best.serverCpuMsPerRequest : null,
  };
}

function parseBenchArgs() {
  return parseArgs({
    options: {
      help: { type: "boolean", default: false },
      quick: { type: "boolean", default: false },
      skip: { type: "string", default: "" },
      only: { type: "string", default: "" },
      "history-rows": { type: "string" },
      "history-events": { type: "string" },
      "render-loads": { type: "string" },
      "render-url": { type: "string", multiple: true, default: [""] },
      out: { type: "string", default: join(PROJECT_ROOT, "bench/results/latest.json") },
    },
    strict: true,
  });
}

const USAGE = `npm run bench [-- options]   every benchmark in one run; figures only (docs/benchmarks.md)

  --quick                    shorter steps and a 1M-event history, to try things out
  --only a,b / --skip a,b    run only / leave out the named steps
  --history-events 10m       events in the history step's data set (k, m suffixes; 100m needs ~20 GB disk)
  --render-loads N           History tab loads timed in Chromium (default 20, quick 5)
  --render-url '?a=b#hash'   extra query / hash for the timed History tab (filters, comparison);
                             repeat it to time several views on the same data ('' is the plain tab)
  --out FILE                 where the JSON results go (default bench/results/latest.json)
  --help                     this text

steps: ${STEPS.join(", ")}`;

/** A mistake on the command line: say what, show the options, exit 2 (no stack trace). */
function usageError(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

function historyEventsOption(text: string): number {
  try {
    return parseEventCount(text);
  } catch (error) {
    return usageError(error instanceof Error ? error.message : String(error));
  }
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseBenchArgs>;
  try {
    parsed = parseBenchArgs();
  } catch (error) {
    usageError(error instanceof Error ? error.message : String(error));
  }
  const { values } = parsed;
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const names = (list: string, option: string) => {
    const chosen = list
      .split(",")
      .map((name) => name.trim())
      .filter((name) => name !== "");
    for (const name of chosen)
      if (!(STEPS as readonly string[]).includes(name)) usageError(`--${option}: unknown step "${name}"`);
    return chosen;
  };
  const only = names(values.only, "only");
  const skip = new Set([
    ...names(values.skip, "skip"),
    ...(only.length === 0 ? [] : STEPS.filter((name) => !only.includes(name))),
  ]);
  const quick = values.quick;
  const settings: Settings = {
    levelSeconds: quick ? 3 : 6,
    connectionLevels: [8, 24, 64],
    openLoopSeconds: quick ? 5 : 15,
    liveProbes: quick ? 15 : 40,
    historyRows: historyEventsOption(values["history-events"] ?? values["history-rows"] ?? (quick ? "1m" : "10m")),
    historyRuns: quick ? { day: 3, month: 2 } : { day: 7, month: 3 },
    renderLoads: Number(values["render-loads"] ?? (quick ? 5 : 20)),
    flushBacklogSeconds: quick ? 3 : 6,
    alertProbes: quick ? 15 : 50,
    tracingRounds: quick ? 2 : 4,
    dayFillBatches: quick ? 5_000 : 50_000,
    dayFillChunk: 1_000,
  };
  if (!Number.isInteger(settings.renderLoads) || settings.renderLoads < 0)
    usageError(`--render-loads: expected a whole number of loads, got "${values["render-loads"]}"`);
  const startedAt = new Date();
  const began = performance.now();
  const machine = machineInfo();
  const runId = `bench${startedAt.getTime().toString(36)}`;
  const work = mkdtempSync(join(tmpdir(), "edgepulse-bench-"));
  log(
    `EdgePulse benchmarks: ${machine.cpus} CPUs (${machine.cpuModel}), load average ${machine.loadAverageAtStart.toFixed(2)}; work dir ${work}`,
  );
  if (machine.loadAverageAtStart > machine.cpus * 0.5)
    log(
      `warning: the machine is already busy (load ${machine.loadAverageAtStart.toFixed(2)}); figures will be low and noisy`,
    );

  const bodiesPath = join(work, "bodies.txt");
  const flushBodiesPath = join(work, "flush-bodies.txt");
  writeWrkBodies(bodiesPath, { count: 3000, eventsPerBatch: EVENTS_PER_BATCH, sites: INGEST_SITES, seed: 7 });
  writeWrkBodies(flushBodiesPath, { count: 3000, eventsPerBatch: EVENTS_PER_BATCH, sites: [FLUSH_SITE], seed: 8 });

  const cleanups: (() => Promise<void>)[] = [];
  const results: Omit<BenchResults, "totalSeconds" | "loadAverageAtEnd"> = {
    version: 1,
    startedAt: startedAt.toISOString(),
    machine,
    settings: {
      ...settings,
      connectionLevels: settings.connectionLevels.join(","),
      historyRuns: `${settings.historyRuns.day}/${settings.historyRuns.month}`,
      eventsPerBatch: EVENTS_PER_BATCH,
    },
    baseline: { ok: false, skipped: true },
    ingest: { ok: false, skipped: true },
    dayFill: { ok: false, skipped: true },
    ingestWithRateLimiter: { ok: false, skipped: true },
    ingestWranglerDev: { ok: false, skipped: true },
    live: { ok: false, skipped: true },
    flush: { ok: false, skipped: true },
    history: { ok: false, skipped: true },
    sdk: { ok: false, skipped: true },
    alerts: { ok: false, skipped: true },
    tracing: { ok: false, skipped: true },
  };

  try {
    results.sdk = await step("sdk", skip, async () => measureSdkSizes());

    const baselineStream = new BatchStream({
      seed: 7,
      sites: INGEST_SITES,
      maxEvents: EVENTS_PER_BATCH,
      fullBatchesOnly: true,
      runId: `${runId}-hello`,
    });
    results.baseline = await step("baseline", skip, async (): Promise<BaselineResult> => {
      log("  hello world on workerd via Miniflare");
      const { miniflare, nodeClient } = await using(await startHelloWorldOnMiniflare(), async (hello) => {
        const sweep = await sweepThroughput(
          {
            url: hello.url,
            serverCpuMs: () => hello.cpuMs(),
            bodiesPath,
            nextBatch: () => baselineStream.next(),
            eventsPerBatch: EVENTS_PER_BATCH,
            connectionLevels: settings.connectionLevels,
            durationSeconds: settings.levelSeconds,
            runId: `${runId}-hello`,
          },
          log,
        );
        const connections = sweep.best?.connections ?? 24;
        const meter = startCpuMeter({ server: () => hello.cpuMs(), client: "in-process" });
        const report = await runLoad({
          url: hello.url,
          rate: Infinity,
          rateUnit: "batches",
          durationMs: settings.levelSeconds * 1000,
          maxBatches: Number.MAX_SAFE_INTEGER,
          concurrency: connections,
          maxRetries: 0,
          nextBatch: () => baselineStream.next(),
        });
        const cpu = meter.stop();
        log(
          `  Node load client, c=${connections}: ${report.batchesPerSecond.toFixed(0)} req/s, client CPU ${(cpu.clientCpuMs / Math.max(1, report.sent)).toFixed(3)} ms/req`,
        );
        return {
          miniflare: sweep,
          nodeClient: {
            requestsPerSecond: report.batchesPerSecond,
            clientCpuMsPerRequest: cpu.clientCpuMs / Math.max(1, report.sent),
            connections,
          },
        };
      });
      let wranglerDev: SweepResult | null = null;
      if (!skip.has("wrangler")) {
        log("  hello world under wrangler dev");
        wranglerDev = await using(await startHelloWorldOnWranglerDev(join(work, "hello-wrangler")), (hello) =>
          sweepThroughput(
            {
              url: hello.url,
              serverCpuMs: () => hello.cpuMs(),
              bodiesPath,
              nextBatch: () => baselineStream.next(),
              eventsPerBatch: EVENTS_PER_BATCH,
              connectionLevels: [8, 24],
              durationSeconds: settings.levelSeconds,
              runId: `${runId}-hello-wd`,
            },
            log,
          ),
        );
      }
      return { miniflare, nodeClient, wranglerDev };
    });
    const baselineSweep = results.baseline.ok ? results.baseline.result.miniflare : null;

    log("\n== starting local ClickHouse and building the collector bundle");
    const clickhouse = await startClickHouseProcess(join(work, "clickhouse"));
    cleanups.push(() => clickhouse.stop());
    const { gate, url: gateUrl } = await ClickHouseGate.start(clickhouse.url);
    cleanups.push(() => gate.stop());
    const bundle = await buildWorkerBundle(join(work, "bundle"));

    const collectorSteps = ["flush", "ingest", "dayfill", "live", "history"].some((name) => !skip.has(name));
    if (collectorSteps) {
      // One collector for flush, ingest, day fill, live and history; its ClickHouse traffic passes the gate.
      const inspectorPort = await freePort();
      const collector = await startCollectorOnMiniflare(bundle, collectorVars(gateUrl, false), { inspectorPort });
      await using(collector, async () => {
        // Flush first, while nothing else is flushing in the background.
        const flushStream = new BatchStream({
          seed: 8,
          sites: [FLUSH_SITE],
          maxEvents: EVENTS_PER_BATCH,
          fullBatchesOnly: true,
          runId: `${runId}-flush`,
        });
        results.flush = await step("flush", skip, () =>
          measureFlush({
            gate,
            postBacklog: (seconds) =>
              measureClosedLoop(
                {
                  url: collector.url,
                  serverCpuMs: () => collector.cpuMs(),
                  bodiesPath: flushBodiesPath,
                  nextBatch: () => flushStream.next(),
                  eventsPerBatch: EVENTS_PER_BATCH,
                  connectionLevels: [],
                  durationSeconds: seconds,
                  runId: `${runId}-flush`,
                },
                24,
              ),
            gateUrl,
            clickhouseUrl: clickhouse.url,
            database: BENCH_DATABASE,
            site: FLUSH_SITE,
            eventsPerBatch: EVENTS_PER_BATCH,
            backlogSeconds: settings.flushBacklogSeconds,
          }),
        );
        results.ingest = await step("ingest", skip, () =>
          measureIngest(collector, settings, bodiesPath, baselineSweep, {
            levels: settings.connectionLevels,
            openLoop: true,
            runId: `${runId}-ingest`,
            inspectorPort,
            profilePath: join(dirname(resolve(values.out)), "ingest.cpuprofile"),
            gate,
          }),
        );
        results.live = await step("live", skip, async () => {
          const probe = (id: string) =>
            probeLiveLatency({
              collectorUrl: collector.url,
              site: LIVE_SITE,
              token: ADMIN_TOKEN,
              probes: settings.liveProbes,
              gapMs: [150, 450],
              timeoutMs: 10_000,
              runId: `${runId}-${id}`,
            });
          // Idle means idle: the ingest step's open loop leaves shards flushing a backlog, and
          // one workerd thread serves every object, so a probe sent meanwhile waits behind it.
          await settle(() => collector.cpuMs());
          const idle = await probe("idle");
          log(
            `  idle: p50 ${idle.latency.p50.toFixed(1)} ms, p99 ${idle.latency.p99.toFixed(1)} ms (POST→202 p50 ${idle.postLatency.p50.toFixed(1)} ms; ${idle.latency.count} probes)${idle.error ? `; ${idle.error}` : ""}`,
          );
          const best = results.ingest.ok ? results.ingest.result.sweep.best : null;
          const backgroundRate = best ? Math.max(10, Math.round(best.requestsPerSecond / 2)) : 50;
          const stream = new BatchStream({
            seed: 9,
            sites: INGEST_SITES,
            maxEvents: EVENTS_PER_BATCH,
            fullBatchesOnly: true,
            runId: `${runId}-live-bg`,
          });
          const abort = new AbortController();
          const background = runLoad({
            url: collector.url,
            rate: backgroundRate,
            rateUnit: "batches",
            durationMs: 10 * 60_000,
            maxBatches: Number.MAX_SAFE_INTEGER,
            concurrency: 256,
            maxRetries: 0,
            nextBatch: () => stream.next(),
            signal: abort.signal,
            drainTimeoutMs: 5_000,
          });
          await sleep(1_000);
          const underLoad = await probe("load").finally(() => abort.abort());
          await background;
          log(
            `  under ${backgroundRate} batches/s: p50 ${underLoad.latency.p50.toFixed(1)} ms, p99 ${underLoad.latency.p99.toFixed(1)} ms (POST→202 p50 ${underLoad.postLatency.p50.toFixed(1)} ms; ${underLoad.latency.count} probes)${underLoad.error ? `; ${underLoad.error}` : ""}`,
          );
          return { idle, underLoad, backgroundRate };
        });
        results.dayFill = await step("dayfill", skip, () => {
          log(
            `  ${settings.dayFillBatches.toLocaleString("en-US")} batches of one day to the fresh site "${DAY_FILL_SITE}", ${settings.dayFillChunk.toLocaleString("en-US")} per chunk`,
          );
          return measureDayFill({
            url: collector.url,
            cpuMs: () => collector.cpuMs(),
            site: DAY_FILL_SITE,
            totalBatches: settings.dayFillBatches,
            chunkBatches: settings.dayFillChunk,
            concurrency: 8,
            eventsPerBatch: EVENTS_PER_BATCH,
            runId: `${runId}-dayfill`,
            log,
          });
        });
        results.history = await step("history", skip, async () => {
          const end = Date.now() - 60_000;
          const start = end - 30 * 86_400_000;
          log(`  generating ${settings.historyRows.toLocaleString("en-US")} events in ClickHouse`);
          const generated = await generateHistoryDataset({
            clickhouseUrl: clickhouse.url,
            database: BENCH_DATABASE,
            site: HISTORY_SITE,
            rows: settings.historyRows,
            start,
            end,
            onProgress: log,
          });
          log(`  ${generated.events.toLocaleString("en-US")} events in ${(generated.ms / 1000).toFixed(0)} s`);
          const optimized = await optimizeRollups(clickhouse.url, BENCH_DATABASE);
          log(
            `  OPTIMIZE … FINAL on ${optimized.tables.length} rollup tables in ${(optimized.ms / 1000).toFixed(0)} s; timing the history routes`,
          );
          const timings = [
            ...(await timeHistoryQueries({
              clickhouseUrl: clickhouse.url,
              database: BENCH_DATABASE,
              collector: { url: collector.url, token: ADMIN_TOKEN },
              site: HISTORY_SITE,
              ranges: [{ name: "24 h", from: end - 86_400_000, to: end, interval: 300 }],
              runs: settings.historyRuns.day,
            })),
            ...(await timeHistoryQueries({
              clickhouseUrl: clickhouse.url,
              database: BENCH_DATABASE,
              collector: { url: collector.url, token: ADMIN_TOKEN },
              site: HISTORY_SITE,
              ranges: [{ name: "30 d", from: start, to: end, interval: 3 * 3600 }],
              runs: settings.historyRuns.month,
            })),
            ...(await timeHistoryQueries({
              clickhouseUrl: clickhouse.url,
              database: BENCH_DATABASE,
              collector: { url: collector.url, token: ADMIN_TOKEN },
              site: HISTORY_SITE,
              ranges: [
                {
                  name: "30 d, 2 filters",
                  from: start,
                  to: end,
                  interval: 3 * 3600,
                  filters: ["country:is:DE", "device:is:mobile"],
                },
              ],
              runs: settings.historyRuns.month,
            })),
          ];
          for (const timing of timings)
            log(
              `  ${timing.resource} (${timing.range}): Worker ${timing.worker ? `p50 ${timing.worker.p50.toFixed(0)} ms` : timing.workerStatus}, ClickHouse p50 ${timing.direct.p50.toFixed(0)} ms`,
            );
          const renders: RenderOutcome[] = [];
          for (const urlSuffix of settings.renderLoads > 0 ? values["render-url"] : []) {
            log(
              `  timing the History tab (30 days${urlSuffix === "" ? "" : `, ${urlSuffix}`}) in Chromium, ${settings.renderLoads} loads`,
            );
            const render = await timeHistoryRender({
              collectorUrl: collector.url,
              site: HISTORY_SITE,
              token: ADMIN_TOKEN,
              loads: settings.renderLoads,
              preset: "30d",
              urlSuffix,
            }).catch((error: unknown) => ({
              error: error instanceof Error ? error.message : String(error),
              urlSuffix,
            }));
            renders.push(render);
            log(
              "error" in render
                ? `  History tab: ${render.error}`
                : `  History tab rendered: p50 ${render.p50.toFixed(0)} ms, p95 ${render.p95.toFixed(0)} ms (${render.url})`,
            );
          }
          return {
            events: generated.events,
            generateSeconds: generated.ms / 1000,
            optimizeSeconds: optimized.ms / 1000,
            timings,
            renders,
          };
        });
      });
    }

    results.ingestWithRateLimiter = await step("limiter", skip, async () => {
      const collector = await startCollectorOnMiniflare(bundle, collectorVars(clickhouse.url, true));
      const best = results.ingest.ok ? results.ingest.result.sweep.best : null;
      return using(collector, () =>
        measureIngest(collector, settings, bodiesPath, baselineSweep, {
          levels: [best?.connections ?? 24],
          openLoop: false,
          runId: `${runId}-limiter`,
        }),
      );
    });

    results.ingestWranglerDev = await step("wrangler", skip, async () => {
      const collector = await startCollectorOnWranglerDev(
        collectorVars(clickhouse.url, false),
        join(work, "wrangler-state"),
      );
      const wranglerBaseline = results.baseline.ok ? results.baseline.result.wranglerDev : null;
      return using(collector, () =>
        measureIngest(collector, settings, bodiesPath, wranglerBaseline, {
          levels: [8, 24],
          openLoop: false,
          runId: `${runId}-wd`,
        }),
      );
    });

    results.alerts = await step("alerts", skip, async () => {
      // Short windows (as in the tests), so a probe takes seconds; the latency measured does not depend on them.
      const windowSeconds = 1;
      const latenessSeconds = 1;
      const collector = await startCollectorOnMiniflare(bundle, {
        ...collectorVars(clickhouse.url, false),
        WINDOW_SECONDS: String(windowSeconds),
        ALLOWED_LATENESS_SECONDS: String(latenessSeconds),
      });
      const result = await using(collector, () =>
        measureAlertLatency({
          collectorUrl: collector.url,
          site: ALERTS_SITE,
          token: ADMIN_TOKEN,
          probes: settings.alertProbes,
          windowMs: windowSeconds * 1000,
          latenessMs: latenessSeconds * 1000,
          runId: `${runId}-alerts`,
        }),
      );
      log(
        `  sealed → firing webhook: p50 ${result.firing.p50.toFixed(0)} ms, p99 ${result.firing.p99.toFixed(0)} ms; → resolved: p50 ${result.resolved.p50.toFixed(0)} ms, p99 ${result.resolved.p99.toFixed(0)} ms (${result.firing.count} probes, ${result.missed} missed)`,
      );
      return result;
    });

    results.tracing = await step("tracing", skip, async () => {
      const best = results.ingest.ok ? results.ingest.result.sweep.best : null;
      const stream = new BatchStream({
        seed: 9,
        sites: INGEST_SITES,
        maxEvents: EVENTS_PER_BATCH,
        fullBatchesOnly: true,
        runId: `${runId}-tracing`,
      });
      return measureTracingOverhead({
        startCollector: (vars) =>
          startCollectorOnMiniflare(bundle, { ...collectorVars(clickhouse.url, false), ...vars }),
        load: { bodiesPath, nextBatch: () => stream.next(), eventsPerBatch: EVENTS_PER_BATCH },
        runId: `${runId}-tracing`,
        connections: best?.connections ?? 24,
        rounds: settings.tracingRounds,
        secondsPerRound: settings.levelSeconds,
        samplingRatio: 0.01,
        log,
      });
    });
  } finally {
    for (const cleanup of cleanups.reverse())
      await cleanup().catch((error: unknown) => log(`cleanup: ${String(error)}`));
    rmSync(work, { recursive: true, force: true });
  }

  const final: BenchResults = {
    ...results,
    totalSeconds: (performance.now() - began) / 1000,
    loadAverageAtEnd: loadavg()[0] ?? 0,
  };
  const out = resolve(values.out);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(final, null, 2)}\n`);
  console.log(`\n${formatTable(final)}\n\nwritten to ${out}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
