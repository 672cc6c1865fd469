/**
 * Keyed maps of a shard's state (a day's or a window's pages, referrers, products, vitals)
 * persisted one entry per SQLite row, so a batch writes the few entries it touched instead
 * of re-serialising maps of hundreds of entries (that was the shard's largest cost).
 *
 * Which entries changed is noted by Proxies around the records (`trackMap`): every key set
 * or deleted. The pure modules (day-aggregate.ts, window-aggregate.ts, capped-map.ts)
 * change these maps only by assigning an entry (also after changing it in place) or
 * deleting one, so the notes are exactly the rows to write.
 *
 * Quantile sketches (vitals) are the exception to "one entry, one row": a sketch of a
 * page's LCP holds a few hundred buckets, and a batch adds to a handful of them. So an entry
 * holding sketches is stored without their buckets, and each bucket is a row of its own
 * (map `<map>#buckets`, key `[entry key, sketch name, bucket]` as JSON); the buckets
 * record of every sketch is itself tracked, from the moment its entry is assigned.
 *
 * shard-engine-cache.test.ts compares a long-lived engine with one reloaded from storage
 * after every batch, and fails if a change ever escapes the notes.
 */
import type { QuantileSketch } from "./quantile-sketch";
import { parseWithSafeRecords } from "./safe-record";

/** What changed since the last write: entry keys per map, and sketch buckets. */
export interface MapChanges<M extends string> {
  entries: Record<M, Set<string>>;
  /** Bucket row key → the bucket's place. */
  buckets: Map<string, { map: M; key: string; sketch: string; bucket: string }>;
  /** Entries deleted whose bucket rows must go too. */
  deletedSketchEntries: { map: M; key: string }[];
}

/** The sketches an entry of a sketch-holding map contains, by name. */
export type SketchesOf = (entry: unknown) => [string, QuantileSketch][];

const SKETCH_ROWS_SUFFIX = "#buckets";
/** Bucket records already tracked (they are Proxies created here). */
const trackedBuckets = new WeakSet<object>();

function bucketRowKey(key: string, sketch: string, bucket: string): string {
  return JSON.stringify([key, sketch, bucket]);
}

/** Rows `(owner, map, key, value JSON)` of one table, e.g. day_entries (owner: the day). */
export class MapEntryRows<M extends string> {
  constructor(
    private readonly sql: SqlStorage,
    private readonly table: "day_entries" | "window_entries",
    private readonly ownerColumn: "day" | "window_start",
    readonly maps: readonly M[],
    /** The map whose entries hold quantile sketches, and how to find them. */
    private readonly sketchMap: { map: M; sketchesOf: SketchesOf },
  ) {}

  noChanges(): MapChanges<M> {
    const entries = {} as Record<M, Set<string>>;
    for (const map of this.maps) entries[map] = new Set();
    return { entries, buckets: new Map(), deletedSketchEntries: [] };
  }

  /**
   * `record` itself behind a Proxy noting into `changes` every key set or deleted. With
   * `noteAll`, every entry it holds now counts as changed (a record read from an older
   * layout, to be written anew).
   */
  track<V>(map: M, record: Record<string, V>, changes: MapChanges<M>, noteAll: boolean): Record<string, V> {
    const changed = changes.entries[map];
    const holdsSketches = map === this.sketchMap.map;
    for (const key of Object.keys(record)) {
      if (noteAll) changed.add(key);
      if (holdsSketches) this.trackSketches(map, key, record[key], changes, noteAll);
    }
    return new Proxy(record, {
      set: (target, key, value: V) => {
        if (typeof key === "string") {
          changed.add(key);
          // A new sketch is tracked from here on; its buckets so far are all new.
          if (holdsSketches) this.trackSketches(map, key, value, changes, true);
        }
        return Reflect.set(target, key, value);
      },
      deleteProperty: (target, key) => {
        if (typeof key === "string") {
          changed.add(key);
          if (holdsSketches) changes.deletedSketchEntries.push({ map, key });
        }
        return Reflect.deleteProperty(target, key);
      },
    });
  }

  private trackSketches(map: M, key: string, entry: unknown, changes: MapChanges<M>, noteExisting: boolean): void {
    for (const [sketch, value] of this.sketchMap.sketchesOf(entry)) {
      if (trackedBuckets.has(value.buckets)) continue;
      const note = (bucket: string) => changes.buckets.set(bucketRowKey(key, sketch, bucket), { map, key, sketch, bucket });
      if (noteExisting) for (const bucket of Object.keys(value.buckets)) note(bucket);
      const tracked = new Proxy(value.buckets, {
        set: (target, bucket, count: number) => {
          if (typeof bucket === "string") note(bucket);
          return Reflect.set(target, bucket, count);
        },
      });
      trackedBuckets.add(tracked);
      value.buckets = tracked;
    }
  }

  /** Adds the stored entries of `owner` into `records` (null-prototype records, values revived the same way). */
  readInto(owner: string | number, records: Record<M, Record<string, unknown>>): void {
    const bucketRows: { key: string; count: number }[] = [];
    const bucketMap = `${this.sketchMap.map}${SKETCH_ROWS_SUFFIX}`;
    for (const entry of this.sql.exec<{ map: string; key: string; value: string }>(`SELECT map, key, value FROM ${this.table} WHERE ${this.ownerColumn} = ?`, owner)) {
      if (entry.map === bucketMap) {
        bucketRows.push({ key: entry.key, count: Number(entry.value) });
        continue;
      }
      if (!(this.maps as readonly string[]).includes(entry.map)) continue;
      const record: Record<string, unknown> = records[entry.map as M];
      record[entry.key] = parseWithSafeRecords<unknown>(entry.value);
    }
    const sketchRecord = records[this.sketchMap.map];
    for (const row of bucketRows) {
      const [key, sketch, bucket] = JSON.parse(row.key) as [string, string, string];
      if (!Object.hasOwn(sketchRecord, key)) continue;
      const found = this.sketchMap.sketchesOf(sketchRecord[key]).find(([name]) => name === sketch);
      if (found !== undefined) found[1].buckets[bucket] = row.count;
    }
  }

  /**
   * Writes the entries named in `changes` as they are in `records` (absent: deleted), then
   * clears `changes`. All upserts go in one statement and all deletes in another (the rows
   * passed as one JSON array through json_each): a batch touches dozens of entries, and each
   * statement costs a call into SQLite however small it is.
   */
  write(owner: string | number, records: Record<M, Record<string, unknown>>, changes: MapChanges<M>): void {
    const upserts: [string, string, string][] = [];
    const deletes: [string, string][] = [];
    for (const map of this.maps) {
      const record = records[map];
      const withoutBuckets = map === this.sketchMap.map;
      for (const key of changes.entries[map]) {
        if (!Object.hasOwn(record, key)) deletes.push([map, key]);
        else upserts.push([map, key, withoutBuckets ? JSON.stringify(record[key], (field, value: unknown) => (field === "buckets" ? {} : value)) : JSON.stringify(record[key])]);
      }
      changes.entries[map].clear();
    }
    const bucketMap = `${this.sketchMap.map}${SKETCH_ROWS_SUFFIX}`;
    // Deleted entries first: an entry evicted and admitted again in one batch keeps only its new buckets.
    for (const { key } of changes.deletedSketchEntries) {
      const prefix = `${JSON.stringify([key]).slice(0, -1)},`;
      // Keys are JSON arrays, so the next character after the prefix is always the sketch name's quote.
      this.sql.exec(`DELETE FROM ${this.table} WHERE ${this.ownerColumn} = ? AND map = ? AND key >= ? AND key < ?`, owner, bucketMap, `${prefix}"`, `${prefix}#`);
    }
    changes.deletedSketchEntries.length = 0;
    const sketchRecord = records[this.sketchMap.map];
    for (const [rowKey, place] of changes.buckets) {
      const sketch = Object.hasOwn(sketchRecord, place.key) ? this.sketchMap.sketchesOf(sketchRecord[place.key]).find(([name]) => name === place.sketch)?.[1] : undefined;
      const count = sketch?.buckets[place.bucket];
      if (count === undefined) deletes.push([bucketMap, rowKey]);
      else upserts.push([bucketMap, rowKey, String(count)]);
    }
    changes.buckets.clear();
    if (upserts.length > 0) {
      this.sql.exec(
        `INSERT INTO ${this.table} (${this.ownerColumn}, map, key, value) SELECT ?, value ->> 0, value ->> 1, value ->> 2 FROM json_each(?) WHERE true ON CONFLICT (${this.ownerColumn}, map, key) DO UPDATE SET value = excluded.value`,
        owner,
        JSON.stringify(upserts),
      );
    }
    if (deletes.length > 0) {
      this.sql.exec(
        `DELETE FROM ${this.table} WHERE ${this.ownerColumn} = ? AND (map, key) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?))`,
        owner,
        JSON.stringify(deletes),
      );
    }
  }
}
