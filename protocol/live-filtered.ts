/**
 * `GET /v1/live/filtered?site&filter…`: live-shaped figures for the filtered traffic, from
 * freshly flushed `events` in ClickHouse (the speed layer keeps no per-dimension state). The
 * body has the live feed's fields (windows, totals, online, overview, performance), so the
 * dashboard renders it with the same panel, and says where it comes from and how stale it
 * may be. Semantics in docs/live.md ("Filtered live").
 */
import { z } from "zod";
import { metricCountsSchema, overviewSchema, performanceSchema, windowMetricsSchema } from "./live";

/** Windows answered, newest first: what the live chart shows. */
export const LIVE_FILTERED_WINDOWS = 60;
/** Rows of each top list, by default and at most. */
export const DEFAULT_LIVE_FILTERED_LIMIT = 10;
export const MAX_LIVE_FILTERED_LIMIT = 50;
/** "Online": visitors with a matching event in this span before `at`, as the hub counts them. */
export const LIVE_ONLINE_SPAN_MS = 5 * 60_000;

export const liveFilteredAnswerSchema = z.object({
  site: z.string(),
  /** When ClickHouse was asked, ms: the answer holds the events stored by then. */
  at: z.number().int(),
  source: z.literal("clickhouse"),
  /**
   * How long after its 202 an event may still be on its way to ClickHouse (the shards' flush
   * age bound): figures are at most about this much plus the answer's age behind the feed.
   */
  flush_max_age_ms: z.number().int().min(0),
  /** The filters applied, as given (`dimension:op:value`). */
  filters: z.array(z.string()),
  window_seconds: z.number().int(),
  /** The site's IANA zone: `totals`, the overview and performance cover its current local day. */
  time_zone: z.string(),
  /** Newest first; windows without a matching event are absent. */
  windows: z.array(windowMetricsSchema).max(LIVE_FILTERED_WINDOWS),
  totals: metricCountsSchema,
  online: z.number().int().min(0),
  /** `day` is the site's local date, not the UTC one the unfiltered overview uses. */
  overview: overviewSchema,
  performance: performanceSchema,
});
export type LiveFilteredAnswer = z.infer<typeof liveFilteredAnswerSchema>;
