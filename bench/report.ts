/**
 * The shape of `bench/results/latest.json` and the table `npm run bench` prints from it.
 * Every step records either its figures or the error that stopped it, so one broken part
 * never hides the others' numbers.
 */
import type { MachineInfo } from "./machine";
import type { DayFillResult } from "./day-fill";
import type { FlushResult } from "./flush";
import type { QueryTiming } from "./history";
import type { RenderOutcome, RenderTiming } from "./history-render";
import type { AlertLatencyResult } from "./alerts";
import type { TracingOverheadResult } from "./tracing";
import type { LiveProbeResult } from "./live";
import type { SdkSize } from "./sdk-size";
import type { HotFunction } from "./profile";
import type { OpenLoopResult, SweepResult } from "./throughput";

export type Step<T> =
  | { ok: true; seconds: number; result: T }
  | { ok: false; seconds: number; error: string }
  | { ok: false; skipped: true };

export interface BaselineResult {
  miniflare: SweepResult;
  /** The Node load generator, unpaced, against the same hello world: the client's own ceiling. */
  nodeClient: { requestsPerSecond: number; clientCpuMsPerRequest: number; connections: number } | null;
  wranglerDev: SweepResult | null;
}

export interface IngestResult {
  via: string;
  sweep: SweepResult;
  /** Open-loop latency at half and at all of the best sustained rate. */
  atHalf: OpenLoopResult | null;
  atFull: OpenLoopResult | null;
  /** best requests/s ÷ hello-world requests/s on the same runtime. */
  ratioToBaseline: number | null;
  /** hello-world server CPU per request ÷ collector server CPU per request. */
  cpuRatioToBaseline: number | null;
  /** Where workerd's CPU went at the best level (sampling profile over the inspector). */
  profile: IngestProfile | null;
  /** The shards' inserts into `events` while the sweep ran (seen at the ClickHouse gate). */
  clickhouseInserts: { perSecond: number; meanRows: number } | null;
}

export interface IngestProfile {
  /** The .cpuprofile written (open in Chrome DevTools). */
  file: string;
  requestsPerSecond: number;
  /** workerd CPU per batch while profiling, ms: phase shares × this = ms per batch. */
  serverCpuMsPerRequest: number;
  hot: HotFunction[];
  /** Share of samples per phase (shard ingest, live sends, hub merge, alarm/flush, other). */
  phases: Record<string, number>;
}

export interface HistoryResult {
  events: number;
  generateSeconds: number;
  /** OPTIMIZE … FINAL of the rollups after loading (absent in results from before it ran). */
  optimizeSeconds?: number;
  timings: QueryTiming[];
  /** The History tab fully rendered in Chromium, one entry per `--render-url` (empty when skipped). */
  renders?: RenderOutcome[];
  /** Results from before several views were timed: the one view. */
  render?: RenderTiming | { error: string };
}

export interface BenchResults {
  version: 1;
  startedAt: string;
  totalSeconds: number;
  machine: MachineInfo;
  loadAverageAtEnd: number;
  settings: Record<string, string | number>;
  baseline: Step<BaselineResult>;
  ingest: Step<IngestResult>;
  /** CPU per batch as one site's day fills (absent in results from before the step existed). */
  dayFill?: Step<DayFillResult>;
  /** The collector with the rate limiter on (limits far above the load): what the check costs. */
  ingestWithRateLimiter: Step<IngestResult>;
  ingestWranglerDev: Step<IngestResult>;
  live: Step<{ idle: LiveProbeResult; underLoad: LiveProbeResult; backgroundRate: number }>;
  flush: Step<FlushResult>;
  history: Step<HistoryResult>;
  sdk: Step<{ sizes: SdkSize[]; missing: string[] }>;
  /** Window sealed → alert webhook received. */
  alerts: Step<AlertLatencyResult>;
  /** Ingest with OpenTelemetry tracing off vs on at 1 % sampling (absent in results from before the step existed). */
  tracing?: Step<TracingOverheadResult>;
}

const number = (value: number, digits = 0): string =>
  value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const ms = (value: number): string => `${number(value, value < 10 ? 1 : 0)} ms`;
const percent = (ratio: number): string => `${number(ratio * 100, 0)} %`;

function failed<T>(step: Step<T>): string | null {
  if (step.ok) return null;
  return "skipped" in step ? "skipped" : `failed: ${step.error.split("\n")[0]?.slice(0, 140) ?? ""}`;
}

/** Rows of [figure, value, note]. */
export function reportRows(results: BenchResults): string[][] {
  const rows: string[][] = [];
  const add = (figure: string, value: string, note = "") => rows.push([figure, value, note]);

  const baseline = results.baseline;
  let baselineRps: number | null = null;
  if (baseline.ok) {
    const best = baseline.result.miniflare.best;
    baselineRps = best?.requestsPerSecond ?? null;
    add(
      "1 baseline: hello world, workerd via Miniflare",
      best ? `${number(best.requestsPerSecond)} req/s` : "no clean level",
      best ? `c=${best.connections}, ${best.client}, server CPU ${number(best.serverCpuMsPerRequest, 3)} ms/req` : "",
    );
    const wrangler = baseline.result.wranglerDev?.best;
    if (wrangler)
      add(
        "1 baseline: hello world, wrangler dev",
        `${number(wrangler.requestsPerSecond)} req/s`,
        `c=${wrangler.connections}`,
      );
    const node = baseline.result.nodeClient;
    if (node)
      add(
        "  load client ceiling (Node, hello world)",
        `${number(node.requestsPerSecond)} req/s`,
        `client CPU ${number(node.clientCpuMsPerRequest, 3)} ms/req`,
      );
    if (best)
      add(
        `  load client cost (${best.client}, hello world)`,
        `${number(best.clientCpuMsPerRequest, 3)} ms/req`,
        "client CPU per request",
      );
  } else add("1 baseline", failed(baseline) ?? "");

  const ingestRows = (label: string, step: Step<IngestResult>) => {
    if (!step.ok) {
      add(label, failed(step) ?? "");
      return;
    }
    const ingest = step.result;
    const best = ingest.sweep.best;
    if (best === null) {
      const statuses = ingest.sweep.levels.map((level) => JSON.stringify(level.statuses)).join(" ");
      add(label, "no level without errors", statuses.slice(0, 120));
      return;
    }
    add(
      label,
      `${number(best.requestsPerSecond)} batches/s = ${number(best.eventsPerSecond)} events/s`,
      `c=${best.connections}; ${ingest.ratioToBaseline === null ? "" : `${percent(ingest.ratioToBaseline)} of baseline`}; server CPU ${number(best.serverCpuMsPerRequest, 3)} ms/batch`,
    );
    if (ingest.cpuRatioToBaseline !== null)
      add("  CPU-based ratio to baseline", percent(ingest.cpuRatioToBaseline), "hello CPU/req ÷ ingest CPU/req");
    if (ingest.clickhouseInserts !== null) {
      add(
        "  ClickHouse inserts into events meanwhile",
        `${number(ingest.clickhouseInserts.perSecond, 1)}/s`,
        `${number(ingest.clickhouseInserts.meanRows)} rows per insert`,
      );
    }
    if (ingest.profile !== null) {
      const cpu = ingest.profile.serverCpuMsPerRequest;
      add(
        "  workerd CPU per batch while profiling",
        `${number(cpu, 2)} ms`,
        `at ${number(ingest.profile.requestsPerSecond)} batches/s`,
      );
      for (const [name, share] of Object.entries(ingest.profile.phases).sort((a, b) => b[1] - a[1])) {
        if (share >= 0.01) add(`    ${name}`, `${number(share * cpu, 2)} ms/batch`, percent(share));
      }
      for (const hot of ingest.profile.hot.slice(0, 5))
        add(`    hot: ${hot.name}`.slice(0, 52), `${percent(hot.selfShare)} self`, `${percent(hot.totalShare)} incl.`);
    }
    for (const [name, open] of [
      ["50 %", ingest.atHalf],
      ["100 %", ingest.atFull],
    ] as const) {
      if (open === null) continue;
      add(
        `  latency at ${name} (${number(open.offeredPerSecond)}/s offered)`,
        `p50 ${ms(open.latency.p50)}, p99 ${ms(open.latency.p99)}`,
        `achieved ${number(open.achievedPerSecond)}/s, errors ${open.failures}${open.maxScheduleLagMs > 50 ? `, client lag ${ms(open.maxScheduleLagMs)}` : ""}`,
      );
    }
  };
  ingestRows("2 ingest (Miniflare, rate limiter off)", results.ingest);
  ingestRows("2 ingest (Miniflare, rate limits on)", results.ingestWithRateLimiter);
  ingestRows("2 ingest (wrangler dev)", results.ingestWranglerDev);
  if (baselineRps === null && results.ingest.ok) add("  (no baseline ratio: baseline failed)", "");

  const dayFill = results.dayFill;
  if (dayFill?.ok) {
    const fill = dayFill.result;
    const lastChunk = fill.chunks.at(-1);
    add(
      `2 CPU per batch as the day fills (${number(fill.chunks[1]?.batchesBefore ?? 0)} → ${number(lastChunk?.batchesBefore ?? 0)} batches)`,
      `${ms(fill.early)} → ${ms(fill.late)} (× ${number(fill.ratio, 2)})`,
      `target × ≤ 1.15; ${fill.chunks.reduce((sum, chunk) => sum + chunk.failures, 0)} failures`,
    );
  } else if (dayFill !== undefined) add("2 CPU per batch as the day fills", failed(dayFill) ?? "");

  const live = results.live;
  if (live.ok) {
    for (const [name, probe] of [
      ["idle", live.result.idle],
      [`under ${number(live.result.backgroundRate)} batches/s`, live.result.underLoad],
    ] as const) {
      add(
        `3 event → live (${name})`,
        probe.latency.count > 0 ? `p50 ${ms(probe.latency.p50)}, p99 ${ms(probe.latency.p99)}` : "no samples",
        `POST→202 p50 ${ms(probe.postLatency.p50)}, p99 ${ms(probe.postLatency.p99)}; ${probe.latency.count} probes, ${probe.missed} missed${probe.error ? `; ${probe.error}` : ""}`,
      );
    }
  } else add("3 event → live", failed(live) ?? "");

  const flush = results.flush;
  if (flush.ok) {
    const f = flush.result;
    add(
      "4 flush: shards → ClickHouse",
      `${number(f.shard.rowsPerSecond)} rows/s`,
      `${number(f.events)} events in ${number(f.shard.seconds, 1)} s, ${f.shard.inserts} inserts`,
    );
    add(
      "4 flush: direct bulk insert",
      `${number(f.directBulk.rowsPerSecond)} rows/s`,
      `shards reach ${percent(f.ratio)} of it`,
    );
    add(
      "  direct, chunks of EVENTS_PER_INSERT",
      `${number(f.directChunked.rowsPerSecond)} rows/s`,
      `${number(f.directChunked.rowsPerInsert)} rows per insert`,
    );
    add(
      "  direct, chunks of the shards' mean insert",
      `${number(f.directShardSized.rowsPerSecond)} rows/s`,
      `${number(f.directShardSized.rowsPerInsert)} rows per insert`,
    );
  } else add("4 flush", failed(flush) ?? "");

  const history = results.history;
  if (history.ok) {
    add(
      "5 history data set",
      `${number(history.result.events)} events`,
      `generated in ${number(history.result.generateSeconds, 0)} s`,
    );
    for (const timing of history.result.timings) {
      const via = timing.worker
        ? `Worker p50 ${ms(timing.worker.p50)}, p95 ${ms(timing.worker.p95)}`
        : `Worker: ${timing.workerStatus ?? "not measured"}`;
      add(
        `  /v1/history/${timing.resource} (${timing.range})`,
        via,
        `ClickHouse p50 ${ms(timing.direct.p50)}, p95 ${ms(timing.direct.p95)}`,
      );
    }
    const { render, renders = render === undefined ? [] : [render] } = history.result;
    for (const view of renders) {
      const suffix = "urlSuffix" in view && view.urlSuffix !== "" ? ` ${view.urlSuffix}` : "";
      add(
        `  History tab rendered in Chromium${suffix}`,
        "error" in view ? `failed: ${view.error.slice(0, 140)}` : `p50 ${ms(view.p50)}, p95 ${ms(view.p95)}`,
        "error" in view ? "" : `${view.preset}, ${view.loads} loads, max ${ms(view.max)}`,
      );
    }
  } else add("5 history", failed(history) ?? "");

  const sdk = results.sdk;
  if (sdk.ok) {
    for (const size of sdk.result.sizes)
      add(`6 SDK ${size.file}`, `${number(size.gzipBytes)} B gzip -9`, `${number(size.bytes)} B raw`);
    for (const file of sdk.result.missing) add(`6 SDK ${file}`, "not built", "npm run build:sdk");
  } else add("6 SDK", failed(sdk) ?? "");

  const alerts = results.alerts;
  if (alerts.ok) {
    const a = alerts.result;
    const note = `${a.firing.count} probes, ${a.missed} missed; W=${a.windowSeconds} s, L=${a.latenessSeconds} s`;
    add(
      "7 window sealed → alert webhook (firing)",
      a.firing.count > 0 ? `p50 ${ms(a.firing.p50)}, p99 ${ms(a.firing.p99)}` : "no samples",
      note,
    );
    add(
      "  next window sealed → webhook (resolved)",
      a.resolved.count > 0 ? `p50 ${ms(a.resolved.p50)}, p99 ${ms(a.resolved.p99)}` : "no samples",
      `max ${ms(a.resolved.max)}`,
    );
  } else add("7 window sealed → alert webhook", failed(alerts) ?? "");

  const tracing = results.tracing;
  if (tracing?.ok) {
    const t = tracing.result;
    add(
      `8 tracing on at ${number(t.samplingRatio * 100, 0)} % / off: CPU per request`,
      number(t.cpuRatio, 3),
      `${number(t.on.serverCpuMsPerRequest, 3)} vs ${number(t.off.serverCpuMsPerRequest, 3)} ms; target ≤ 1.05`,
    );
    add(
      "  throughput on / off",
      number(t.throughputRatio, 3),
      `${number(t.on.requestsPerSecond)} vs ${number(t.off.requestsPerSecond)} req/s, c=${t.connections}, median of ${t.rounds} rounds; ${t.on.spansReceived} spans exported`,
    );
    add(
      "  tracing code alone, per request",
      `${number(t.codeMicrosecondsPerRequest, 2)} µs CPU`,
      `${number(t.codeShareOfRequestCpu * 100, 2)} % of a request's CPU with tracing off`,
    );
  } else if (tracing !== undefined) add("8 tracing overhead", failed(tracing) ?? "");
  return rows;
}

export function formatTable(results: BenchResults): string {
  const rows = [["figure", "value", "notes"], ...reportRows(results)];
  const widths = [0, 1].map((column) => Math.max(...rows.map((row) => (row[column] ?? "").length)));
  const line = (row: string[]) =>
    `${(row[0] ?? "").padEnd(widths[0] ?? 0)}  ${(row[1] ?? "").padEnd(widths[1] ?? 0)}  ${row[2] ?? ""}`.trimEnd();
  const machine = results.machine;
  return [
    `EdgePulse benchmarks — ${results.startedAt}, commit ${machine.commit}, ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}`,
    `load average ${number(machine.loadAverageAtStart, 2)} at start, ${number(results.loadAverageAtEnd, 2)} at end; total ${number(results.totalSeconds, 0)} s`,
    "",
    line(rows[0] ?? []),
    ...rows.slice(1).map(line),
  ].join("\n");
}
