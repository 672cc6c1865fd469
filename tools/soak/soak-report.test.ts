import { describe, expect, it } from "vitest";
import type { ExactnessResult } from "./exactness";
import type { SoakSample } from "./interval-recorder";
import { niceCeiling, renderSoakChart, SOAK_SERIES } from "./soak-chart";
import { growthOf, renderSoakMarkdown, type SoakReport, verdictOf } from "./soak-report";

const MB = 1024 * 1024;
const latency = { count: 100, mean: 10, p50: 8, p90: 15, p99: 30, max: 45 };

function sample(index: number, overrides: Partial<SoakSample> = {}): SoakSample {
  return {
    index,
    elapsedMs: index * 60_000,
    durationMs: 60_000,
    sentBatches: 600,
    sentEvents: 6_000,
    acceptedBatches: 600,
    acceptedEvents: 6_000,
    errors: 0,
    retries: 0,
    sentEventsPerSecond: 100,
    acceptedEventsPerSecond: 100,
    ingestP50Ms: 5,
    ingestP99Ms: 20 + index,
    liveP99Ms: 80,
    liveProbes: 200,
    cpuMsPerBatch: 1.5,
    workerdRssBytes: (100 + index) * MB,
    shardStorageBytes: index * MB,
    shardWalBytes: 4 * MB,
    otherStorageBytes: MB,
    clickhouseParts: 10 + index,
    ...overrides,
  };
}

const exact: ExactnessResult = {
  acknowledgedBatches: 1_800,
  acknowledgedEvents: 18_000,
  eventsInClickHouse: 18_000,
  eventsStoredAfterFailure: 0,
  batches: { exact: 1_800, missing: 0, wrong: 0, storedAfterFailure: 0, unacknowledged: 0, examples: [] },
  fromEvents: {
    events: "18000",
    page_views: "9000",
    cart_adds: "900",
    cart_removes: "90",
    checkouts: "80",
    purchases: "70",
    revenue: "1234.5",
  },
  fromWindows: {
    events: "18000",
    page_views: "9000",
    cart_adds: "900",
    cart_removes: "90",
    checkouts: "80",
    purchases: "70",
    revenue: "1234.5",
  },
  windowsMatch: true,
  waitedMs: 21_000,
  holds: true,
};

function report(overrides: Partial<SoakReport> = {}): SoakReport {
  return {
    startedAt: "2026-12-06T05:00:00.000Z",
    command: "npm run soak -- --duration 3m --rate 100",
    machine: { cpus: 2, cpuModel: "Test CPU", loadAverageAtStart: 1, loadAverageAtEnd: 2 },
    settings: {
      rate: 100,
      rateSource: "--rate 100",
      durationMs: 180_000,
      intervalMs: 60_000,
      sites: ["soak-a", "soak-b"],
      concurrency: 256,
    },
    samples: [sample(1), sample(2), sample(3)],
    totals: {
      sentBatches: 1_800,
      sentEvents: 18_000,
      acceptedBatches: 1_800,
      acceptedEvents: 18_000,
      duplicates: 0,
      rejected: {},
      retries: 0,
      retriesByStatus: {},
      abandoned: 0,
    },
    ingestLatency: latency,
    liveLatency: latency,
    liveMissed: 0,
    exactness: exact,
    ...overrides,
  };
}

describe("verdictOf", () => {
  it("passes a run without errors whose events are all in ClickHouse exactly once", () => {
    expect(verdictOf(report())).toEqual({ pass: true, reasons: [] });
  });

  it("fails on errors, on missing or doubled batches and on windows that disagree with events", () => {
    const verdict = verdictOf(
      report({
        totals: { ...report().totals, rejected: { "503": 2, "0": 1 } },
        exactness: {
          ...exact,
          eventsInClickHouse: 17_990,
          batches: { exact: 1_797, missing: 2, wrong: 1, storedAfterFailure: 0, unacknowledged: 0, examples: [] },
          fromWindows: { ...exact.fromWindows, events: "17989" },
          windowsMatch: false,
          holds: false,
        },
      }),
    );
    expect(verdict.pass).toBe(false);
    expect(verdict.reasons).toEqual([
      "3 batches failed (network: 1, 503: 2)",
      "2 acknowledged batches missing in ClickHouse",
      "1 batches stored with the wrong number of rows",
      "17990 events in ClickHouse, 18000 acknowledged + 0 of failed batches stored anyway",
      "window_metrics totals differ from events totals",
    ]);
  });

  it("fails a run that sent far fewer events than its rate over its duration", () => {
    const behind = report({ settings: { ...report().settings, rate: 10_000, durationMs: 60_000 } });
    expect(verdictOf(behind).reasons).toEqual([
      "the load fell behind: 300 events/s sent of 10000 targeted (the collector or the machine saturated)",
    ]);
  });

  it("fails a run whose exactness check never ran", () => {
    expect(verdictOf(report({ exactness: null })).reasons).toContain("the exactness check did not run");
  });
});

describe("growthOf", () => {
  it("compares the last interval with the first one past start-up", () => {
    const samples = [
      sample(1, { workerdRssBytes: 500 }),
      sample(2, { workerdRssBytes: 100 }),
      sample(3, { workerdRssBytes: 150 }),
    ];
    expect(growthOf(samples, (entry) => entry.workerdRssBytes)).toEqual({ first: 100, last: 150, max: 500 });
    expect(growthOf(samples, () => null)).toBeNull();
  });
});

describe("renderSoakMarkdown", () => {
  it("states the verdict, the totals, window_metrics against events and one row per interval", () => {
    const drained = sample(4, { elapsedMs: 185_000, durationMs: 5_000, workerdRssBytes: 900 * MB });
    const markdown = renderSoakMarkdown(report({ samples: [sample(1), sample(2), sample(3), drained] }), "run.svg");
    expect(markdown).toContain("**Verdict: PASS**");
    expect(markdown).toContain("| sent | 1800 batches, 18000 events |");
    expect(markdown).toContain("| revenue | 1234.5 | 1234.5 |");
    expect(markdown).toContain("![soak chart](run.svg)");
    expect(markdown).toContain("| workerd RSS (MB) | 102 | 103 | 103 | 1 % |");
    expect(markdown).toContain("| IngestShard write-ahead logs (MB) | 4.0 | 4.0 | 4.0 | 0 % |");
    const intervalRows = markdown.split("\n").filter((line) => /^\| [\d.]+ min \|/.test(line));
    // The drain after the load is listed but left out of the growth figures.
    expect(intervalRows).toHaveLength(4);
    expect(intervalRows[2]).toBe(
      "| 3 min | 100 | 100 | 0 | 0 | 5.0 | 23.0 | 80.0 | 1.50 | 103 | 3.0 | 4.0 | 1.0 | 13 |",
    );
  });

  it("lists the reasons of a failure and marks the totals that differ", () => {
    const markdown = renderSoakMarkdown(
      report({
        exactness: { ...exact, fromWindows: { ...exact.fromWindows, purchases: "69" }, windowsMatch: false },
      }),
      "run.svg",
    );
    expect(markdown).toContain("**Verdict: FAIL**");
    expect(markdown).toContain("- window_metrics totals differ from events totals");
    expect(markdown).toContain("| purchases | 70 | 69 ✗ |");
  });
});

describe("renderSoakChart", () => {
  it("draws a panel per series with one point per interval", () => {
    const svg = renderSoakChart([sample(1), sample(2), sample(3)], "Soak <test>");
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    expect(svg).toContain("Soak &lt;test&gt;");
    const polylines = [...svg.matchAll(/<polyline points="([^"]+)"/g)].map((match) => match[1]?.split(" ").length);
    const lineCount = SOAK_SERIES.reduce((count, series) => count + (series.second === undefined ? 1 : 2), 0);
    expect(polylines).toHaveLength(lineCount);
    expect(polylines.every((points) => points === 3)).toBe(true);
  });

  it("breaks a line where a reading is missing and marks a lone point", () => {
    const samples = [sample(1), sample(2, { clickhouseParts: null }), sample(3), sample(4)];
    const svg = renderSoakChart(samples, "gaps", [
      { title: "parts", unit: "parts", value: (entry) => entry.clickhouseParts },
    ]);
    expect(svg.match(/<circle /g)).toHaveLength(1);
    expect(svg.match(/<polyline /g)).toHaveLength(1);
  });

  it("scales each panel to a round maximum", () => {
    expect(niceCeiling(0)).toBe(1);
    expect(niceCeiling(7)).toBe(10);
    expect(niceCeiling(130)).toBe(200);
    expect(niceCeiling(0.04)).toBe(0.05);
    expect(niceCeiling(5_000)).toBe(5_000);
  });
});
