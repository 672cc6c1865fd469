/**
 * The flush queue's entries travel to SQLite as one JSON array and come back as each entry's
 * JSON text (flush-queue.ts enqueueAll). What is read back is what ClickHouse gets, so it must
 * parse to exactly the rows given: full double precision, every string escape, order and
 * sequence numbers. Over the shard's real SQLite storage.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { EventRow } from "../../clickhouse/rows";
import { FlushQueue } from "./flush-queue";
import { ShardMeta } from "./shard-meta";
import { migrateShardSchema } from "./shard-schema";
import { shardStub, uniqueSite } from "./shard-test-harness";

/** Values a re-serialisation would change: doubles that need 17 digits, escapes, lone surrogates. */
const tricky = [
  0.1 + 0.2,
  1.7976931348623157e308,
  5e-324,
  123456789.12345679,
  2 ** 53 + 2,
  'quote " backslash \\ slash / tab \t newline \n',
  "line separator \u2028 paragraph \u2029 nul \u0000 bell \u0007",
  "lone surrogate \ud800 end",
  "emoji 🛒 and ü",
];

function rowsOf(entry: number): EventRow[] {
  return tricky.map((value, index) => ({ entry, index, value }) as unknown as EventRow);
}

describe("FlushQueue entries", () => {
  it("read back as JSON that parses to exactly the rows enqueued, in order, numbered on", async () => {
    await runInDurableObject(shardStub(uniqueSite("queue")), (_instance, state) => {
      migrateShardSchema(state.storage.sql, Date.now());
      const queue = new FlushQueue(state.storage, new ShardMeta(state.storage.sql), "pending_events", "events", 10);
      const entries = [rowsOf(0), rowsOf(1), rowsOf(2)];
      queue.enqueueAll(entries.slice(0, 2), 1_000);
      queue.enqueueAll(entries.slice(2), 2_000);

      const stored = state.storage.sql
        .exec<{ seq: number; stored_at: number; row: string }>(
          "SELECT seq, stored_at, row FROM pending_events ORDER BY seq",
        )
        .toArray();
      expect(stored.map((entry) => [entry.seq, entry.stored_at])).toEqual([
        [1, 1_000],
        [2, 1_000],
        [3, 2_000],
      ]);
      for (const [index, entry] of stored.entries()) {
        const parsed = JSON.parse(entry.row) as { value: unknown }[];
        // Object.is compares each double exactly (and NaN-safe), not within a tolerance.
        for (const [position, row] of parsed.entries()) expect(Object.is(row.value, tricky[position])).toBe(true);
        expect(parsed).toEqual(entries[index]);
        expect(entry.row).toBe(JSON.stringify(entries[index]));
      }
      expect(queue.size).toBe(3);
      expect(queue.lastSeq).toBe(3);
    });
  });
});
