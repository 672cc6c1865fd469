/**
 * Top pages: page views by path, per window and per day, the day's top paths live
 * (`overview.top_pages`). Built in before jobs existed: its maps keep their name `pages`.
 */
import { incrementCapped, largestEntries } from "../shared/capped-map";
import { addCountsByKeyInto, topEntries } from "../shared/top-list";
import { MAX_MAP_ENTRIES } from "../shard-to-hub/shard-live-state";
import type { AggregationJob } from "./aggregation-job";
import { DAY_MAP_STORE_CAP, WINDOW_MAP_CAP } from "./state-caps";

export const topPagesJob: AggregationJob<number, number> = {
  name: "top_pages",
  window: {
    storedMap: "pages",
    legacyRowField: true,
    add(map, event) {
      if (event.type === "page_view") incrementCapped(map, event.path, 1, WINDOW_MAP_CAP);
    },
  },
  day: {
    storedMap: "pages",
    legacyRowField: true,
    add(map, event) {
      if (event.type === "page_view") incrementCapped(map, event.path, 1, DAY_MAP_STORE_CAP);
    },
    report(map, partial) {
      partial.pages = largestEntries(map, MAX_MAP_ENTRIES, (views) => views);
    },
  },
  mergeDays() {
    const views = new Map<string, number>();
    return {
      add: (partial) => addCountsByKeyInto(views, partial.pages),
      showInOverview: (overview) => {
        overview.top_pages = topEntries(views, (a, b) => b - a).map(([path, count]) => ({ path, views: count }));
      },
    };
  },
};
