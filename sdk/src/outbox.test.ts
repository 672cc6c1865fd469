import { describe, expect, it } from "vitest";
import { boundOutbox, createOutbox, MAX_OUTBOX_CHARS } from "./outbox";
import type { StoredBatch } from "./types";

const batch = (id: string, events: number, text = ""): StoredBatch => ({
  v: 1,
  site: "demo",
  batch: id,
  events: Array.from({ length: events }, (_, index) => ({
    type: "custom" as const,
    id: String(index),
    ts: 1,
    name: "n",
    props: { text },
  })),
});

describe("boundOutbox", () => {
  it("keeps a list that fits", () => {
    const list = [batch("a", 2), batch("b", 3)];
    expect(boundOutbox([...list], () => expect.unreachable())).toEqual(list);
  });

  it("drops the oldest batches first until the list fits, counting their events", () => {
    let dropped = 0;
    const list = ["a", "b", "c", "d"].map((id) => batch(id, 10, "x".repeat(100)));
    const size = JSON.stringify(list.slice(2)).length;
    const kept = boundOutbox(list, (count) => (dropped += count), size);
    expect(kept.map((stored) => stored.batch)).toEqual(["c", "d"]);
    expect(dropped).toBe(20);
  });

  it("drops even the only batch when it alone is over the bound", () => {
    let dropped = 0;
    expect(boundOutbox([batch("a", 1, "x".repeat(MAX_OUTBOX_CHARS))], (count) => (dropped += count))).toEqual([]);
    expect(dropped).toBe(1);
  });
});

describe("createOutbox without persistence", () => {
  it("keeps batches in memory, bounded", () => {
    let dropped = 0;
    const [read, write] = createOutbox(false, (count) => (dropped += count));
    expect(read()).toEqual([]);
    write([batch("a", 1)]);
    write([...read(), batch("b", 2)]);
    expect(read().map((stored) => stored.batch)).toEqual(["a", "b"]);
    write([...read(), batch("c", 1, "x".repeat(MAX_OUTBOX_CHARS))]);
    expect(read().map((stored) => stored.batch)).toEqual([]);
    expect(dropped).toBe(4);
  });
});
