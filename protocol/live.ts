/**
 * Live protocol (LiveHub → dashboard) and the speed-layer REST answers. Every message carries
 * absolute values, never bare deltas, so a client that missed one is right after the next.
 */
import { z } from "zod";
import { vitalMetricSchema } from "./events";

const count = z.number().int().min(0);
const moneyByCurrency = z.record(z.string(), z.number());

/**
 * The counts every window, day and total reports, named once: the schemas, the shard's
 * counters, their sums, differences and zero checks, the hub's checks and the window_metrics
 * rows all derive from this list, so a count added here cannot be skipped by one of them.
 */
export const METRIC_COUNT_NAMES = [
  "events",
  "page_views",
  "visitors",
  "sessions",
  "bounces",
  "cart_adds",
  "cart_removes",
  "checkouts",
  "purchases",
] as const;
export type MetricCountName = (typeof METRIC_COUNT_NAMES)[number];

const countShape = Object.fromEntries(METRIC_COUNT_NAMES.map((name) => [name, count])) as Record<
  MetricCountName,
  typeof count
>;

/** The counters every window, day and total reports. */
export const metricCountsSchema = z.object({
  ...countShape,
  /** Sum of purchase values over all currencies (meaningful for single-currency sites). */
  revenue: z.number(),
  revenue_by_currency: moneyByCurrency,
});
export type MetricCounts = z.infer<typeof metricCountsSchema>;

/** A keyed-count job's entry in a top list: the key and its count of events. */
export const topKeySchema = z.object({ key: z.string(), count: count });

/** One tumbling window; `start`/`end` in ms since the epoch, `end` exclusive. */
export const windowMetricsSchema = metricCountsSchema.extend({
  start: z.number().int(),
  end: z.number().int(),
  /** Each keyed-count job's top keys in this window (at most 10; see the overview's `jobs`). */
  jobs: z.record(z.string(), z.array(topKeySchema).max(50)).optional(),
});
export type WindowMetrics = z.infer<typeof windowMetricsSchema>;

export const funnelSchema = z.object({
  sessions: count,
  product_views: count,
  cart_adds: count,
  checkouts: count,
  purchases: count,
  /** Each step divided by the one before (0 when the step before is 0), and overall purchases/sessions. */
  rates: z.object({
    product_view: z.number(),
    cart_add: z.number(),
    checkout: z.number(),
    purchase: z.number(),
    overall: z.number(),
  }),
});
export type Funnel = z.infer<typeof funnelSchema>;

export const topPageSchema = z.object({ path: z.string(), views: count });
export const topReferrerSchema = z.object({ host: z.string(), visits: count });
export const topProductSchema = z.object({
  product_id: z.string(),
  name: z.string(),
  views: count,
  cart_adds: count,
  purchases: count,
  revenue: z.number(),
});

export const overviewSchema = z.object({
  site: z.string(),
  /** UTC day `YYYY-MM-DD` that `totals` covers. */
  day: z.string(),
  online: count,
  totals: metricCountsSchema,
  funnel: funnelSchema,
  /** Sessions closed today with items in the cart and no purchase, and the value left behind. */
  abandoned_carts: z.object({ sessions: count, value: z.number() }),
  top_pages: z.array(topPageSchema).max(50),
  top_referrers: z.array(topReferrerSchema).max(50),
  top_products: z.array(topProductSchema).max(50),
  /**
   * Each keyed-count job's top keys today (durable-objects/jobs/), e.g. `custom_events`:
   * custom events by name. Optional so that a client built before a job existed still reads
   * the overview.
   */
  jobs: z.record(z.string(), z.array(topKeySchema).max(50)).optional(),
});
export type Overview = z.infer<typeof overviewSchema>;

export const vitalSummarySchema = z.object({ p75: z.number(), count: count });
export const pagePerformanceSchema = z.object({
  path: z.string(),
  vitals: z.partialRecord(vitalMetricSchema, vitalSummarySchema),
});
export const performanceSchema = z.object({
  site: z.string(),
  day: z.string(),
  /** Relative error bound of every p75 reported (from the quantile sketch). */
  relative_error: z.number(),
  pages: z.array(pagePerformanceSchema).max(50),
});
export type Performance = z.infer<typeof performanceSchema>;

export const windowsResponseSchema = z.object({
  site: z.string(),
  window_seconds: z.number().int(),
  /** Newest first. */
  windows: z.array(windowMetricsSchema),
});
export type WindowsResponse = z.infer<typeof windowsResponseSchema>;

const liveBody = {
  site: z.string(),
  /** Hub time when the message was built, ms. */
  at: z.number().int(),
  window_seconds: z.number().int(),
  windows: z.array(windowMetricsSchema),
  totals: metricCountsSchema,
  online: count,
  overview: overviewSchema,
  performance: performanceSchema,
};

/** First message on every connection: recent windows (newest first) and everything else. */
export const liveSnapshotSchema = z.object({ type: z.literal("snapshot"), ...liveBody });
/** Later messages: `windows` holds only the windows that changed (absolute values). */
export const liveUpdateSchema = z.object({ type: z.literal("update"), ...liveBody });
export const liveMessageSchema = z.discriminatedUnion("type", [liveSnapshotSchema, liveUpdateSchema]);
export type LiveSnapshot = z.infer<typeof liveSnapshotSchema>;
export type LiveUpdate = z.infer<typeof liveUpdateSchema>;
export type LiveMessage = z.infer<typeof liveMessageSchema>;

/**
 * Headers the Worker's live route sets on the upgrade it hands the LiveHub (any client-sent
 * value is replaced): digests of the token and of the client's address, and the caps on the
 * sockets one token and one client may hold on a site's hub (LIVE_MAX_SOCKETS_PER_TOKEN /
 * _PER_CLIENT, as `token,client`). The hub never sees the token or the address.
 */
export const LIVE_TOKEN_HEADER = "X-EdgePulse-Live-Token";
export const LIVE_CLIENT_HEADER = "X-EdgePulse-Live-Client";
export const LIVE_CAPS_HEADER = "X-EdgePulse-Live-Caps";
