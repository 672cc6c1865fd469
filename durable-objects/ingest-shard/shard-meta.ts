/**
 * Typed access to the shard's `meta` (scalars) and `counters` (monotonic /metrics counts)
 * tables. Each read is one indexed SQLite lookup in-process, cheap enough to need no cache.
 */

export class ShardMeta {
  constructor(private readonly sql: SqlStorage) {}

  number(key: string, fallback = 0): number {
    const row = this.sql
      .exec<{ value: number | string | null }>("SELECT value FROM meta WHERE key = ?", key)
      .toArray()[0];
    if (row === undefined || row.value === null) return fallback;
    const value = Number(row.value);
    return Number.isFinite(value) ? value : fallback;
  }

  text(key: string): string | null {
    const row = this.sql
      .exec<{ value: number | string | null }>("SELECT value FROM meta WHERE key = ?", key)
      .toArray()[0];
    return row === undefined || row.value === null ? null : String(row.value);
  }

  set(key: string, value: number | string): void {
    this.sql.exec(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      key,
      value,
    );
  }

  /** Adds `by` and returns the new value. */
  add(key: string, by: number): number {
    const next = this.number(key) + by;
    this.set(key, next);
    return next;
  }

  /** Adds to a /metrics counter. */
  count(name: string, by = 1): void {
    if (by === 0) return;
    this.sql.exec(
      "INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
      name,
      by,
    );
  }

  counters(): Map<string, number> {
    const result = new Map<string, number>();
    for (const row of this.sql.exec<{ name: string; value: number }>("SELECT name, value FROM counters"))
      result.set(row.name, row.value);
    return result;
  }
}
