import type { StoredBatch } from "./types";

/** localStorage key of the outbox. It holds batches of events only: no identifier of the visitor. */
export const OUTBOX_KEY = "edgepulse:outbox";
/**
 * Bound of the outbox, in characters of JSON. localStorage gives an origin about 5 MB that the
 * site itself also uses; 256 KiB is hours of a busy page's events.
 */
export const MAX_OUTBOX_CHARS = 256 * 1024;

/** Drops the oldest batches until the list fits `maxChars`; counts their events through `drop`. */
export function boundOutbox(
  batches: StoredBatch[],
  drop: (events: number) => void,
  maxChars = MAX_OUTBOX_CHARS,
): StoredBatch[] {
  while (batches.length && JSON.stringify(batches).length > maxChars) drop(batches.shift()!.events.length);
  return batches;
}

/** Reads and writes the outbox (a pair rather than an object: the minifier cannot rename properties). */
export type Outbox = [read: () => StoredBatch[], write: (batches: StoredBatch[]) => void];

/**
 * The batches not yet acknowledged, oldest first. With `persist` they live in localStorage, so
 * they survive a reload, a crash or going offline, and every tab of the site reads and writes
 * the same list (a batch two tabs both send is counted once: it keeps its id). Without
 * `persist`, or when storage is unavailable (sandboxed frames, full quota), they stay in memory.
 */
export function createOutbox(persist: boolean, drop: (events: number) => void): Outbox {
  let memory: StoredBatch[] = [];
  return [
    () => {
      try {
        if (persist) memory = JSON.parse(localStorage.getItem(OUTBOX_KEY) || "[]") as StoredBatch[];
      } catch {
        // Unreadable storage: keep what this page knows.
      }
      return memory;
    },
    (batches) => {
      memory = boundOutbox(batches, drop);
      try {
        if (persist) localStorage.setItem(OUTBOX_KEY, JSON.stringify(memory));
      } catch {
        // Quota or privacy settings: the batches stay in memory and are still sent from this page.
      }
    },
  ];
}
