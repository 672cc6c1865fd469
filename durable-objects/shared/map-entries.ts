/**
 * Keyed maps of a shard's state (a day's or a window's pages, referrers, products, vitals)
 * persisted one entry per SQLite row, so a batch writes the few entries it touched instead
 * of re-serialising maps of hundreds of entries (that was the shard's largest cost).
 *
 * Which entries changed is noted by `trackChanges`: the record behind a Proxy that records
 * every key set or deleted. The pure modules (day-aggregate.ts, window-aggregate.ts,
 * capped-map.ts) change these maps only by assigning an entry (also after changing it in
 * place) or deleting one, so the notes are exactly the rows to write.
 * shard-engine-cache.test.ts compares a long-lived engine with one reloaded from storage
 * after every batch, and fails if a change ever escapes the notes.
 */
import { parseWithSafeRecords } from "./safe-record";

export type MapChanges<M extends string> = Record<M, Set<string>>;

/** Where a tracked record notes a changed key (a Set, or something that notes it in two places). */
export interface KeySink {
  add(key: string): unknown;
}

/** `record` itself, behind a Proxy that adds every key set or deleted to `changed`. */
export function trackChanges<V>(record: Record<string, V>, changed: KeySink): Record<string, V> {
  return new Proxy(record, {
    set(target, key, value: V) {
      if (typeof key === "string") changed.add(key);
      return Reflect.set(target, key, value);
    },
    deleteProperty(target, key) {
      if (typeof key === "string") changed.add(key);
      return Reflect.deleteProperty(target, key);
    },
  });
}

/** Rows `(owner, map, key, value JSON)` of one table, e.g. day_entries (owner: the day). */
export class MapEntryRows<M extends string> {
  constructor(
    private readonly sql: SqlStorage,
    private readonly table: "day_entries" | "window_entries",
    private readonly ownerColumn: "day" | "window_start",
    readonly maps: readonly M[],
  ) {}

  noChanges(): MapChanges<M> {
    const changes = {} as MapChanges<M>;
    for (const map of this.maps) changes[map] = new Set();
    return changes;
  }

  /** Adds the stored entries of `owner` into `records` (null-prototype records, values revived the same way). */
  readInto(owner: string | number, records: Record<M, Record<string, unknown>>): void {
    for (const entry of this.sql.exec<{ map: string; key: string; value: string }>(
      `SELECT map, key, value FROM ${this.table} WHERE ${this.ownerColumn} = ?`,
      owner,
    )) {
      if (!(this.maps as readonly string[]).includes(entry.map)) continue;
      const record: Record<string, unknown> = records[entry.map as M];
      record[entry.key] = parseWithSafeRecords<unknown>(entry.value);
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
      const record: Record<string, unknown> | undefined = records[map];
      const changed: Set<string> | undefined = changes[map];
      if (record === undefined || changed === undefined) throw new Error(`${this.table}: no map ${map} to write`);
      for (const key of changed) {
        if (Object.hasOwn(record, key)) upserts.push([map, key, JSON.stringify(record[key])]);
        else deletes.push([map, key]);
      }
      changed.clear();
    }
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
