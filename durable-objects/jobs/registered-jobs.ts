/**
 * The aggregation jobs the shard and the hub run, in order. Adding a job: its file in this
 * folder, and one line here (docs/adding-jobs.md). The order is the order of the keys in the
 * partials and the live message.
 */
import { abandonedCartsJob } from "./abandoned-carts";
import type { AggregationJob } from "./aggregation-job";
import { commerceFunnelJob } from "./commerce-funnel";
import { customEventsJob } from "./custom-events";
import { sessionsByChannelJob } from "./sessions-by-channel";
import { topPagesJob } from "./top-pages";
import { topProductsJob } from "./top-products";
import { topReferrersJob } from "./top-referrers";
import { webVitalsJob } from "./web-vitals";

export const AGGREGATION_JOBS: readonly AggregationJob[] = [
  commerceFunnelJob,
  abandonedCartsJob,
  topPagesJob,
  topReferrersJob,
  topProductsJob,
  webVitalsJob,
  customEventsJob,
  sessionsByChannelJob,
];
