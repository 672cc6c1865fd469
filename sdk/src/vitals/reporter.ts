/**
 * Reports each metric at most once per page view (the load, or a back/forward-cache restore),
 * tagged with the URL of that page view. The protocol has no metric id that would let the
 * collector keep only the last of several reports, so values are final when they are sent.
 */
import type { Tracker, VitalMetric } from "../types";

let target: Pick<Tracker, "vital">;
let pageUrl: string;
let reported: Partial<Record<VitalMetric, true>> = {};

/** Starts a new page view: the load, or a restore from the back/forward cache. */
export const startPageView = (): void => {
  pageUrl = location.href;
  reported = {};
};

export const startReporting = (tracker: Pick<Tracker, "vital">): void => {
  target = tracker;
  startPageView();
};

export const wasReported = (metric: VitalMetric): boolean => !!reported[metric];

export const report = (metric: VitalMetric, value: number): void => {
  if (!reported[metric]) {
    reported[metric] = true;
    target.vital(metric, value, pageUrl);
  }
};
