/**
 * zod schema of ShardLiveState (the contract in live-delta.ts). The hub checks every state a
 * shard sends and every state it reads back from its own storage with it, so a shard bug or
 * an old stored shape fails loudly at the boundary instead of corrupting the merged numbers,
 * and the caps here are what keep the hub's memory and storage bounded.
 */
import { z } from "zod";
import { metricCountsSchema, vitalMetricSchema } from "../protocol";
import type { DayPartial, ShardLiveState, WindowPartial } from "./live-delta";
import type { QuantileSketch } from "./quantile-sketch";

/** live-delta.ts caps each map of a DayPartial to its largest entries. */
export const MAX_DAY_MAP_ENTRIES = 100;
export const MAX_VITAL_PAGES = 50;
/** A shard sends the windows changed since its last send; more than this is a shard bug. */
export const MAX_WINDOWS_PER_STATE = 1_000;
/** A 1% sketch of web vitals has at most ~700 buckets (see quantile-sketch.ts). */
const MAX_SKETCH_BUCKETS = 4_000;

const count = z.number().int().min(0);

const cappedRecord = <T extends z.ZodType>(value: T, max: number) =>
  z.record(z.string(), value).refine((record) => Object.keys(record).length <= max, `at most ${max} entries`);

export const quantileSketchSchema: z.ZodType<QuantileSketch> = z.object({
  zeros: count,
  buckets: cappedRecord(count, MAX_SKETCH_BUCKETS),
  count: count,
});

export const windowPartialSchema: z.ZodType<WindowPartial> = z.object({
  start: z.number().int(),
  end: z.number().int(),
  counts: metricCountsSchema,
});

export const dayPartialSchema: z.ZodType<DayPartial> = z.object({
  day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  counts: metricCountsSchema,
  funnel: z.object({
    sessions: count,
    product_views: count,
    cart_adds: count,
    checkouts: count,
    purchases: count,
  }),
  abandoned_carts: z.object({ sessions: count, value: z.number() }),
  pages: cappedRecord(count, MAX_DAY_MAP_ENTRIES),
  referrers: cappedRecord(count, MAX_DAY_MAP_ENTRIES),
  products: cappedRecord(
    z.object({ name: z.string(), views: count, cart_adds: count, purchases: count, revenue: z.number() }),
    MAX_DAY_MAP_ENTRIES,
  ),
  vitals: cappedRecord(z.partialRecord(vitalMetricSchema, quantileSketchSchema), MAX_VITAL_PAGES),
});

export const shardLiveStateSchema: z.ZodType<ShardLiveState> = z.object({
  site: z.string().min(1),
  shard: z.number().int().min(0),
  seq: z.number().int().min(0),
  at: z.number().int().min(0),
  windows: z.array(windowPartialSchema).max(MAX_WINDOWS_PER_STATE),
  today: dayPartialSchema,
  online: count,
});
