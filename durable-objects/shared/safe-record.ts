/**
 * Records keyed by untrusted text (paths, product ids, referrer hosts). A plain `{}` would
 * resolve `constructor` or `__proto__` to Object.prototype members, so every record the shard
 * builds has a null prototype, and JSON read back from SQLite is revived the same way.
 */

export function emptyRecord<V>(): Record<string, V> {
  return Object.create(null) as Record<string, V>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** JSON.parse whose objects all have a null prototype (own keys only, `__proto__` included). */
export function parseWithSafeRecords<T>(text: string): T {
  return JSON.parse(text, (_key, value: unknown) => {
    if (!isPlainObject(value)) return value;
    const record = emptyRecord<unknown>();
    for (const [key, entry] of Object.entries(value)) record[key] = entry;
    return record;
  }) as T;
}

/**
 * A deep copy made of plain objects (Object.prototype), with the same own keys, `__proto__`
 * included (JSON.parse defines it as an own property). Durable Object RPC refuses objects
 * with a null prototype, so everything the shard sends over RPC passes through here.
 */
export function toPlainObjects<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
