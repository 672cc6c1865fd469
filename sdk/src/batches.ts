import { MAX_BODY_BYTES, MAX_EVENTS_PER_BATCH } from "../../protocol/limits";
import type { QueuedEvent } from "./types";

/**
 * Room left for the envelope around the events (`v`, `site`, `batch`, `sent_at` and, when an
 * app passes them, `visitor` and `session`): about 450 bytes with the longest ids the protocol
 * accepts, so 1 KiB leaves a margin and spares measuring it on every flush.
 */
export const ENVELOPE_BYTES = 1024;
export const MAX_EVENT_BYTES = MAX_BODY_BYTES - ENVELOPE_BYTES;

/** UTF-8 length, which is what the collector's 64 KiB limit counts (not UTF-16 code units). */
export const byteLength = (text: string): number => new Blob([text]).size;

/**
 * Splits events, in order, into batches that each stay within the protocol's limits: at most
 * `maxEvents` events and `maxBytes` of serialised events. An event that fits no batch on its
 * own can never be accepted, so it is dropped (and counted through `drop`) instead of blocking
 * the events behind it.
 */
export function splitIntoBatches(
  events: QueuedEvent[],
  drop: (events: number) => void,
  maxBytes = MAX_EVENT_BYTES,
  maxEvents = MAX_EVENTS_PER_BATCH,
): QueuedEvent[][] {
  const batches: QueuedEvent[][] = [];
  let batch: QueuedEvent[] | undefined;
  let size = 0;
  for (const event of events) {
    // +1 for the comma that separates it from the previous event.
    const bytes = byteLength(JSON.stringify(event)) + 1;
    if (bytes > maxBytes) drop(1);
    else {
      if (!batch || batch.length == maxEvents || (size += bytes) > maxBytes) batches.push((batch = [])), (size = bytes);
      batch.push(event);
    }
  }
  return batches;
}
