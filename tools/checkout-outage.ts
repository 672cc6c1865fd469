/**
 * The `checkout-outage` load scenario: normal shop traffic, then from `startsAt` on the
 * payment page is "broken": checkouts and purchases never reach the collector, everything
 * else does. It is what a change rule on checkouts (or conversion) is there to catch.
 */
import type { BatchInput } from "../protocol";
import type { OutgoingBatch } from "./batch-stream";

export const LOAD_SCENARIOS = ["normal", "checkout-outage"] as const;
export type LoadScenario = (typeof LOAD_SCENARIOS)[number];

/** The batch without its checkout and purchase events, or null when nothing else is left. */
export function withoutCheckouts(batch: BatchInput): BatchInput | null {
  const events = batch.events.filter(
    (event) => event.type !== "purchase" && !(event.type === "cart" && event.action === "checkout"),
  );
  if (events.length === 0) return null;
  return events.length === batch.events.length ? batch : { ...batch, events };
}

/** Wraps a batch source: from `startsAt` (wall clock) on, checkouts and purchases are dropped. */
export function withCheckoutOutage(
  next: () => OutgoingBatch,
  startsAt: number,
  now: () => number = Date.now,
): () => OutgoingBatch {
  return () => {
    for (;;) {
      const item = next();
      if (now() < startsAt) return item;
      const batch = withoutCheckouts(item.batch);
      if (batch !== null) return { ...item, batch };
    }
  };
}
