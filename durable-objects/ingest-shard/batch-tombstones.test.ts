/**
 * The shard's side of cross-shard dedup (worker/routes/events.ts): the digest kept with a
 * batch id (409 for other events), the probe a resend asks of every shard, and the tombstone
 * a probe leaves, which refuses a late first attempt but not the resend the ledger placed.
 * Over real SQLite storage, with engines built afresh as a restarted object would be.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { IngestDedup } from "../../protocol";
import { enrichedBatch, pageView } from "./enriched-fixture";
import { harness, shardStub, uniqueSite } from "./shard-test-harness";
import { SEEN_BATCH_RETENTION_MS } from "./shard-engine";
import { SHARD_MIGRATIONS } from "./shard-schema";

const first = (digest: string): IngestDedup => ({ digest, pass_tombstone: false });

describe("IngestShard batch digests and tombstones", () => {
  it("answers a reused id with other events as a conflict, the same events as a duplicate", async () => {
    const site = uniqueSite("digest");
    const h = harness(site);
    const batch = enrichedBatch(site, [pageView(h.clock.now, "/")], { batch_id: "b-digest" });
    expect((await h.run((engine) => engine.ingest(batch, null, first("d1")))).status).toBe("accepted");
    expect((await h.run((engine) => engine.ingest(batch, null, first("d1")))).status).toBe("duplicate");
    expect((await h.run((engine) => engine.ingest(batch, null, first("d2")))).status).toBe("conflict");
    // No digest (a tool, or DEDUP checks by id only): a duplicate as before.
    expect((await h.run((engine) => engine.ingest(batch))).status).toBe("duplicate");
    expect(await h.run((engine) => engine.probeBatch("b-digest", "d1"))).toEqual({ status: "held" });
    expect(await h.run((engine) => engine.probeBatch("b-digest", "d2"))).toEqual({ status: "conflict" });
    expect((await h.run((engine) => engine.stats())).counters.ingested_batches).toBe(1);
  });

  it("refuses a first attempt after a probe left a tombstone, but takes the resend the ledger placed there", async () => {
    const site = uniqueSite("tombstone");
    const h = harness(site);
    const batch = enrichedBatch(site, [pageView(h.clock.now, "/")], { batch_id: "b-late" });
    expect(await h.run((engine) => engine.probeBatch("b-late", "d1"))).toEqual({ status: "absent" });
    const late = await h.run((engine) => engine.ingest(batch, null, first("d1")));
    expect(late.status).toBe("tombstoned");
    expect(late.status === "tombstoned" && late.retry_after_seconds).toBeGreaterThan(0);
    expect((await h.run((engine) => engine.stats())).counters.ingested_batches).toBe(0);
    const placed = await h.run((engine) => engine.ingest(batch, null, { digest: "d1", pass_tombstone: true }));
    expect(placed.status).toBe("accepted");
    // Held now: the late first attempt, retried, is a duplicate.
    expect((await h.run((engine) => engine.ingest(batch, null, first("d1")))).status).toBe("duplicate");
    expect((await h.run((engine) => engine.stats())).counters.ingested_batches).toBe(1);
  });

  it("keeps at most its bound of tombstones, answering full until the oldest is 24 h old", async () => {
    const site = uniqueSite("tombstone-bound");
    const h = harness(site);
    const bound = { maxTombstones: 2 };
    const start = h.clock.now;
    expect(await h.run((engine) => engine.probeBatch("t1", "d"), bound)).toEqual({ status: "absent" });
    h.clock.now += 60_000;
    expect(await h.run((engine) => engine.probeBatch("t2", "d"), bound)).toEqual({ status: "absent" });
    // Probing a tombstoned id again adds nothing.
    expect(await h.run((engine) => engine.probeBatch("t1", "d"), bound)).toEqual({ status: "absent" });
    const full = await h.run((engine) => engine.probeBatch("t3", "d"), bound);
    expect(full).toEqual({ status: "full", retry_after_seconds: 60 });
    // A minute before t1 expires the answer says so; its tombstone still refuses a late first attempt.
    h.clock.now = start + SEEN_BATCH_RETENTION_MS - 10_000;
    const soon = await h.run((engine) => engine.probeBatch("t3", "d"), bound);
    expect(soon.status === "full" && soon.retry_after_seconds).toBeLessThanOrEqual(11);
    const t1 = enrichedBatch(site, [pageView(h.clock.now, "/")], { batch_id: "t1" });
    expect((await h.run((engine) => engine.ingest(t1, null, first("d")), bound)).status).toBe("tombstoned");
    // Past 24 h t1's tombstone goes (the probe prunes when full, even with no alarm), and t3 fits.
    h.clock.now = start + SEEN_BATCH_RETENTION_MS + 1;
    expect(await h.run((engine) => engine.probeBatch("t3", "d"), bound)).toEqual({ status: "absent" });
    const count = await runInDurableObject(
      shardStub(site),
      (_instance, state) => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM batch_tombstones").one().n,
    );
    expect(count).toBe(2);
  });

  it("brings a v3 batch log forward: its ids, stored without a digest, stay duplicates", async () => {
    const site = uniqueSite("digest-v3");
    const h = harness(site);
    await runInDurableObject(shardStub(site), async (_instance, state) => {
      // The object migrated its empty storage when it started: start over from a v3 schema.
      await state.storage.deleteAll();
      const sql = state.storage.sql;
      sql.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
      for (const migration of SHARD_MIGRATIONS.filter((m) => m.version <= 3)) {
        for (const statement of migration.statements) sql.exec(statement);
        sql.exec("INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)", migration.version);
      }
      sql.exec("INSERT INTO batch_log (seq, batch_id, stored_at, entry) VALUES (1, 'b-old', ?, NULL)", h.clock.now);
      sql.exec("INSERT INTO meta (key, value) VALUES ('checkpoint_seq', 1) ON CONFLICT (key) DO UPDATE SET value = 1");
    });
    const old = enrichedBatch(site, [pageView(h.clock.now, "/")], { batch_id: "b-old" });
    expect((await h.run((engine) => engine.ingest(old, null, first("any")))).status).toBe("duplicate");
    expect(await h.run((engine) => engine.probeBatch("b-old", "other"))).toEqual({ status: "held" });
    const fresh = enrichedBatch(site, [pageView(h.clock.now, "/")], { batch_id: "b-new" });
    expect((await h.run((engine) => engine.ingest(fresh, null, first("d1")))).status).toBe("accepted");
    expect((await h.run((engine) => engine.ingest(fresh, null, first("d2")))).status).toBe("conflict");
  });
});
