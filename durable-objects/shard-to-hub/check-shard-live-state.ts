/**
 * `checkShardLiveState`, the check the hub runs on every state a shard sends, instead of the
 * full zod parse of shard-live-state.ts. It checks the same limits (imported from there), so
 * the two cannot drift apart on what keeps the hub bounded.
 */
import { METRIC_COUNT_NAMES, vitalMetricSchema } from "../../protocol";
import {
  KEYED_DAY_FIELDS,
  MAX_JOBS,
  MAX_MAP_ENTRIES,
  MAX_SKETCH_BUCKETS,
  MAX_VITAL_PAGES,
  MAX_WINDOWS_PER_STATE,
  type DayPartial,
  type ShardLiveDelta,
  type ShardLiveState,
} from "./shard-live-state";

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
 * checks every cap of the schema (what keeps the hub's memory and storage bounded) and
 * the type of every number the hub adds up or keys on, in one pass without allocating. It
 * does not re-check each sketch bucket's count (the hub only adds them); the zod schema still
 * checks them wherever the hub reads a stored or pulled state.
 */
export function checkShardLiveState(state: ShardLiveState): ShardLiveState {
  checkSendFields(state);
  const today = state.today;
  checkDayFields(today, "today");
  for (const [path, views] of Object.entries(checkRecord(today.pages, "today.pages", MAX_MAP_ENTRIES)))
    checkCount(views, `today.pages.${path}`);
  for (const [host, visits] of Object.entries(checkRecord(today.referrers, "today.referrers", MAX_MAP_ENTRIES)))
    checkCount(visits, `today.referrers.${host}`);
  for (const [id, entry] of Object.entries(checkRecord(today.products, "today.products", MAX_MAP_ENTRIES)))
    checkProduct(entry, `today.products.${id}`);
  for (const [path, metrics] of Object.entries(checkRecord(today.vitals, "today.vitals", MAX_VITAL_PAGES)))
    checkPageVitals(metrics, `today.vitals.${path}`);
  if (today.jobs !== undefined) checkJobCounts(today.jobs, "today.jobs");
  return state;
}

/**
 * The same check for a send that carries today as a delta (day-delta.ts): the same fields,
 * and of today the small fields whole and each changed keyed field's entries, capped as in a
 * full state. The hub checks the caps of the result again when it applies the delta.
 */
export function checkShardLiveDelta(state: ShardLiveDelta): ShardLiveDelta {
  checkSendFields(state);
  checkCount(state.base_seq, "base_seq");
  const delta = state.today_delta;
  checkDayFields(delta, "today_delta");
  const maps = checkRecord(delta.maps, "today_delta.maps", KEYED_DAY_FIELDS.length + MAX_JOBS);
  for (const [field, value] of Object.entries(maps)) {
    const path = `today_delta.maps.${field}`;
    const change = checkRecord(value, path, 2);
    const removed = change["removed"];
    const cap = field === "vitals" ? MAX_VITAL_PAGES : MAX_MAP_ENTRIES;
    if (!Array.isArray(removed) || removed.length > cap || removed.some((key) => typeof key !== "string"))
      fail(`${path}.removed`, `expected at most ${cap} keys`);
    const set = Object.entries(checkRecord(change["set"], `${path}.set`, cap));
    if (field === "products") for (const [id, entry] of set) checkProduct(entry, `${path}.set.${id}`);
    else if (field === "vitals") for (const [page, metrics] of set) checkPageVitals(metrics, `${path}.set.${page}`);
    else if (field === "pages" || field === "referrers" || field.startsWith("jobs."))
      for (const [key, count] of set) checkCount(count, `${path}.set.${key}`);
    else fail(path, "unknown field");
  }
  return state;
}

/** What every send carries besides today. */
function checkSendFields(state: Omit<ShardLiveState, "today">): void {
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
}

/** A day's small fields: the day, its counts, funnel and abandoned carts. */
function checkDayFields(today: Pick<DayPartial, "day" | "counts" | "funnel" | "abandoned_carts">, at: string): void {
  if (
    typeof today !== "object" ||
    today === null ||
    typeof today.day !== "string" ||
    !/^\d{4}-\d{2}-\d{2}$/.test(today.day)
  )
    fail(`${at}.day`, "expected YYYY-MM-DD");
  checkMetricCounts(today.counts, `${at}.counts`);
  for (const [step, value] of Object.entries(checkRecord(today.funnel, `${at}.funnel`, 5)))
    checkCount(value, `${at}.funnel.${step}`);
  checkCount(today.abandoned_carts?.sessions, `${at}.abandoned_carts.sessions`);
  checkNumber(today.abandoned_carts.value, `${at}.abandoned_carts.value`);
}

function checkProduct(entry: unknown, path: string): void {
  const product = checkRecord(entry, path, 5);
  if (typeof product["name"] !== "string") fail(`${path}.name`, "expected a name");
  checkCount(product["views"], `${path}.views`);
  checkCount(product["cart_adds"], `${path}.cart_adds`);
  checkCount(product["purchases"], `${path}.purchases`);
  checkNumber(product["revenue"], `${path}.revenue`);
}

function checkPageVitals(metrics: unknown, path: string): void {
  for (const [metric, entry] of Object.entries(checkRecord(metrics, path, VITAL_METRICS.size))) {
    if (!VITAL_METRICS.has(metric)) fail(`${path}.${metric}`, "unknown metric");
    const sketch = checkRecord(entry, `${path}.${metric}`, 3);
    checkCount(sketch["count"], `${path}.${metric}.count`);
    checkCount(sketch["zeros"], `${path}.${metric}.zeros`);
    checkRecord(sketch["buckets"], `${path}.${metric}.buckets`, MAX_SKETCH_BUCKETS);
  }
}

function checkJobCounts(value: unknown, path: string): void {
  for (const [job, counts] of Object.entries(checkRecord(value, path, MAX_JOBS))) {
    for (const [key, count] of Object.entries(checkRecord(counts, `${path}.${job}`, MAX_MAP_ENTRIES)))
      checkCount(count, `${path}.${job}.${key}`);
  }
}
