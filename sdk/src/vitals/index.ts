/**
 * `@edgepulse/sdk/vitals`: Core Web Vitals (LCP, INP, CLS, FCP, TTFB) measured with
 * PerformanceObserver the way the web-vitals library defines them, each sent once per page
 * view as a `vital` event: `vitals(init({ site: "demo" }))`.
 */
import { onCLS } from "./on-cls";
import { onFCP } from "./on-fcp";
import { onINP } from "./on-inp";
import { onLCP } from "./on-lcp";
import { onTTFB } from "./on-ttfb";
import { onRestore, watchLifecycle } from "./page-lifecycle";
import { startPageView, startReporting } from "./reporter";
import type { Tracker } from "../types";

export function vitals(tracker: Pick<Tracker, "vital">): void {
  startReporting(tracker);
  watchLifecycle();
  // Registered before the metrics' own restore hooks, so what they report after a restore
  // belongs to the restored page view.
  onRestore(startPageView);
  onTTFB();
  onFCP();
  onLCP();
  onCLS();
  onINP();
}
