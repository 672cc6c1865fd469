/**
 * What an IngestShard sends its site's LiveHub (RPC `LiveHub.applyShardState`).
 *
 * Every field is the shard's own *absolute* contribution, never an increment: the hub keeps
 * the latest state per shard (by `seq`) and sums over shards. So a lost, repeated or
 * reordered send cannot make the hub over- or under-count, and a hub rebuilt after eviction
 * is whole again once every shard has sent once. Shards hold disjoint visitor sets (routing
 * by visitor), which is what makes summing visitor and session counts exact.
 *
 * A shard sends at most every 250 ms (coalescing), sends a correction when a late event
 * changes a sealed window, and re-sends while `online` decays.
 */
import type { MetricCounts, VitalMetric } from "../../protocol";
import type { QuantileSketch } from "../shared/quantile-sketch";

export interface WindowPartial {
  /** ms since the epoch; `end` exclusive. */
  start: number;
  end: number;
  counts: MetricCounts;
  /** Keyed-count job name → key → count in this window (≤ 100 keys each); absent in states stored before jobs existed. */
  jobs?: Record<string, Record<string, number>>;
}

export interface ProductPartial {
  name: string;
  views: number;
  cart_adds: number;
  purchases: number;
  revenue: number;
}

/** The shard's totals for one UTC day. Maps are capped to their largest entries (≤ 100). */
export interface DayPartial {
  /** `YYYY-MM-DD` (UTC). */
  day: string;
  counts: MetricCounts;
  /** Sessions of the day that reached each step (a session counts once per step). */
  funnel: { sessions: number; product_views: number; cart_adds: number; checkouts: number; purchases: number };
  /** Sessions closed today with a non-empty cart and no purchase; value left in those carts. */
  abandoned_carts: { sessions: number; value: number };
  pages: Record<string, number>;
  referrers: Record<string, number>;
  products: Record<string, ProductPartial>;
  /** path → metric → sketch, for the pages with the most vitals (≤ 50). */
  vitals: Record<string, Partial<Record<VitalMetric, QuantileSketch>>>;
  /**
   * Keyed-count job name → key → count, the largest 100 keys of each job. Absent in states a
   * hub stored before jobs existed (read as no counts).
   */
  jobs?: Record<string, Record<string, number>>;
}

export interface ShardLiveState {
  site: string;
  shard: number;
  /** Increases with every send of this shard; the hub ignores a state older than the one it has. */
  seq: number;
  /** Shard wall-clock time of this send, ms. */
  at: number;
  /** Absolute partials of the windows that changed since the shard's previous send. */
  windows: WindowPartial[];
  today: DayPartial;
  /** Visitors of this shard with an event in the last 5 minutes (exact). */
  online: number;
}

/** The RPC surface of LiveHub that shards call. */
export interface LiveHubShardApi {
  applyShardState(state: ShardLiveState): Promise<void>;
}
