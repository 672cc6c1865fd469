/**
 * What an IngestShard sends its site's LiveHub (RPC `LiveHub.applyShardState`).
 *
 * Every field is the shard's own *absolute* contribution, never an increment: the hub keeps
 * the latest state per shard (by `seq`) and sums over shards. So a lost, repeated or
 * reordered send cannot make the hub over- or under-count, and a hub rebuilt after eviction
 * is whole again once every shard has sent once. Shards hold disjoint visitor sets (routing
 * by visitor), which is what makes summing visitor and session counts exact.
 *
 * Today's part goes whole only in the first send of an object, after a failed or refused
 * send, at a day change, and in `liveState()` pulls; otherwise as a delta of the base the hub
 * confirmed (`ShardLiveDelta`, day-delta.ts): the keys that changed, still absolute values per
 * key, applied by the hub only to the base of the `base_seq` it names, so a repeated or
 * reordered delta is refused instead of counted.
 *
 * A shard sends at most every 100 ms while the site is watched, every second otherwise
 * (coalescing, shard-engine.ts), sends a correction when a late event
 * changes a sealed window, and re-sends while `online` decays.
 *
 * The zod schemas below are the one definition: the types are inferred from them, and the
 * limits both sides obey (how many windows the hub keeps, how many a state may carry, how large
 * each map may be) are defined here once. The schema is what the hub parses wherever it reads
 * a state it did not just receive from a shard (its storage, `liveState()` pulls);
 * check-shard-live-state.ts is the cheaper check on each state a shard sends.
 */
import { z } from "zod";
import { metricCountsSchema, vitalMetricSchema } from "../../protocol";
import type { QuantileSketch } from "../shared/quantile-sketch";

/** Recent windows the hub keeps (1 h at the default 10 s windows); a shard sends none older. */
export const MAX_HUB_WINDOWS = 360;
/** A shard sends the windows changed since its last send, at most this many (more wait for the next send). */
export const MAX_WINDOWS_PER_STATE = 1_000;
/** Entries of each map a shard sends: a day's pages, referrers, products, and each job's keys (day and window). */
export const MAX_MAP_ENTRIES = 100;
/** Pages of a day's web vitals a shard sends (the pages with the most samples). */
export const MAX_VITAL_PAGES = 50;
/** Largest number of keyed-count jobs a hub accepts in one partial (a bound on a bug, not a plan). */
export const MAX_JOBS = 32;
/** A 1% sketch of web vitals has at most ~700 buckets (see quantile-sketch.ts). */
export const MAX_SKETCH_BUCKETS = 4_000;

const count = z.number().int().min(0);

const cappedRecord = <T extends z.ZodType>(value: T, max: number) =>
  z.record(z.string(), value).refine((record) => Object.keys(record).length <= max, `at most ${max} entries`);

export const quantileSketchSchema: z.ZodType<QuantileSketch> = z.object({
  zeros: count,
  buckets: cappedRecord(count, MAX_SKETCH_BUCKETS),
  count: count,
});

/** Keyed-count job name → key → count, the largest MAX_MAP_ENTRIES keys of each job. */
const jobCountsSchema = cappedRecord(cappedRecord(count, MAX_MAP_ENTRIES), MAX_JOBS);

export const windowPartialSchema = z.object({
  /** ms since the epoch; `end` exclusive. */
  start: z.number().int(),
  end: z.number().int(),
  counts: metricCountsSchema,
  /** Absent in states stored before jobs existed. */
  jobs: jobCountsSchema.optional(),
});
export type WindowPartial = z.infer<typeof windowPartialSchema>;

export const productPartialSchema = z.object({
  name: z.string(),
  views: count,
  cart_adds: count,
  purchases: count,
  revenue: z.number(),
});
export type ProductPartial = z.infer<typeof productPartialSchema>;

/** One page's sketches of a day: metric → sketch. */
const pageVitalsSchema = z.partialRecord(vitalMetricSchema, quantileSketchSchema);

/** The shard's totals for one UTC day. Maps are capped to their largest entries. */
export const dayPartialSchema = z.object({
  /** `YYYY-MM-DD` (UTC). */
  day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  counts: metricCountsSchema,
  /** Sessions of the day that reached each step (a session counts once per step). */
  funnel: z.object({
    sessions: count,
    product_views: count,
    cart_adds: count,
    checkouts: count,
    purchases: count,
  }),
  /** Sessions closed today with a non-empty cart and no purchase; value left in those carts. */
  abandoned_carts: z.object({ sessions: count, value: z.number() }),
  pages: cappedRecord(count, MAX_MAP_ENTRIES),
  referrers: cappedRecord(count, MAX_MAP_ENTRIES),
  products: cappedRecord(productPartialSchema, MAX_MAP_ENTRIES),
  /** path → metric → sketch, for the pages with the most vitals. */
  vitals: cappedRecord(pageVitalsSchema, MAX_VITAL_PAGES),
  /** Absent in states a hub stored before jobs existed (read as no counts). */
  jobs: jobCountsSchema.optional(),
});
export type DayPartial = z.infer<typeof dayPartialSchema>;

/** The keyed fields of a DayPartial besides the keyed-count jobs' (`jobs.<name>`): capped records a day delta changes key by key. */
export const KEYED_DAY_FIELDS = ["pages", "referrers", "products", "vitals"] as const;

export const shardLiveStateSchema = z.object({
  site: z.string().min(1),
  shard: z.number().int().min(0),
  /** Increases with every send of this shard; the hub ignores a state older than the one it has. */
  seq: z.number().int().min(0),
  /** Shard wall-clock time of this send, ms. */
  at: z.number().int().min(0),
  /** Absolute partials of the windows that changed since the shard's previous send. */
  windows: z.array(windowPartialSchema).max(MAX_WINDOWS_PER_STATE),
  today: dayPartialSchema,
  /** Visitors of this shard with an event in the last 5 minutes (exact). */
  online: count,
});
export type ShardLiveState = z.infer<typeof shardLiveStateSchema>;

/**
 * A keyed field of a DayPartial as it changed since the base the hub holds: the keys whose
 * reported value changed or that entered the report, with their *absolute* values, and the
 * keys that left the report (evicted, or pushed out of the shard's top by another key).
 */
const keyedDeltaSchema = <T extends z.ZodType>(value: T, max: number) =>
  z.object({ set: cappedRecord(value, max), removed: z.array(z.string()).max(max) });

/**
 * Today's partial as a change of the base the hub holds for the shard (the state of send
 * `base_seq`): the small fields whole, and of each keyed field (`pages`, `referrers`,
 * `products`, `vitals`, `jobs.<name>`) only the keys that changed. Applied to that base it
 * gives exactly the DayPartial a full send would carry (day-delta.ts on the shard, merged-shards.ts on the hub).
 */
export const dayDeltaSchema = z.object({
  day: dayPartialSchema.shape.day,
  counts: metricCountsSchema,
  funnel: dayPartialSchema.shape.funnel,
  abandoned_carts: dayPartialSchema.shape.abandoned_carts,
  maps: z
    .object({
      pages: keyedDeltaSchema(count, MAX_MAP_ENTRIES),
      referrers: keyedDeltaSchema(count, MAX_MAP_ENTRIES),
      products: keyedDeltaSchema(productPartialSchema, MAX_MAP_ENTRIES),
      vitals: keyedDeltaSchema(pageVitalsSchema, MAX_VITAL_PAGES),
      /** Keyed by `jobs.<name>`. */
    })
    .partial()
    .catchall(keyedDeltaSchema(count, MAX_MAP_ENTRIES)),
});
export type DayDelta = z.infer<typeof dayDeltaSchema>;

/**
 * A send that carries today as a delta: the same fields as a ShardLiveState but `today`,
 * which the hub rebuilds from its base for the shard at `base_seq` (it refuses the delta when
 * it holds another base, and the shard sends its whole state next).
 */
export const shardLiveDeltaSchema = shardLiveStateSchema.omit({ today: true }).extend({
  /** `seq` of the send whose day state the delta changes. */
  base_seq: count,
  today_delta: dayDeltaSchema,
});
export type ShardLiveDelta = z.infer<typeof shardLiveDeltaSchema>;

/** What a shard sends: its whole state, or today as a delta of the base the hub confirmed. */
export type ShardLiveSend = ShardLiveState | ShardLiveDelta;

export function isLiveDelta(send: ShardLiveSend): send is ShardLiveDelta {
  return "today_delta" in send;
}

/**
 * The hub's answer to a shard state. `watched`: a dashboard is connected, or a speed-layer REST
 * call came recently; the shard sends at its fast cadence only then (shard-engine.ts).
 */
export interface HubAnswer {
  watched: boolean;
  /**
   * The hub now holds this send's day state as the shard's base at its `seq`, so the shard
   * may send the next day as a delta of it. False or absent (an older hub, a delta refused
   * for another base, a full state older than the hub's): the shard sends its whole state next.
   */
  dayBase?: boolean;
}

/** The RPC surface of LiveHub that shards call. */
export interface LiveHubShardApi {
  applyShardState(state: ShardLiveSend): Promise<HubAnswer>;
}
