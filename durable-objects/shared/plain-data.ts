/**
 * Durable Object RPC refuses objects with a null prototype, and the shard builds its maps
 * with one (safe-record.ts), so what a shard sends passes through `toPlainData` first. It is
 * the JSON round trip that `toPlainObjects` does, without the text in between: a live send
 * copies a whole day partial (hundreds of keys), and building and parsing its JSON cost more
 * than the copy itself.
 */

/** JSON-shaped data: what the shard's live states are made of. */
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function copy(value: unknown): unknown {
  if (typeof value !== "object" || value === null) {
    // As JSON would: non-finite numbers become null.
    return typeof value === "number" && !Number.isFinite(value) ? null : value;
  }
  if (Array.isArray(value)) return value.map((item) => (item === undefined ? null : copy(item)));
  const result: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const entry = (value as Record<string, unknown>)[key];
    if (entry === undefined) continue;
    // An untrusted key such as "__proto__" must stay an own property, as JSON.parse makes it.
    if (key === "__proto__")
      Object.defineProperty(result, key, { value: copy(entry), enumerable: true, writable: true, configurable: true });
    else result[key] = copy(entry);
  }
  return result;
}

/** A deep copy of JSON-shaped data made of plain objects (Object.prototype), own keys kept, `__proto__` included. */
export function toPlainData<T>(value: T): T {
  return copy(value as unknown as Json) as T;
}
