import { describe, expect, it } from "vitest";
import { type BenchResults, formatTable, type HistoryResult } from "./report";
import type { ThroughputLevel } from "./throughput";

const level = (requestsPerSecond: number, serverCpuMsPerRequest: number): ThroughputLevel => ({
  connections: 24,
  requestsPerSecond,
  eventsPerSecond: requestsPerSecond * 20,
  failures: 0,
  statuses: { "202": requestsPerSecond * 6 },
  latencyMs: { p50: 5, p99: 20 },
  serverCpuMsPerRequest,
  clientCpuMsPerRequest: 0.05,
  machineBusy: 0.9,
  client: "wrk",
});

const results: BenchResults = {
  version: 1,
  startedAt: "2026-11-23T00:00:00.000Z",
  totalSeconds: 600,
  machine: {
    cpus: 2,
    cpuModel: "Test CPU",
    memoryGiB: 8,
    node: "v24",
    kernel: "6",
    loadAverageAtStart: 0.5,
    commit: "abc",
  },
  loadAverageAtEnd: 1,
  settings: {},
  baseline: {
    ok: true,
    seconds: 30,
    result: {
      miniflare: { levels: [level(4000, 0.25)], best: level(4000, 0.25) },
      nodeClient: null,
      wranglerDev: null,
    },
  },
  ingest: {
    ok: true,
    seconds: 60,
    result: {
      via: "workerd",
      sweep: { levels: [level(1000, 1)], best: level(1000, 1) },
      atHalf: null,
      atFull: null,
      ratioToBaseline: 0.25,
      cpuRatioToBaseline: 0.25,
      profile: null,
      clickhouseInserts: { perSecond: 24, meanRows: 40 },
    },
  },
  dayFill: {
    ok: true,
    seconds: 200,
    result: {
      chunks: [0, 1000, 49_000].map((batchesBefore, index) => ({
        batchesBefore,
        batches: 1000,
        serverCpuMsPerBatch: [3, 2, 2.2][index] ?? 0,
        batchesPerSecond: 250,
        failures: index === 2 ? 1 : 0,
      })),
      early: 2,
      late: 2.2,
      ratio: 1.1,
    },
  },
  ingestWithRateLimiter: { ok: false, skipped: true },
  ingestWranglerDev: { ok: false, seconds: 3, error: "wrangler dev did not answer\nstack…" },
  live: { ok: false, skipped: true },
  flush: { ok: false, skipped: true },
  history: { ok: false, skipped: true },
  sdk: {
    ok: true,
    seconds: 0,
    result: { sizes: [{ file: "sdk/dist/ep.js", bytes: 2800, gzipBytes: 1400 }], missing: ["sdk/dist/ep.vitals.js"] },
  },
  alerts: {
    ok: true,
    seconds: 90,
    result: {
      firing: { count: 50, mean: 420, p50: 400, p90: 480, p99: 610, max: 700 },
      resolved: { count: 50, mean: 410, p50: 390, p90: 470, p99: 600, max: 650 },
      probes: 50,
      missed: 0,
      windowSeconds: 1,
      latenessSeconds: 1,
    },
  },
  tracing: {
    ok: true,
    seconds: 80,
    result: {
      samplingRatio: 0.01,
      connections: 24,
      rounds: 4,
      secondsPerRound: 6,
      off: { requestsPerSecond: 1000, serverCpuMsPerRequest: 1, failures: 0 },
      on: { requestsPerSecond: 990, serverCpuMsPerRequest: 1.02, failures: 0, spansReceived: 480, exportRequests: 160 },
      throughputRatio: 0.99,
      cpuRatio: 1.02,
      codeMicrosecondsPerRequest: 1.5,
      codeShareOfRequestCpu: 0.0015,
    },
  },
};

describe("formatTable", () => {
  it("prints each figure with its ratio, and says which steps failed or were skipped", () => {
    const table = formatTable(results);
    expect(table).toMatch(/hello world, workerd via Miniflare\s+4,000 req\/s/);
    expect(table).toMatch(/1,000 batches\/s = 20,000 events\/s.*25 % of baseline/);
    expect(table).toMatch(/ClickHouse inserts into events meanwhile\s+24\.0\/s\s+40 rows per insert/);
    expect(table).toMatch(
      /CPU per batch as the day fills \(1,000 → 49,000 batches\)\s+2\.0 ms → 2\.2 ms \(× 1\.10\)\s+target × ≤ 1\.15; 1 failures/,
    );
    expect(table).toMatch(/ingest \(wrangler dev\)\s+failed: wrangler dev did not answer\n/);
    expect(table).toMatch(/event → live\s+skipped/);
    expect(table).toMatch(/ep\.js\s+1,400 B gzip -9/);
    expect(table).toMatch(/ep\.vitals\.js\s+not built/);
    expect(table).toMatch(/window sealed → alert webhook \(firing\)\s+p50 400 ms, p99 610 ms\s+50 probes, 0 missed/);
    expect(table).toMatch(/tracing on at 1 % \/ off: CPU per request\s+1\.020\s+1\.020 vs 1\.000 ms; target ≤ 1\.05/);
    expect(table).toMatch(/tracing code alone, per request\s+1\.50 µs CPU\s+0\.15 % of a request's CPU/);
    expect(table).toMatch(
      /throughput on \/ off\s+0\.990\s+990 vs 1,000 req\/s, c=24, median of 4 rounds; 480 spans exported/,
    );
  });

  it("prints one History tab row per timed view, and the single view of older results", () => {
    const timing = { preset: "30d", loads: 20, p50: 600, p95: 900, max: 950 };
    const history = (result: Partial<HistoryResult>) =>
      formatTable({
        ...results,
        history: { ok: true, seconds: 90, result: { events: 1e7, generateSeconds: 60, timings: [], ...result } },
      });
    const table = history({
      renders: [
        { ...timing, url: "http://x/?range=30d#history", urlSuffix: "" },
        { error: "the History tab did not settle", urlSuffix: "?filter=country:is:DE&compare=previous" },
      ],
    });
    expect(table).toMatch(/History tab rendered in Chromium\s+p50 600 ms, p95 900 ms\s+30d, 20 loads/);
    expect(table).toMatch(
      /History tab rendered in Chromium \?filter=country:is:DE&compare=previous\s+failed: the History tab did not settle/,
    );
    expect(history({ render: { ...timing, url: "http://x/", urlSuffix: "" } })).toMatch(
      /History tab rendered in Chromium\s+p50 600 ms, p95 900 ms/,
    );
  });

  it("leaves the tracing rows out of results from before the step existed", () => {
    const { tracing: _tracing, ...older } = results;
    expect(formatTable(older)).not.toMatch(/tracing/);
  });
});
