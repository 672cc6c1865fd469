/** Ranking summed maps into the bounded top lists of the overview. */

/** The live protocol's cap on every top list. */
export const TOP_LIST_LIMIT = 50;

/** Adds every entry of `source` into `target` (target changes). */
export function addCountsByKeyInto(target: Map<string, number>, source: Record<string, number>): void {
  for (const [key, value] of Object.entries(source)) target.set(key, (target.get(key) ?? 0) + value);
}

/**
 * The `limit` largest entries, largest first; ties by key so every caller (feed, REST, a
 * rebuilt hub) ranks the same state the same way.
 */
export function topEntries<T>(
  entries: Iterable<[string, T]>,
  compare: (a: T, b: T) => number,
  limit = TOP_LIST_LIMIT,
): [string, T][] {
  return [...entries]
    .sort(([keyA, a], [keyB, b]) => compare(a, b) || (keyA < keyB ? -1 : keyA > keyB ? 1 : 0))
    .slice(0, limit);
}
