/**
 * Whether a batch may have been attempted before (a resend), which decides its route
 * (worker/routes/events.ts): a first send goes straight to its visitor's shard, a resend asks
 * every shard of the site for its id first. Calling a first send a resend only costs it the
 * slower route; calling a resend a first send can count it twice (when its visitor, so its
 * shard, changed since the first attempt). So the rule errs towards "resend":
 *
 * - `retry` present: the client says. The SDK sends 0 on a batch's first attempt and 1 on
 *   every later one (fetch retries, the page-hide beacon of a batch whose fetch was in
 *   flight, the next page load's sends from the persisted outbox): it marks a batch as
 *   attempted in its outbox before the attempt leaves.
 * - `retry` absent (an SDK from before it existed, another client): a resend when `sent_at`
 *   is more than RESEND_LAG_MS after the batch's newest event. Both are the client's clock,
 *   so no skew enters. A first send of that SDK leaves when its batch timer fires,
 *   BATCH_DELAY_MS (500 ms) after the batch's first event, so at most 500 ms after its
 *   newest (plus timer lateness); its resends come after a failed attempt and a backoff of at
 *   least 500 ms (sdk/src/retry-delay.ts: half of 1 s, at least), so more than 500 ms after
 *   the newest event. Every fetch retry of that SDK is therefore a resend here; first sends
 *   queued behind another request or a throttled timer may be taken for resends (slower
 *   only). What this cannot see is that SDK's page-hide beacon for a batch whose fetch is
 *   still in flight (it can leave within 500 ms): it comes from the same page, so the same
 *   address and User-Agent, visitor and shard, whose own batch ids dedup it.
 */
/** An unmarked batch sent later than this after its newest event is taken for a resend. */
export const RESEND_LAG_MS = 500;

/** The fields of a parsed batch (protocol/events.ts) the rule reads. */
export interface SendMarks {
  retry?: number | undefined;
  sent_at: number;
  events: readonly { ts: number }[];
}

export function isResend(batch: SendMarks): boolean {
  if (batch.retry !== undefined) return batch.retry > 0;
  let newest = Number.NEGATIVE_INFINITY;
  for (const event of batch.events) if (event.ts > newest) newest = event.ts;
  return batch.sent_at - newest > RESEND_LAG_MS;
}
