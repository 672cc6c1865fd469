/**
 * zod schema of ShardLiveState (the contract in shard-live-state.ts), and `checkShardLiveState`,
 * the cheaper check the hub runs on every state a shard sends.
 *
 * The full schema is for data the hub did not just receive from a shard of this deployment:
 * states it reads back from its own storage (hub-storage.ts), answers to its `liveState()`
 * pulls, tests. So an old stored shape fails loudly at that boundary instead of corrupting
 * the merged numbers.
 */
import { z } from "zod";
import { METRIC_COUNT_NAMES, metricCountsSchema, vitalMetricSchema } from "../../protocol";
import { MAX_JOBS } from "../jobs/registered-jobs";
import type { DayPartial, ShardLiveState, WindowPartial } from "./shard-live-state";
import type { QuantileSketch } from "../shared/quantile-sketch";

/** shard-live-state.ts caps each map of a DayPartial to its largest entries. */
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

const jobCountsSchema = cappedRecord(cappedRecord(count, MAX_DAY_MAP_ENTRIES), MAX_JOBS);

export const windowPartialSchema: z.ZodType<WindowPartial> = z.object({
  start: z.number().int(),
  end: z.number().int(),
  counts: metricCountsSchema,
  jobs: jobCountsSchema.optional(),
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
  jobs: jobCountsSchema.optional(),
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

/** Thrown by checkShardLiveState: the shard that sent the state has a bug. */
export class InvalidShardLiveState extends Error {}

function fail(path: string, what: string): never {
  throw new InvalidShardLiveState(`invalid shard live state at ${path}: ${what}`);
}

function checkCount(value: unknown, path: string): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) fail(path, "expected a count");
}

function checkNumber(value: unknown, path: string): void {
  if (typeof value !== "number" || !Number.isFinite(value)) fail(path, "expected a number");
}

function checkRecord(value: unknown, path: string, max: number): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) fail(path, "expected a record");
  const record = value as Record<string, unknown>;
  if (Object.keys(record).length > max) fail(path, `at most ${max} entries`);
  return record;
}

const METRIC_COUNT_KEYS = METRIC_COUNT_NAMES;
const VITAL_METRICS: ReadonlySet<string> = new Set(vitalMetricSchema.options);
/** Currencies per count record: ISO codes, so a handful; this only bounds a bug. */
const MAX_CURRENCIES = 200;

function checkMetricCounts(value: unknown, path: string): void {
  const counts = checkRecord(value, path, METRIC_COUNT_KEYS.length + 2);
  for (const key of METRIC_COUNT_KEYS) checkCount(counts[key], `${path}.${key}`);
  checkNumber(counts["revenue"], `${path}.revenue`);
  for (const [currency, revenue] of Object.entries(
    checkRecord(counts["revenue_by_currency"], `${path}.revenue_by_currency`, MAX_CURRENCIES),
  )) {
    checkNumber(revenue, `${path}.revenue_by_currency.${currency}`);
  }
}

/**
 * The check the hub runs on each state a shard sends it (`applyShardState`), instead of the
 * full zod parse that cost the hub more than merging the state. Why less is enough here: the
 * sender is an IngestShard of the same deployment, compiled against the same ShardLiveState
 * type, and RPC's structured clone delivers plain data (no prototypes, getters or functions).
 * What a shard bug could still do is send too much or the wrong kind of number, so this
 * checks every cap of the schema above (what keeps the hub's memory and storage bounded) and
 * the type of every number the hub adds up or keys on, in one pass without allocating. It
 * does not re-check each sketch bucket's count (the hub only adds them); the zod schema still
 * checks them wherever the hub reads a stored or pulled state.
 */
export function checkShardLiveState(state: ShardLiveState): ShardLiveState {
  if (typeof state !== "object" || state === null) fail("$", "expected an object");
  if (typeof state.site !== "string" || state.site.length === 0) fail("site", "expected a site");
  checkCount(state.shard, "shard");
  checkCount(state.seq, "seq");
  checkCount(state.at, "at");
  checkCount(state.online, "online");
  if (!Array.isArray(state.windows) || state.windows.length > MAX_WINDOWS_PER_STATE)
    fail("windows", `expected at most ${MAX_WINDOWS_PER_STATE} windows`);
  state.windows.forEach((window, index) => {
    if (!Number.isInteger(window.start) || !Number.isInteger(window.end))
      fail(`windows.${index}`, "expected integer bounds");
    checkMetricCounts(window.counts, `windows.${index}.counts`);
    if (window.jobs !== undefined) checkJobCounts(window.jobs, `windows.${index}.jobs`);
  });
  const today = state.today;
  if (
    typeof today !== "object" ||
    today === null ||
    typeof today.day !== "string" ||
    !/^\d{4}-\d{2}-\d{2}$/.test(today.day)
  )
    fail("today.day", "expected YYYY-MM-DD");
  checkMetricCounts(today.counts, "today.counts");
  for (const [step, value] of Object.entries(checkRecord(today.funnel, "today.funnel", 5)))
    checkCount(value, `today.funnel.${step}`);
  checkCount(today.abandoned_carts?.sessions, "today.abandoned_carts.sessions");
  checkNumber(today.abandoned_carts.value, "today.abandoned_carts.value");
  for (const [path, views] of Object.entries(checkRecord(today.pages, "today.pages", MAX_DAY_MAP_ENTRIES)))
    checkCount(views, `today.pages.${path}`);
  for (const [host, visits] of Object.entries(checkRecord(today.referrers, "today.referrers", MAX_DAY_MAP_ENTRIES)))
    checkCount(visits, `today.referrers.${host}`);
  for (const [id, entry] of Object.entries(checkRecord(today.products, "today.products", MAX_DAY_MAP_ENTRIES))) {
    const product = checkRecord(entry, `today.products.${id}`, 5);
    if (typeof product["name"] !== "string") fail(`today.products.${id}.name`, "expected a name");
    checkCount(product["views"], `today.products.${id}.views`);
    checkCount(product["cart_adds"], `today.products.${id}.cart_adds`);
    checkCount(product["purchases"], `today.products.${id}.purchases`);
    checkNumber(product["revenue"], `today.products.${id}.revenue`);
  }
  for (const [path, metrics] of Object.entries(checkRecord(today.vitals, "today.vitals", MAX_VITAL_PAGES))) {
    for (const [metric, entry] of Object.entries(checkRecord(metrics, `today.vitals.${path}`, VITAL_METRICS.size))) {
      if (!VITAL_METRICS.has(metric)) fail(`today.vitals.${path}.${metric}`, "unknown metric");
      const sketch = checkRecord(entry, `today.vitals.${path}.${metric}`, 3);
      checkCount(sketch["count"], `today.vitals.${path}.${metric}.count`);
      checkCount(sketch["zeros"], `today.vitals.${path}.${metric}.zeros`);
      checkRecord(sketch["buckets"], `today.vitals.${path}.${metric}.buckets`, MAX_SKETCH_BUCKETS);
    }
  }
  if (today.jobs !== undefined) checkJobCounts(today.jobs, "today.jobs");
  return state;
}

function checkJobCounts(value: unknown, path: string): void {
  for (const [job, counts] of Object.entries(checkRecord(value, path, MAX_JOBS))) {
    for (const [key, count] of Object.entries(checkRecord(counts, `${path}.${job}`, MAX_DAY_MAP_ENTRIES)))
      checkCount(count, `${path}.${job}.${key}`);
  }
}
