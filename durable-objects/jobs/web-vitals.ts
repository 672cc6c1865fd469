/**
 * Web Vitals: a quantile sketch (quantile-sketch.ts) of each metric, per window (metric →
 * sketch) and per day and page (path → metric → sketch, the pages with the most samples
 * kept), the day's p75 per page live (the `performance` answer). Sketches merge exactly
 * across shards. Built in before jobs existed: its maps keep their name `vitals`.
 */
import type { Performance, VitalMetric } from "../../protocol";
import { admitKey, largestEntries } from "../shared/capped-map";
import {
  addToSketch,
  emptySketch,
  mergeSketchInto,
  sketchQuantile,
  type QuantileSketch,
} from "../shared/quantile-sketch";
import { emptyRecord } from "../shared/safe-record";
import { TOP_LIST_LIMIT, topEntries } from "../shared/top-list";
import { MAX_VITAL_PAGES } from "../shard-to-hub/shard-live-state";
import type { AggregationJob } from "./aggregation-job";
import { DAY_VITAL_PAGES_STORE_CAP } from "./state-caps";

export interface PageVitals {
  samples: number;
  metrics: Partial<Record<VitalMetric, QuantileSketch>>;
}

function vitalCount(sketches: Map<VitalMetric, QuantileSketch>): number {
  let total = 0;
  for (const sketch of sketches.values()) total += sketch.count;
  return total;
}

export const webVitalsJob: AggregationJob<QuantileSketch, PageVitals> = {
  name: "web_vitals",
  window: {
    storedMap: "vitals",
    legacyRowField: true,
    add(map, event) {
      if (event.type !== "vital") return;
      const sketch = map[event.metric] ?? emptySketch();
      addToSketch(sketch, event.metric_value);
      map[event.metric] = sketch;
    },
  },
  day: {
    storedMap: "vitals",
    legacyRowField: true,
    add(map, event) {
      if (event.type !== "vital") return;
      if (!admitKey(map, event.path, DAY_VITAL_PAGES_STORE_CAP, (page) => page.samples)) return;
      const page = map[event.path] ?? { samples: 0, metrics: emptyRecord<QuantileSketch>() };
      const metric = event.metric as VitalMetric;
      const sketch = page.metrics[metric] ?? emptySketch();
      addToSketch(sketch, event.metric_value);
      page.metrics[metric] = sketch;
      page.samples += 1;
      map[event.path] = page;
    },
    report(map, partial) {
      const vitals = emptyRecord<Partial<Record<VitalMetric, QuantileSketch>>>();
      for (const [path, page] of Object.entries(largestEntries(map, MAX_VITAL_PAGES, (entry) => entry.samples)))
        vitals[path] = page.metrics;
      partial.vitals = vitals;
    },
  },
  mergeDays() {
    const pages = new Map<string, Map<VitalMetric, QuantileSketch>>();
    return {
      add(partial) {
        for (const [path, metrics] of Object.entries(partial.vitals)) {
          let pageSketches = pages.get(path);
          if (pageSketches === undefined) {
            pageSketches = new Map();
            pages.set(path, pageSketches);
          }
          for (const [metric, sketch] of Object.entries(metrics) as [VitalMetric, QuantileSketch | undefined][]) {
            if (sketch === undefined) continue;
            let target = pageSketches.get(metric);
            if (target === undefined) {
              target = emptySketch();
              pageSketches.set(metric, target);
            }
            mergeSketchInto(target, sketch);
          }
        }
      },
      // p75 of every metric of the pages with the most vital reports (≤ TOP_LIST_LIMIT pages).
      showInPerformance(performance) {
        const top = topEntries(pages, (a, b) => vitalCount(b) - vitalCount(a), TOP_LIST_LIMIT);
        performance.pages = top
          .filter(([, sketches]) => vitalCount(sketches) > 0)
          .map(([path, sketches]) => {
            const vitals: Performance["pages"][number]["vitals"] = {};
            for (const [metric, sketch] of sketches) {
              if (sketch.count > 0) vitals[metric] = { p75: sketchQuantile(sketch, 0.75), count: sketch.count };
            }
            return { path, vitals };
          });
      },
    };
  },
};
