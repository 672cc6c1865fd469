/**
 * Top referrers: sessions by the referrer host of their entry page view, per day (a session
 * counts once, when its referrer becomes known), the day's top hosts live
 * (`overview.top_referrers`). Built in before jobs existed: its map keeps its name `referrers`.
 */
import { incrementCapped, largestEntries } from "../shared/capped-map";
import { addCountsByKeyInto, topEntries } from "../shared/top-list";
import { MAX_MAP_ENTRIES } from "../shard-to-hub/shard-live-state";
import type { AggregationJob } from "./aggregation-job";
import { DAY_MAP_STORE_CAP } from "./state-caps";

export const topReferrersJob: AggregationJob<never, number> = {
  name: "top_referrers",
  day: {
    storedMap: "referrers",
    legacyRowField: true,
    add(map, _event, context) {
      if (context.reached.referrer && context.referrerHost !== "")
        incrementCapped(map, context.referrerHost, 1, DAY_MAP_STORE_CAP);
    },
    report(map, partial) {
      partial.referrers = largestEntries(map, MAX_MAP_ENTRIES, (visits) => visits);
    },
  },
  mergeDays() {
    const visits = new Map<string, number>();
    return {
      add: (partial) => addCountsByKeyInto(visits, partial.referrers),
      showInOverview: (overview) => {
        overview.top_referrers = topEntries(visits, (a, b) => b - a).map(([host, count]) => ({ host, visits: count }));
      },
    };
  },
};
