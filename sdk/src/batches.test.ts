import { describe, expect, it } from "vitest";
import { batchSchema, MAX_BODY_BYTES, MAX_EVENTS_PER_BATCH } from "../../protocol";
import { byteLength, ENVELOPE_BYTES, splitIntoBatches } from "./batches";
import type { QueuedEvent } from "./types";

const customEvent = (index: number, text = ""): QueuedEvent => ({
  type: "custom",
  id: String(index),
  ts: 1_732_350_000_000 + index,
  name: "n",
  props: { text },
});

/** The body the tracker posts for `events`, with the longest envelope the protocol accepts. */
const worstCaseBody = (events: QueuedEvent[]) =>
  JSON.stringify({
    v: 1,
    site: "s".repeat(64),
    batch: "4294967295-4294967295-4294967295-4294967295",
    sent_at: 8_640_000_000_000,
    visitor: "v".repeat(128),
    session: "s".repeat(128),
    events,
  });

describe("splitIntoBatches", () => {
  it("keeps events in order and cuts at the protocol's event limit", () => {
    const events = Array.from({ length: 250 }, (_, index) => customEvent(index));
    const batches = splitIntoBatches(events, () => expect.unreachable());
    expect(batches.map((batch) => batch.length)).toEqual([MAX_EVENTS_PER_BATCH, MAX_EVENTS_PER_BATCH, 50]);
    expect(batches.flat()).toEqual(events);
  });

  it("cuts by UTF-8 bytes so every body stays within 64 KiB and passes the collector's schema", () => {
    // "€" is 3 bytes in UTF-8 but 1 UTF-16 code unit: counting .length would put all in one batch.
    const events = Array.from({ length: 60 }, (_, index) => customEvent(index, "€".repeat(500)));
    expect(worstCaseBody(events).length).toBeLessThan(MAX_BODY_BYTES);
    const batches = splitIntoBatches(events, () => expect.unreachable());
    expect(batches.length).toBeGreaterThan(1);
    for (const batch of batches) {
      const body = worstCaseBody(batch);
      expect(byteLength(body)).toBeLessThanOrEqual(MAX_BODY_BYTES);
      expect(batchSchema.safeParse(JSON.parse(body)).success).toBe(true);
    }
    expect(batches.flat()).toEqual(events);
  });

  it("fills a batch close to the limit before starting the next", () => {
    const events = Array.from({ length: 40 }, (_, index) => customEvent(index, "x".repeat(5000)));
    const [first] = splitIntoBatches(events, () => expect.unreachable());
    expect(byteLength(worstCaseBody(first!))).toBeGreaterThan(MAX_BODY_BYTES - ENVELOPE_BYTES - 6000);
  });

  it("drops, and counts, an event too big for any batch without losing its neighbours", () => {
    let dropped = 0;
    const huge = customEvent(1, "x".repeat(MAX_BODY_BYTES));
    const batches = splitIntoBatches([customEvent(0), huge, customEvent(2)], (count) => (dropped += count));
    expect(dropped).toBe(1);
    expect(batches).toEqual([[customEvent(0), customEvent(2)]]);
  });

  it("makes no batch of nothing", () => {
    expect(splitIntoBatches([], () => expect.unreachable())).toEqual([]);
  });
});
