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

/** Each job's `limit` largest keys as `{ key, count }`, largest first, ties by key (the live protocol's job top lists). */
export function topJobKeys(
  jobs: Map<string, Map<string, number>>,
  limit = TOP_LIST_LIMIT,
): Record<string, { key: string; count: number }[]> {
  const top: Record<string, { key: string; count: number }[]> = {};
  for (const [name, counts] of jobs)
    top[name] = topEntries(counts, (a, b) => b - a, limit).map(([key, count]) => ({ key, count }));
  return top;
}
