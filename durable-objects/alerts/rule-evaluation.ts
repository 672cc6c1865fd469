/**
 * What a rule sees in one evaluation, as pure functions: a metric's value over a span of
 * windows, a baseline, and the verdict. The verdict has two sides so that a firing alert
 * does not flap: `breached` starts (or keeps) an alert, `cleared` ends it, and between the
 * two (the hysteresis band) the state stays as it is.
 */
import type { AlertMetric, ChangeCondition, ThresholdCondition, WindowMetrics, Performance } from "../../protocol";
import { windowAlertMetrics } from "../../protocol";

type WindowMetric = (typeof windowAlertMetrics)[number];

/** Counters of the windows in a span, summed. */
export type SpanSums = Record<WindowMetric, number>;

export interface Verdict {
  breached: boolean;
  cleared: boolean;
}

/** Neither fires nor resolves: a value that cannot be computed keeps the state as it is. */
export const UNDECIDED: Verdict = { breached: false, cleared: false };

export function emptySpanSums(): SpanSums {
  return Object.fromEntries(windowAlertMetrics.map((metric) => [metric, 0])) as SpanSums;
}

/** Sums the windows that start in [from, to); windows missing from the list had no events (the hub keeps only non-empty ones). */
export function sumWindows(windows: readonly WindowMetrics[], from: number, to: number): SpanSums {
  const sums = emptySpanSums();
  for (const window of windows) {
    if (window.start < from || window.start >= to) continue;
    for (const metric of windowAlertMetrics) sums[metric] += window[metric];
  }
  // Money is Decimal(18, 4): round the float sum back to 4 places, as ClickHouse's sum is exact.
  sums.revenue = Math.round(sums.revenue * 10_000) / 10_000;
  return sums;
}

export function isWindowMetric(metric: AlertMetric): metric is WindowMetric {
  return (windowAlertMetrics as readonly string[]).includes(metric);
}

/** A window metric's value, or conversion rate in percent (null without sessions). */
export function spanValue(metric: WindowMetric | "conversion_rate", sums: SpanSums): number | null {
  if (metric === "conversion_rate") return sums.sessions === 0 ? null : (sums.purchases / sums.sessions) * 100;
  return sums[metric];
}

/** The worst page's p75 of a web vital today, or null before any page reported it. */
export function worstPageP75(performance: Performance, metric: "lcp_p75" | "inp_p75" | "cls_p75"): number | null {
  const vital = metric === "lcp_p75" ? "LCP" : metric === "inp_p75" ? "INP" : "CLS";
  let worst: number | null = null;
  for (const page of performance.pages) {
    const p75 = page.vitals[vital]?.p75;
    if (p75 !== undefined && (worst === null || p75 > worst)) worst = p75;
  }
  return worst;
}

/**
 * The rolling-mean baseline over the `spans` spans before the evaluated one: counts are the
 * mean per span, the conversion rate is that of the whole baseline range.
 */
export function rollingMeanBaseline(
  metric: WindowMetric | "conversion_rate",
  sums: SpanSums,
  spans: number,
): number | null {
  const value = spanValue(metric, sums);
  if (value === null) return null;
  return metric === "conversion_rate" ? value : value / spans;
}

function compare(value: number, op: ThresholdCondition["op"], limit: number): boolean {
  switch (op) {
    case "<":
      return value < limit;
    case "<=":
      return value <= limit;
    case ">":
      return value > limit;
    case ">=":
      return value >= limit;
  }
}

/** Breached when `value op limit`; cleared only once the value is `hysteresis` back on the good side. */
export function thresholdVerdict(
  condition: Pick<ThresholdCondition, "op" | "value" | "hysteresis">,
  value: number | null,
): Verdict {
  if (value === null) return UNDECIDED;
  const breached = compare(value, condition.op, condition.value);
  const below = condition.op === "<" || condition.op === "<=";
  const clearLimit = below ? condition.value + condition.hysteresis : condition.value - condition.hysteresis;
  return { breached, cleared: !compare(value, condition.op, clearLimit) };
}

/**
 * Change against a baseline, in percent of it: "down 50 %" breaches strictly below half the
 * baseline and clears at (50 − hysteresis) % below it or higher. A baseline under
 * `min_baseline` (a quiet hour, a new site) decides nothing either way.
 */
export function changeVerdict(
  condition: Pick<ChangeCondition, "direction" | "tolerance_pct" | "hysteresis_pct" | "min_baseline">,
  value: number | null,
  baseline: number | null,
): Verdict {
  if (value === null || baseline === null || baseline < condition.min_baseline || baseline <= 0) return UNDECIDED;
  const changePct = ((value - baseline) / baseline) * 100;
  if (condition.direction === "down") {
    return {
      breached: changePct < -condition.tolerance_pct,
      cleared: changePct >= -condition.tolerance_pct + condition.hysteresis_pct,
    };
  }
  return {
    breached: changePct > condition.tolerance_pct,
    cleared: changePct <= condition.tolerance_pct - condition.hysteresis_pct,
  };
}

/** No event at all in the span. */
export function noDataVerdict(events: number): Verdict {
  return { breached: events === 0, cleared: events > 0 };
}
