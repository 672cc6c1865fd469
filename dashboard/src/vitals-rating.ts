/**
 * Core Web Vitals ratings with the thresholds web.dev and the web-vitals library publish:
 * at or below the first threshold is good, above the second is poor.
 */
import type { VitalMetric } from "../../protocol/events";

export type VitalRating = "good" | "needs-improvement" | "poor";

export const VITAL_THRESHOLDS: Readonly<Record<VitalMetric, readonly [number, number]>> = {
  LCP: [2500, 4000],
  INP: [200, 500],
  CLS: [0.1, 0.25],
  FCP: [1800, 3000],
  TTFB: [800, 1800],
};

export function rateVital(metric: VitalMetric, value: number): VitalRating {
  const [good, poor] = VITAL_THRESHOLDS[metric];
  if (value > poor) return "poor";
  if (value > good) return "needs-improvement";
  return "good";
}

export const VITAL_RATING_LABELS: Readonly<Record<VitalRating, string>> = {
  good: "good",
  "needs-improvement": "needs improvement",
  poor: "poor",
};
