/**
 * `npm run soak -- --duration 90m --rate R`: the whole collector under steady shop traffic for
 * a long time, watched every interval, then checked for exactness.
 *
 * 1. a local ClickHouse (embedded engine, child process) with the migrations applied;
 * 2. the collector bundle on workerd via Miniflare, as `npm run bench` runs it, with Durable
 *    Object storage in the work directory so its size can be measured;
 * 3. generated sessions (tools/session-generator.ts) at R events/s — by default half of what a
 *    short closed-loop run on this machine sustains — while a probe measures event → live;
 * 4. every interval (1 min): sent/accepted rate, errors, ingest p50/p99, event → live p99,
 *    workerd CPU per batch, workerd RSS, Durable Object storage, ClickHouse active parts;
 * 5. at the end: every acknowledged batch in `events` exactly once, nothing unacknowledged,
 *    `window_metrics` totals = `events` totals; a verdict.
 *
 * Writes `<out>/<start>-<duration>.md`, `.svg` and `.json` (rewritten every interval, so an
 * interrupted run leaves its samples) and exits 1 when the verdict fails. Ctrl-C stops the
 * load early and still checks and reports.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { basename, join, relative, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { BatchStream } from "../batch-stream";
import { BENCH_DATABASE, startClickHouseProcess } from "../../bench/clickhouse";
import { probeLiveLatency } from "../../bench/live";
import { machineInfo } from "../../bench/machine";
import { buildWorkerBundle, startCollectorOnMiniflare } from "../../bench/miniflare";
import { parseDuration, parseInteger, parseRate } from "../cli-values";
import { LatencyHistogram } from "../latency-histogram";
import { type BatchAnswer, runLoad } from "../run-load";
import { PROJECT_ROOT } from "../wrangler-dev";
import type { ClickHouseTarget } from "./clickhouse-text";
import { checkExactness } from "./exactness";
import { IntervalRecorder, type SoakSample } from "./interval-recorder";
import { renderSoakChart } from "./soak-chart";
import { errorCount, formatSampleLine, renderSoakMarkdown, type SoakReport, verdictOf } from "./soak-report";
import { readGauges } from "./stack-gauges";

const USAGE = `usage: npm run soak -- [options]
  --duration D        how long to load: 60s, 3m, 90m (default 90m)
  --rate N|auto       events/s; auto = half of what a --calibrate closed-loop run sustains (default auto)
  --calibrate D       length of that run (default 20s)
  --interval D        sample every D (default 1m)
  --concurrency N     requests in flight at most (default 256)
  --sites a,b,c       site keys the load spreads over (default soak-a,soak-b,soak-c)
  --rate-limits on|off  wrangler.toml's rate limits (default on, as deployed)
  --no-live           no event → live probes
  --settle D          longest wait for the last flushes before the exactness check (default 5m)
  --seed N            traffic seed (default 1)
  --out DIR           where the report goes (default docs/soak)
  --keep              keep the work directory (ClickHouse data, Durable Object storage)
  --render FILE.json  only redraw a finished run's .md and .svg from its .json (after a renderer change)`;

const LIVE_SITE = "soak-live";
const ADMIN_TOKEN = "dev-admin-token";

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function stamp(date: Date): string {
  return date.toISOString().slice(0, 16).replace(/[-:]/g, "").replace("T", "-");
}

function durationLabel(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000}m` : `${Math.round(ms / 1000)}s`;
}

/** Writes the Markdown report and the chart of `base`.json beside it. */
function writeReport(base: string, report: SoakReport): void {
  // The drain after the load is a short interval: in the table, not in the chart.
  const full = report.samples.filter((sample) => sample.durationMs >= report.settings.intervalMs / 2);
  writeFileSync(
    `${base}.svg`,
    renderSoakChart(full, `EdgePulse soak ${report.startedAt}, ${report.settings.rate} events/s`),
  );
  writeFileSync(`${base}.md`, renderSoakMarkdown(report, `${basename(base)}.svg`));
}

function renderAgain(jsonPath: string): void {
  const report = JSON.parse(readFileSync(jsonPath, "utf8")) as SoakReport;
  const base = jsonPath.replace(/\.json$/, "");
  writeReport(base, report);
  console.log(`rewrote ${base}.md and ${base}.svg`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: "string", default: "90m" },
      rate: { type: "string", default: "auto" },
      calibrate: { type: "string", default: "20s" },
      interval: { type: "string", default: "1m" },
      concurrency: { type: "string", default: "256" },
      sites: { type: "string", default: "soak-a,soak-b,soak-c" },
      "rate-limits": { type: "string", default: "on" },
      "no-live": { type: "boolean", default: false },
      settle: { type: "string", default: "5m" },
      seed: { type: "string", default: "1" },
      out: { type: "string", default: join(PROJECT_ROOT, "docs/soak") },
      keep: { type: "boolean", default: false },
      render: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (values.render !== undefined) {
    renderAgain(resolve(values.render));
    return;
  }
  const durationMs = parseDuration(values.duration);
  const intervalMs = parseDuration(values.interval);
  const settleMs = parseDuration(values.settle);
  const concurrency = parseInteger(values.concurrency, "concurrency", 1, 10_000);
  const sites = values.sites
    .split(",")
    .map((site) => site.trim())
    .filter((site) => site !== "");
  if (sites.length === 0) throw new RangeError("--sites needs at least one site key");
  if (values["rate-limits"] !== "on" && values["rate-limits"] !== "off")
    throw new RangeError("--rate-limits must be on or off");
  const requestedRate = values.rate === "auto" ? null : parseRate(values.rate);
  if (requestedRate === Infinity) throw new RangeError("--rate must be a number of events/s or auto");
  const command = `npm run soak -- ${process.argv.slice(2).join(" ")}`.trim();

  const startedAt = new Date();
  const machine = machineInfo();
  const runId = `soak${startedAt.getTime().toString(36)}${randomBytes(2).toString("hex")}`;
  const outDir = resolve(values.out);
  mkdirSync(outDir, { recursive: true });
  const base = join(outDir, `${stamp(startedAt)}-${durationLabel(durationMs)}`);
  const work = mkdtempSync(join(tmpdir(), "edgepulse-soak-"));
  log(`[soak] ${command}; work dir ${work}; report ${relative(process.cwd(), base)}.md`);

  const abort = new AbortController();
  const stopEarly = () => {
    if (abort.signal.aborted) return;
    log("[soak] stopping the load early; the exactness check and the report still run");
    abort.abort();
  };
  process.on("SIGINT", stopEarly);
  process.on("SIGTERM", stopEarly);

  const cleanups: (() => Promise<void>)[] = [];
  let exitCode = 1;
  try {
    log("[soak] starting the local ClickHouse and building the collector bundle …");
    const clickhouseProcess = await startClickHouseProcess(join(work, "clickhouse"));
    cleanups.push(() => clickhouseProcess.stop());
    const clickhouse: ClickHouseTarget = { url: clickhouseProcess.url, database: BENCH_DATABASE };
    const bundle = await buildWorkerBundle(join(work, "bundle"));
    const persistTo = join(work, "state");
    const collector = await startCollectorOnMiniflare(
      bundle,
      {
        LOCAL_DEV: "1",
        ADMIN_TOKEN,
        CLICKHOUSE_URL: clickhouse.url,
        CLICKHOUSE_DATABASE: BENCH_DATABASE,
        SITES: JSON.stringify([...sites, LIVE_SITE].map((key) => ({ key, origins: ["*"] }))),
        ...(values["rate-limits"] === "off"
          ? { RATE_LIMIT_SITE_PER_SECOND: "0", RATE_LIMIT_CLIENT_PER_SECOND: "0" }
          : {}),
      },
      { persistTo },
    );
    cleanups.push(() => collector.stop());
    log(`[soak] collector on ${collector.url} (${collector.via}), ClickHouse on ${clickhouse.url}`);

    const stream = new BatchStream({ seed: parseInteger(values.seed, "seed", 0, 2 ** 32 - 1), runId, sites });
    /** Batch id → events acknowledged: what ClickHouse must hold exactly once at the end. */
    const acknowledged = new Map<string, number>();
    /** Batch id → events of batches whose final answer was not a 202: a timeout may still have stored them. */
    const failed = new Map<string, number>();
    const acknowledge = (answer: BatchAnswer): number => {
      if (answer.status !== 202) {
        failed.set(answer.batch.batch.batch, answer.batch.batch.events.length);
        return 0;
      }
      // A duplicate answer means an earlier attempt was stored: all the batch's events.
      const events = answer.duplicate ? answer.batch.batch.events.length : answer.accepted;
      if (events > 0) acknowledged.set(answer.batch.batch.batch, events);
      return events;
    };

    let rate = requestedRate ?? 0;
    let rateSource = `--rate ${values.rate}`;
    if (requestedRate === null) {
      const calibrateMs = parseDuration(values.calibrate);
      log(`[soak] calibrating: ${durationLabel(calibrateMs)} closed loop at 24 requests in flight …`);
      const calibration = await runLoad({
        url: collector.url,
        rate: Infinity,
        rateUnit: "events",
        durationMs: calibrateMs,
        maxBatches: Number.MAX_SAFE_INTEGER,
        concurrency: 24,
        nextBatch: () => stream.next(),
        onAnswer: acknowledge,
        signal: abort.signal,
      });
      rate = Math.max(10, Math.round(calibration.eventsPerSecond / 2));
      rateSource = `half of ${calibration.eventsPerSecond.toFixed(0)} events/s sustained in a ${durationLabel(calibrateMs)} closed-loop run at the start`;
      log(`[soak] sustained ${calibration.eventsPerSecond.toFixed(0)} events/s; soaking at ${rate} events/s`);
    }

    const ingestLatency = new LatencyHistogram();
    const liveLatency = new LatencyHistogram();
    let liveMissed = 0;
    const gaugesAtStart = await readGauges(persistTo, clickhouse);
    const recorder = new IntervalRecorder(gaugesAtStart.workerdCpuMs);
    const samples: SoakSample[] = [];
    const totals: SoakReport["totals"] = {
      sentBatches: 0,
      sentEvents: 0,
      acceptedBatches: 0,
      acceptedEvents: 0,
      duplicates: 0,
      rejected: {},
      retries: 0,
      retriesByStatus: {},
      abandoned: 0,
    };
    const report = (): SoakReport => ({
      startedAt: startedAt.toISOString(),
      command,
      machine: {
        cpus: machine.cpus,
        cpuModel: machine.cpuModel,
        loadAverageAtStart: machine.loadAverageAtStart,
        loadAverageAtEnd: loadavg()[0] ?? 0,
      },
      settings: { rate, rateSource, durationMs, intervalMs, sites, concurrency },
      samples,
      totals,
      ingestLatency: ingestLatency.summary(),
      liveLatency: liveLatency.summary(),
      liveMissed,
      exactness: null,
    });
    const write = (current: SoakReport) => {
      writeReport(base, current);
      writeFileSync(`${base}.json`, `${JSON.stringify(current, null, 2)}\n`);
    };

    const loadStart = performance.now();
    let sampling = Promise.resolve();
    const closeInterval = async () => {
      const gauges = await readGauges(persistTo, clickhouse);
      const sample = recorder.close(performance.now() - loadStart, gauges);
      samples.push(sample);
      log(formatSampleLine(sample));
      write(report());
    };
    const timer = setInterval(() => {
      sampling = sampling
        .then(closeInterval)
        .catch((error: unknown) => log(`[soak] sampling failed: ${String(error)}`));
    }, intervalMs);

    const liveRun = values["no-live"]
      ? Promise.resolve()
      : (async () => {
          for (let round = 0; !abort.signal.aborted; round++) {
            const result = await probeLiveLatency({
              collectorUrl: collector.url,
              site: LIVE_SITE,
              token: ADMIN_TOKEN,
              probes: 100,
              gapMs: [150, 450],
              timeoutMs: 10_000,
              runId: `${runId}-live${round}`,
              onSample: (ms) => {
                recorder.recordLiveProbe(ms);
                liveLatency.record(ms);
              },
              signal: abort.signal,
            }).catch((error: unknown) => ({ missed: 1, error: String(error) }));
            liveMissed += result.missed;
            if (result.error !== null) {
              log(`[soak] live probe: ${result.error}`);
              await sleep(1_000);
            }
          }
        })();

    // Counted here from every final answer rather than taken from runLoad's report: answers that
    // arrive after its drain timeout (a request still in flight, a retry giving up) count too.
    let answered = 0;
    const load = await runLoad({
      url: collector.url,
      rate,
      rateUnit: "events",
      durationMs,
      endOnWallClock: true,
      maxBatches: Number.MAX_SAFE_INTEGER,
      concurrency,
      nextBatch: () => {
        const item = stream.next();
        recorder.recordSent(item.batch.events.length);
        return item;
      },
      onAnswer: (answer) => {
        const events = acknowledge(answer);
        answered++;
        if (answer.status === 202) {
          totals.acceptedBatches++;
          totals.acceptedEvents += events;
          if (answer.duplicate) totals.duplicates++;
        } else {
          totals.rejected[String(answer.status)] = (totals.rejected[String(answer.status)] ?? 0) + 1;
        }
        recorder.recordAnswer({
          status: answer.status,
          events,
          latencyMs: answer.latencyMs,
          attempts: answer.attempts,
        });
        ingestLatency.record(answer.latencyMs);
        for (const status of answer.retriedStatuses)
          totals.retriesByStatus[String(status)] = (totals.retriesByStatus[String(status)] ?? 0) + 1;
      },
      signal: abort.signal,
    });
    // runLoad stops waiting after its drain timeout; a batch still out may sit in a retry wait
    // (≤ 30 s) and then in a request (client timeout 30 s) before its final answer.
    for (let waited = 0; answered < load.sent && waited < 75_000; waited += 500) await sleep(500);
    clearInterval(timer);
    await sampling;
    // The last, partial interval, unless it is too short to say anything.
    if (performance.now() - loadStart - (samples.at(-1)?.elapsedMs ?? 0) > Math.min(5_000, intervalMs / 2))
      await closeInterval();
    abort.abort();
    await liveRun;
    totals.sentBatches = load.sent;
    totals.sentEvents = load.events;
    totals.retries = load.retried;
    totals.abandoned = load.sent - answered;
    log(
      `[soak] load done: ${load.sent} batches (${load.events} events) sent, ${totals.acceptedBatches} acknowledged, ${totals.abandoned} unanswered, errors ${
        Object.entries(totals.rejected)
          .map(([status, count]) => `${status}: ${count}`)
          .join(", ") || "none"
      }; checking ClickHouse …`,
    );

    const exactness = await checkExactness({
      clickhouse,
      sites,
      acknowledged,
      failed,
      timeoutMs: settleMs,
      onWait: (line) => log(`[soak] ${line}`),
    });
    const final: SoakReport = { ...report(), exactness };
    write(final);
    const verdict = verdictOf(final);
    log(
      `[soak] ${exactness.eventsInClickHouse} events in ClickHouse of ${exactness.acknowledgedEvents} acknowledged; ` +
        `${exactness.batches.exact}/${exactness.acknowledgedBatches} batches exactly once; windows ${exactness.windowsMatch ? "=" : "≠"} events; errors ${errorCount(final)}`,
    );
    console.log(
      `\nVerdict: ${verdict.pass ? "PASS" : "FAIL"}${verdict.reasons.map((reason) => `\n  - ${reason}`).join("")}`,
    );
    console.log(`Report: ${base}.md (chart ${base}.svg, data ${base}.json)`);
    exitCode = verdict.pass ? 0 : 1;
  } finally {
    for (const cleanup of cleanups.reverse())
      await cleanup().catch((error: unknown) => log(`[soak] cleanup: ${String(error)}`));
    if (values.keep) log(`[soak] kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
  process.exitCode = exitCode;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  console.error(USAGE);
  process.exit(2);
});
