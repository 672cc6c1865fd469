/**
 * The soak's result: what ran, the per-interval samples, the totals, the exactness check and
 * a verdict, rendered as Markdown beside the SVG chart. The verdict fails on errors and on
 * any exactness breach; memory, storage and CPU per batch are reported as growth figures for
 * a reader to judge, because "bounded" depends on the run's length.
 */
import type { LatencySummary } from "../latency-histogram";
import type { ExactnessResult } from "./exactness";
import type { SoakSample } from "./interval-recorder";

export interface SoakReport {
  startedAt: string;
  command: string;
  machine: { cpus: number; cpuModel: string; loadAverageAtStart: number; loadAverageAtEnd: number };
  settings: {
    /** Target, events/s. */
    rate: number;
    /** How the rate was chosen, e.g. "--rate 2000" or "half of 3,400 events/s measured". */
    rateSource: string;
    durationMs: number;
    intervalMs: number;
    sites: readonly string[];
    concurrency: number;
  };
  samples: readonly SoakSample[];
  totals: {
    sentBatches: number;
    sentEvents: number;
    acceptedBatches: number;
    acceptedEvents: number;
    duplicates: number;
    /** Final non-202 answers by status (0 = network error / timeout). */
    rejected: Record<string, number>;
    retries: number;
    /** Retried attempts by the status that caused them (0 = network error / timeout). */
    retriesByStatus: Record<string, number>;
    abandoned: number;
  };
  ingestLatency: LatencySummary;
  liveLatency: LatencySummary;
  liveMissed: number;
  /** Null when the run was stopped before the check. */
  exactness: ExactnessResult | null;
}

export interface Verdict {
  pass: boolean;
  reasons: string[];
}

/** Below this share of the target rate, sent over the whole run, the run does not count as at that rate. */
const MIN_SHARE_OF_RATE = 0.9;

export function errorCount(report: SoakReport): number {
  return Object.values(report.totals.rejected).reduce((sum, count) => sum + count, 0) + report.totals.abandoned;
}

export function verdictOf(report: SoakReport): Verdict {
  const reasons: string[] = [];
  const errors = errorCount(report);
  if (errors > 0)
    reasons.push(
      `${errors} batches failed (${formatRejected(report.totals.rejected)}${report.totals.abandoned > 0 ? `; ${report.totals.abandoned} unanswered` : ""})`,
    );
  // A run that fell far behind its schedule did not soak at the rate it names.
  const sentPerSecond = report.totals.sentEvents / (report.settings.durationMs / 1000);
  if (sentPerSecond < report.settings.rate * MIN_SHARE_OF_RATE)
    reasons.push(
      `the load fell behind: ${sentPerSecond.toFixed(0)} events/s sent of ${report.settings.rate.toFixed(0)} targeted (the collector or the machine saturated)`,
    );
  const exactness = report.exactness;
  if (exactness === null) reasons.push("the exactness check did not run");
  else {
    const { batches } = exactness;
    if (batches.missing > 0) reasons.push(`${batches.missing} acknowledged batches missing in ClickHouse`);
    if (batches.wrong > 0) reasons.push(`${batches.wrong} batches stored with the wrong number of rows`);
    if (batches.unacknowledged > 0)
      reasons.push(`${batches.unacknowledged} batches stored that were never acknowledged`);
    if (exactness.eventsInClickHouse !== exactness.acknowledgedEvents + exactness.eventsStoredAfterFailure)
      reasons.push(
        `${exactness.eventsInClickHouse} events in ClickHouse, ${exactness.acknowledgedEvents} acknowledged + ${exactness.eventsStoredAfterFailure} of failed batches stored anyway`,
      );
    if (!exactness.windowsMatch) reasons.push("window_metrics totals differ from events totals");
  }
  if (report.samples.length === 0) reasons.push("no interval was recorded");
  return { pass: reasons.length === 0, reasons };
}

/** Growth of a series: its value in the last interval against the first interval past warm-up. */
export interface Growth {
  first: number;
  last: number;
  max: number;
}

export function growthOf(samples: readonly SoakSample[], value: (sample: SoakSample) => number | null): Growth | null {
  const values = samples.map(value).filter((entry): entry is number => entry !== null && Number.isFinite(entry));
  if (values.length === 0) return null;
  // The first interval includes start-up (objects created, code compiled): compare from the second when there is one.
  const first = values.length > 1 ? (values[1] as number) : (values[0] as number);
  return { first, last: values[values.length - 1] as number, max: Math.max(...values) };
}

function formatRejected(rejected: Record<string, number>): string {
  const entries = Object.entries(rejected);
  if (entries.length === 0) return "none";
  return entries.map(([status, count]) => `${status === "0" ? "network" : status}: ${count}`).join(", ");
}

const MB = 1024 * 1024;

function cell(value: number | null, digits: number, scale = 1): string {
  return value === null || !Number.isFinite(value) ? "–" : (value / scale).toFixed(digits);
}

function minutes(ms: number): string {
  return ms >= 60_000 ? `${(ms / 60_000).toFixed(ms % 60_000 === 0 ? 0 : 1)} min` : `${(ms / 1000).toFixed(0)} s`;
}

function growthLine(name: string, growth: Growth | null, unit: string, digits: number, scale = 1): string {
  if (growth === null) return `| ${name} | – | – | – | – |`;
  const change = growth.first === 0 ? "–" : `${(((growth.last - growth.first) / growth.first) * 100).toFixed(0)} %`;
  return `| ${name} (${unit}) | ${(growth.first / scale).toFixed(digits)} | ${(growth.last / scale).toFixed(digits)} | ${(growth.max / scale).toFixed(digits)} | ${change} |`;
}

export function renderSoakMarkdown(report: SoakReport, chartFile: string): string {
  const verdict = verdictOf(report);
  const { totals, settings } = report;
  const lines: string[] = [
    `# Soak ${report.startedAt}`,
    "",
    `**Verdict: ${verdict.pass ? "PASS" : "FAIL"}**${verdict.pass ? " — 0 errors, every acknowledged event in ClickHouse exactly once, window_metrics = events." : ""}`,
    ...verdict.reasons.map((reason) => `- ${reason}`),
    "",
    `\`${report.command}\``,
    "",
    `- machine: ${report.machine.cpus} × ${report.machine.cpuModel}, load average ${report.machine.loadAverageAtStart.toFixed(2)} at start, ${report.machine.loadAverageAtEnd.toFixed(2)} at end`,
    `- load: ${settings.rate.toFixed(0)} events/s target (${settings.rateSource}) for ${minutes(settings.durationMs)}, sites ${settings.sites.join(", ")}, ≤ ${settings.concurrency} requests in flight; generated shop sessions (tools/session-generator.ts)`,
    `- stack: local ClickHouse (embedded engine) + migrations, the collector bundle on workerd via Miniflare, samples every ${minutes(settings.intervalMs)}`,
    "",
    "## Totals",
    "",
    "| | |",
    "|---|---|",
    `| sent | ${totals.sentBatches} batches, ${totals.sentEvents} events |`,
    `| acknowledged (202) | ${totals.acceptedBatches} batches, ${totals.acceptedEvents} events, ${totals.duplicates} duplicate answers |`,
    `| errors (final answers ≠ 202) | ${formatRejected(totals.rejected)}${totals.abandoned > 0 ? `; ${totals.abandoned} unanswered` : ""} |`,
    `| retries (429/503/5xx/network, same batch id) | ${totals.retries}${totals.retries > 0 ? ` (${formatRejected(totals.retriesByStatus)})` : ""} |`,
    `| ingest latency (POST → 202) | p50 ${report.ingestLatency.p50.toFixed(1)} ms, p99 ${report.ingestLatency.p99.toFixed(1)} ms, max ${report.ingestLatency.max.toFixed(1)} ms |`,
    `| event → live update | ${report.liveLatency.count === 0 ? "no probes" : `p50 ${report.liveLatency.p50.toFixed(1)} ms, p99 ${report.liveLatency.p99.toFixed(1)} ms, max ${report.liveLatency.max.toFixed(1)} ms (${report.liveLatency.count} probes, ${report.liveMissed} missed)`} |`,
  ];
  const exactness = report.exactness;
  if (exactness !== null) {
    lines.push(
      `| in ClickHouse | ${exactness.eventsInClickHouse} events of ${exactness.acknowledgedEvents} acknowledged${settings.rateSource.startsWith("half of") ? " (calibration run included)" : ""}; ${exactness.batches.exact} of ${exactness.acknowledgedBatches} batches exactly once, ${exactness.batches.missing} missing, ${exactness.batches.wrong} wrong, ${exactness.batches.unacknowledged} unacknowledged; ${exactness.batches.storedAfterFailure} failed batches (${exactness.eventsStoredAfterFailure} events) stored anyway, each exactly once (checked ${(exactness.waitedMs / 1000).toFixed(0)} s after the load) |`,
      "",
      "## window_metrics against events",
      "",
      "| total | from events | from window_metrics |",
      "|---|---|---|",
      ...Object.keys(exactness.fromEvents).map((name) => {
        const key = name as keyof typeof exactness.fromEvents;
        const same = exactness.fromEvents[key] === exactness.fromWindows[key];
        return `| ${name} | ${exactness.fromEvents[key]} | ${exactness.fromWindows[key]}${same ? "" : " ✗"} |`;
      }),
    );
    if (exactness.batches.examples.length > 0)
      lines.push("", "Offending batches (first few):", "", ...exactness.batches.examples.map((text) => `- ${text}`));
  }
  const samples = report.samples;
  // The last interval may be only the drain after the load: too short to compare with full ones.
  const full = samples.filter((sample) => sample.durationMs >= settings.intervalMs / 2);
  lines.push(
    "",
    "## Bounded and flat?",
    "",
    "Second interval (past start-up) against the last full one, and the maximum.",
    "",
    "| series | first | last | max | change |",
    "|---|---|---|---|---|",
    growthLine(
      "workerd RSS",
      growthOf(full, (sample) => sample.workerdRssBytes),
      "MB",
      0,
      MB,
    ),
    growthLine(
      "IngestShard databases",
      growthOf(full, (sample) => sample.shardStorageBytes),
      "MB",
      1,
      MB,
    ),
    growthLine(
      "IngestShard write-ahead logs",
      growthOf(full, (sample) => sample.shardWalBytes),
      "MB",
      1,
      MB,
    ),
    growthLine(
      "other object storage",
      growthOf(full, (sample) => sample.otherStorageBytes),
      "MB",
      1,
      MB,
    ),
    growthLine(
      "ClickHouse active parts",
      growthOf(full, (sample) => sample.clickhouseParts),
      "parts",
      0,
    ),
    growthLine(
      "workerd CPU per batch",
      growthOf(full, (sample) => sample.cpuMsPerBatch),
      "ms",
      2,
    ),
    growthLine(
      "ingest p99",
      growthOf(full, (sample) => sample.ingestP99Ms),
      "ms",
      1,
    ),
    "",
    `![soak chart](${chartFile})`,
    "",
    "## Every interval",
    "",
    "| t | sent ev/s | accepted ev/s | errors | retries | p50 ms | p99 ms | live p99 ms | CPU ms/batch | workerd RSS MB | shard DB MB | shard WAL MB | other objects MB | CH parts |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...samples.map(
      (sample) =>
        `| ${minutes(sample.elapsedMs)} | ${cell(sample.sentEventsPerSecond, 0)} | ${cell(sample.acceptedEventsPerSecond, 0)} | ${sample.errors} | ${sample.retries} | ${cell(sample.ingestP50Ms, 1)} | ${cell(sample.ingestP99Ms, 1)} | ${cell(sample.liveP99Ms, 1)} | ${cell(sample.cpuMsPerBatch, 2)} | ${cell(sample.workerdRssBytes, 0, MB)} | ${cell(sample.shardStorageBytes, 1, MB)} | ${cell(sample.shardWalBytes, 1, MB)} | ${cell(sample.otherStorageBytes, 1, MB)} | ${cell(sample.clickhouseParts, 0)} |`,
    ),
    "",
  );
  return lines.join("\n");
}

/** One progress line per interval, for the terminal. */
export function formatSampleLine(sample: SoakSample): string {
  return (
    `[soak] ${minutes(sample.elapsedMs).padStart(7)}  sent ${cell(sample.sentEventsPerSecond, 0)} ev/s  accepted ${cell(sample.acceptedEventsPerSecond, 0)} ev/s  ` +
    `errors ${sample.errors}  retries ${sample.retries}  p99 ${cell(sample.ingestP99Ms, 1)} ms  live p99 ${cell(sample.liveP99Ms, 1)} ms  ` +
    `CPU ${cell(sample.cpuMsPerBatch, 2)} ms/batch  workerd ${cell(sample.workerdRssBytes, 0, MB)} MB  shard DB ${cell(sample.shardStorageBytes, 1, MB)} MB + WAL ${cell(sample.shardWalBytes, 1, MB)} MB  parts ${cell(sample.clickhouseParts, 0)}`
  );
}
