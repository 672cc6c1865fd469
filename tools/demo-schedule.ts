/**
 * When each batch of a generated session is sent in `npm run demo`: sessions overlap as real
 * visits do, each batch leaves when its last event happened (the SDK sends right after),
 * with session time sped up by `speedup` so a few minutes of demo show whole shopping trips.
 */
import type { BatchInput } from "../protocol";
import { type GeneratedSession, sessionToBatches } from "./session-generator";

export interface ScheduledBatch {
  /** Wall-clock ms when the batch is due. */
  dueAt: number;
  batch: BatchInput;
  headers: Record<string, string>;
}

export function scheduleSession(
  session: GeneratedSession,
  arrivalAt: number,
  speedup: number,
  headers: Record<string, string>,
): ScheduledBatch[] {
  return sessionToBatches(session, { flushOnPageHide: true, includeSession: false }).map((batch) => {
    const lastEventAt = batch.events[batch.events.length - 1]?.ts ?? session.startedAt;
    return { dueAt: arrivalAt + (lastEventAt - session.startedAt) / speedup, batch, headers };
  });
}

/** Moves a batch's events to end at `sentAt`, keeping their order and (sped-up) spacing. */
export function batchAt(batch: BatchInput, sentAt: number, speedup: number): BatchInput {
  const last = batch.events[batch.events.length - 1]?.ts ?? sentAt;
  return {
    ...batch,
    sent_at: sentAt,
    events: batch.events.map((event) => ({ ...event, ts: Math.round(sentAt - (last - event.ts) / speedup) })),
  };
}
