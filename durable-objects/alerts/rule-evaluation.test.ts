import { describe, expect, it } from "vitest";
import type { Performance, WindowMetrics } from "../../protocol";
import { emptyMetricCounts } from "../shared/metric-counts";
import {
  changeVerdict,
  noDataVerdict,
  rollingMeanBaseline,
  spanValue,
  sumWindows,
  thresholdVerdict,
  worstPageP75,
} from "./rule-evaluation";

const W = 10_000;
function window(start: number, values: Partial<WindowMetrics>): WindowMetrics {
  return { ...emptyMetricCounts(), start, end: start + W, ...values };
}

describe("sumWindows", () => {
  it("sums exactly the windows starting in [from, to), missing windows counting zero, money to 4 places", () => {
    const windows = [
      window(0, { page_views: 1 }),
      window(W, { page_views: 2, revenue: 0.1 }),
      window(3 * W, { page_views: 4, revenue: 0.2 }),
      window(4 * W, { page_views: 8 }),
    ];
    const sums = sumWindows(windows, W, 4 * W);
    expect(sums.page_views).toBe(6);
    expect(sums.revenue).toBe(0.3);
  });
});

describe("spanValue and baselines", () => {
  it("gives conversion rate in percent, null without sessions", () => {
    const sums = sumWindows([window(0, { sessions: 200, purchases: 3 })], 0, W);
    expect(spanValue("conversion_rate", sums)).toBeCloseTo(1.5);
    expect(spanValue("conversion_rate", sumWindows([], 0, W))).toBeNull();
  });

  it("takes the rolling mean per span for counts and the whole range's rate for conversion", () => {
    const sums = sumWindows(
      [
        window(0, { checkouts: 10, sessions: 100, purchases: 2 }),
        window(W, { checkouts: 20, sessions: 100, purchases: 4 }),
      ],
      0,
      2 * W,
    );
    expect(rollingMeanBaseline("checkouts", sums, 2)).toBe(15);
    expect(rollingMeanBaseline("conversion_rate", sums, 2)).toBeCloseTo(3);
  });

  it("finds the worst page's p75", () => {
    const performance: Performance = {
      site: "s",
      day: "2026-01-01",
      relative_error: 0.01,
      pages: [
        { path: "/", vitals: { LCP: { p75: 1200, count: 5 } } },
        { path: "/slow", vitals: { LCP: { p75: 4800, count: 2 }, CLS: { p75: 0.3, count: 2 } } },
      ],
    };
    expect(worstPageP75(performance, "lcp_p75")).toBe(4800);
    expect(worstPageP75(performance, "inp_p75")).toBeNull();
  });
});

describe("verdicts", () => {
  it("threshold: breach below, clear only past the hysteresis", () => {
    const rule = { op: "<" as const, value: 10, hysteresis: 2 };
    expect(thresholdVerdict(rule, 9)).toEqual({ breached: true, cleared: false });
    expect(thresholdVerdict(rule, 10)).toEqual({ breached: false, cleared: false });
    expect(thresholdVerdict(rule, 11.9)).toEqual({ breached: false, cleared: false });
    expect(thresholdVerdict(rule, 12)).toEqual({ breached: false, cleared: true });
    expect(thresholdVerdict({ op: ">", value: 4000, hysteresis: 0 }, 4000)).toEqual({ breached: false, cleared: true });
    expect(thresholdVerdict({ op: ">=", value: 4000, hysteresis: 500 }, 3600)).toEqual({
      breached: false,
      cleared: false,
    });
    expect(thresholdVerdict(rule, null)).toEqual({ breached: false, cleared: false });
  });

  it("change: down 50 % breaches below half the baseline, clears within tolerance − hysteresis", () => {
    const rule = { direction: "down" as const, tolerance_pct: 50, hysteresis_pct: 10, min_baseline: 5 };
    expect(changeVerdict(rule, 4, 10)).toEqual({ breached: true, cleared: false });
    expect(changeVerdict(rule, 5, 10)).toEqual({ breached: false, cleared: false });
    expect(changeVerdict(rule, 6, 10)).toEqual({ breached: false, cleared: true });
    // Too small a baseline decides nothing.
    expect(changeVerdict(rule, 0, 4)).toEqual({ breached: false, cleared: false });
    expect(changeVerdict({ ...rule, direction: "up", min_baseline: 1 }, 16, 10)).toEqual({
      breached: true,
      cleared: false,
    });
    expect(changeVerdict({ ...rule, direction: "up", min_baseline: 1 }, 14, 10)).toEqual({
      breached: false,
      cleared: true,
    });
  });

  it("no data: breached on zero events only", () => {
    expect(noDataVerdict(0)).toEqual({ breached: true, cleared: false });
    expect(noDataVerdict(1)).toEqual({ breached: false, cleared: true });
  });
});
