/**
 * The shard's side of day deltas (shard-to-hub/day-delta.ts): today's DayPartial as a change
 * of the base the hub confirmed, built from what changed instead of from the whole day.
 *
 * What a live send used to cost grew with the day (every top list, sketch and job map
 * reported, copied for RPC, checked and stored by the hub at every send); a delta costs the
 * keys that changed. It holds exactly the full send's values because of how a day job reports
 * (aggregation-job.ts `report`): each writes one keyed field, picking *which* keys to report
 * from its whole map (its largest, under the cap) and each reported *value* from that key's
 * entry alone. So a field whose map noted no changed key since the base reports the same keys
 * and values as then; for a field whose map did change, the report is built again (as a full
 * send would) and compared by key set with the base's: keys that changed or entered the report
 * go with their absolute values, keys that left it (evicted at the store's cap, or ranked out
 * by a key that grew) as removed. Sketches are values of one key (a page), sent whole.
 *
 * The small fields (counts, funnel, abandoned carts) go whole in every delta.
 */
import { DAY_JOBS, type ScopedJob } from "../jobs/job-maps";
import { reportDayRecords } from "../jobs/day-records";
import { keyedFieldsOf } from "../shard-to-hub/day-delta";
import type { DayDelta, DayPartial } from "../shard-to-hub/shard-live-state";
import { emptyMetricCounts } from "../shared/metric-counts";
import { toPlainData } from "../shared/plain-data";
import { emptyRecord } from "../shared/safe-record";
import { blankDayPartial, type DayAccumulator } from "./day-aggregate";
import { toMetricCounts } from "./window-aggregate";

/** The path of the one keyed field a day job's report writes, found by letting it report an empty map. */
function reportedField(job: ScopedJob<DayPartial>): string {
  const partial = blankDayPartial("1970-01-01", emptyMetricCounts());
  const before = keyedFieldsOf(partial);
  job.state.report?.(emptyRecord(), partial);
  const written = [...keyedFieldsOf(partial)].filter(([path, record]) => before.get(path) !== record);
  const [first, ...more] = written;
  if (first === undefined || more.length > 0)
    throw new Error(
      `day job ${job.job.name} must report exactly one keyed field of the DayPartial (live-day-delta.ts)`,
    );
  return first[0];
}

/** Each reporting day job with the keyed field it writes, checked once when the module loads. */
const REPORTING_DAY_JOBS: readonly { job: ScopedJob<DayPartial>; path: string }[] = DAY_JOBS.filter(
  (job) => job.state.report !== undefined,
).map((job) => ({ job, path: reportedField(job) }));

/**
 * Today's delta against a base whose keyed fields held `baseKeys`, given the keys of each
 * stored map noted as changed since that base (ShardStateStore.takeLiveDayChanges). Returns
 * it as plain data (it crosses RPC) and the key sets the hub holds once it applied it.
 */
export function buildDayDelta(
  day: DayAccumulator,
  baseKeys: ReadonlyMap<string, ReadonlySet<string>>,
  changed: ReadonlyMap<string, ReadonlySet<string>>,
): { delta: DayDelta; keys: Map<string, ReadonlySet<string>> } {
  const small = blankDayPartial(day.day, toMetricCounts(day.counters));
  reportDayRecords(day.records, small);
  const delta: DayDelta = {
    day: day.day,
    counts: small.counts,
    funnel: small.funnel,
    abandoned_carts: small.abandoned_carts,
    maps: {},
  };
  const keys = new Map<string, ReadonlySet<string>>(baseKeys);
  for (const { job, path } of REPORTING_DAY_JOBS) {
    const changedKeys = changed.get(job.state.storedMap);
    if (changedKeys === undefined || changedKeys.size === 0) continue;
    const map = day.maps[job.state.storedMap];
    if (map === undefined) continue;
    const partial = blankDayPartial(day.day, emptyMetricCounts());
    job.state.report?.(map, partial);
    const reported = keyedFieldsOf(partial).get(path) ?? {};
    const before = baseKeys.get(path) ?? new Set<string>();
    const now = new Set(Object.keys(reported));
    const set = emptyRecord<unknown>();
    let anySet = false;
    for (const key of now) {
      if (before.has(key) && !changedKeys.has(key)) continue;
      set[key] = reported[key];
      anySet = true;
    }
    const removed = [...before].filter((key) => !now.has(key));
    keys.set(path, now);
    if (anySet || removed.length > 0) (delta.maps as Record<string, unknown>)[path] = { set, removed };
  }
  // Plain objects for RPC, and a copy: the entries are the day's own, changed in place later.
  return { delta: toPlainData(delta), keys };
}
