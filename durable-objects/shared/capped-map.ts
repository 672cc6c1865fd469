/**
 * Bounded "largest entries" maps for per-page, per-referrer and per-product counts. Traffic
 * decides how many distinct keys exist, so every such map holds at most `cap` keys: a new key
 * arriving at a full map evicts the entry with the smallest weight (ties: the first in key
 * order). Counts of entries that stay are exact; only the long tail churns. Holding more
 * keys than are reported (the shard stores 2× what it sends) keeps the reported top stable.
 */
import { emptyRecord } from "./safe-record";

/**
 * Makes room for `key`: true when it is present or was admitted (possibly evicting the
 * smallest entry). With cap 0 nothing is admitted.
 */
export function admitKey<V>(map: Record<string, V>, key: string, cap: number, weight: (value: V) => number): boolean {
  if (Object.hasOwn(map, key)) return true;
  const keys = Object.keys(map);
  if (keys.length < cap) return true;
  if (cap <= 0) return false;
  let smallestKey: string | null = null;
  let smallestWeight = Number.POSITIVE_INFINITY;
  for (const candidate of keys) {
    const candidateWeight = weight(map[candidate] as V);
    if (
      candidateWeight < smallestWeight ||
      (candidateWeight === smallestWeight && smallestKey !== null && candidate < smallestKey)
    ) {
      smallestKey = candidate;
      smallestWeight = candidateWeight;
    }
  }
  if (smallestKey !== null) delete map[smallestKey];
  return true;
}

/** Adds `by` to `map[key]`, admitting the key under the cap. */
export function incrementCapped(map: Record<string, number>, key: string, by: number, cap: number): void {
  if (!admitKey(map, key, cap, (value) => value)) return;
  map[key] = (map[key] ?? 0) + by;
}

/** The `limit` heaviest entries as a new record; ties by key so the same state always ranks the same. */
export function largestEntries<V>(
  map: Record<string, V>,
  limit: number,
  weight: (value: V) => number,
): Record<string, V> {
  const ranked = Object.entries(map).sort(
    ([keyA, a], [keyB, b]) => weight(b) - weight(a) || (keyA < keyB ? -1 : keyA > keyB ? 1 : 0),
  );
  const result = emptyRecord<V>();
  for (const [key, value] of ranked.slice(0, limit)) result[key] = value;
  return result;
}
