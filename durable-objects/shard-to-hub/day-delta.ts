/**
 * Day deltas, the part both sides share: which fields of a DayPartial are keyed (a capped
 * record key → absolute value, where a delta carries only the keys that changed), and how the
 * hub applies a DayDelta to the base it holds for a shard.
 *
 * A delta is exact, not approximate: applied to the base it was built against (the shard's
 * day state of send `base_seq`), it gives the DayPartial a full send would carry at that
 * moment, up to the order of keys in a record (which nothing reads: every merge ranks with
 * ties broken by key). The shard builds it (ingest-shard/live-day-delta.ts) from the keys its
 * day maps noted as changed since that base and from the report's key set then and now, so
 * keys that left the top because of a cap (an eviction, or a key ranked past them) are in
 * `removed`, and keys that entered it without changing themselves are in `set`.
 */
import type { DayDelta, DayPartial } from "./shard-live-state";
import { KEYED_DAY_FIELDS, MAX_JOBS, MAX_MAP_ENTRIES, MAX_VITAL_PAGES } from "./shard-live-state";
import { InvalidShardLiveState } from "./check-shard-live-state";

type KeyedDayField = (typeof KEYED_DAY_FIELDS)[number];

const JOB_PREFIX = "jobs.";

/** A keyed field's path in a DayDelta's `maps`: `pages` … or `jobs.<name>`. */
export function jobFieldPath(job: string): string {
  return `${JOB_PREFIX}${job}`;
}

/** Entries a field may hold (what keeps the hub bounded, as for a full state). */
export function fieldCap(path: string): number {
  return path === "vitals" ? MAX_VITAL_PAGES : MAX_MAP_ENTRIES;
}

/** Every keyed record of `partial` by its path (`pages` … `jobs.<name>`). */
export function keyedFieldsOf(partial: DayPartial): Map<string, Record<string, unknown>> {
  const fields = new Map<string, Record<string, unknown>>();
  for (const field of KEYED_DAY_FIELDS) fields.set(field, partial[field]);
  if (partial.jobs !== undefined)
    for (const [job, counts] of Object.entries(partial.jobs)) fields.set(jobFieldPath(job), counts);
  return fields;
}

/** The key set of every keyed field of `partial`: what a base holds, for the next delta. */
export function reportedKeys(partial: DayPartial): Map<string, Set<string>> {
  const keys = new Map<string, Set<string>>();
  for (const [path, record] of keyedFieldsOf(partial)) keys.set(path, new Set(Object.keys(record)));
  return keys;
}

/** Sets `record[key]` as an own property, also for the key `__proto__` (untrusted text). */
function setOwn(record: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__")
    Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
  else record[key] = value;
}

/** A copy of `record` with the delta applied (copy on write: the base may still be read elsewhere). */
function applyKeyed(
  record: Record<string, unknown> | undefined,
  change: { set: Record<string, unknown>; removed: string[] },
  path: string,
): Record<string, unknown> {
  const base = record ?? {};
  let size = Object.keys(base).length;
  for (const key of change.removed) if (Object.hasOwn(base, key)) size -= 1;
  for (const key of Object.keys(change.set)) if (!Object.hasOwn(base, key) || change.removed.includes(key)) size += 1;
  // Checked before anything changes: a refused delta leaves the base as it was.
  if (size > fieldCap(path))
    throw new InvalidShardLiveState(`invalid day delta at ${path}: over ${fieldCap(path)} entries`);
  const result: Record<string, unknown> = { ...base };
  for (const key of change.removed) delete result[key];
  for (const [key, value] of Object.entries(change.set)) setOwn(result, key, value);
  return result;
}

/**
 * The base with the delta applied: a new DayPartial (the base and its records are not
 * changed). Throws InvalidShardLiveState when the result would exceed a cap.
 */
export function applyDayDelta(base: DayPartial, delta: DayDelta): DayPartial {
  const today: DayPartial = {
    day: delta.day,
    counts: delta.counts,
    funnel: delta.funnel,
    abandoned_carts: delta.abandoned_carts,
    pages: base.pages,
    referrers: base.referrers,
    products: base.products,
    vitals: base.vitals,
    jobs: base.jobs ?? {},
  };
  let jobs: Record<string, Record<string, number>> | null = null;
  for (const [path, change] of Object.entries(delta.maps)) {
    if (change === undefined) continue;
    if (path.startsWith(JOB_PREFIX)) {
      const job = path.slice(JOB_PREFIX.length);
      jobs ??= { ...today.jobs };
      setOwn(jobs, job, applyKeyed(jobs[job], change, path));
      continue;
    }
    if (!(KEYED_DAY_FIELDS as readonly string[]).includes(path))
      throw new InvalidShardLiveState(`invalid day delta: unknown field ${path}`);
    const field = path as KeyedDayField;
    // Each field keeps its own value type: the check on receipt (check-shard-live-state.ts) checked the entries.
    (today as unknown as Record<KeyedDayField, Record<string, unknown>>)[field] = applyKeyed(
      today[field],
      change,
      path,
    );
  }
  if (jobs !== null) {
    if (Object.keys(jobs).length > MAX_JOBS)
      throw new InvalidShardLiveState(`invalid day delta: over ${MAX_JOBS} jobs`);
    today.jobs = jobs;
  }
  return today;
}
