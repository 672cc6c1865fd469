/**
 * BatchLedger keeps every claim for the dedup horizon: a slice over its bound refuses new ids
 * (the Worker answers 503 + Retry-After) instead of dropping claims early, since a dropped
 * claim lets a resend from a changed IP reach a shard that never saw its id.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type BatchLedger, claimsFull, DEDUP_HORIZON_MS, MAX_CLAIMS } from "./batch-ledger";

function ledger(name: string) {
  return env.BATCH_LEDGER.get(env.BATCH_LEDGER.idFromName(`${name}-${Date.now().toString(36)}`));
}

describe("BatchLedger", () => {
  it("keeps a claim for the horizon even past a million claims in its slice", async () => {
    const claims = 1_000_001;
    await runInDurableObject(ledger("ledger-many"), async (instance: BatchLedger, state) => {
      await instance.claim("b1", 3, "digest-1");
      const now = Date.now();
      state.storage.sql.exec(
        "WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < ?) INSERT INTO claims (batch_id, shard, digest, claimed_at) SELECT 'b' || i, 0, 'd', ? FROM n",
        claims,
        now,
      );
      await instance.alarm();
      // b1 is the oldest claim, an hour old at most: a resend from another IP still goes to shard 3.
      expect(await instance.claim("b1", 5, "digest-1")).toEqual({ status: "claimed", shard: 3 });
      expect(claims).toBeLessThan(MAX_CLAIMS);
      expect(await instance.claim("new", 1, "digest-new")).toEqual({ status: "claimed", shard: 1 });
    });
  });

  it("refuses a new id when the slice holds its bound, until the oldest claim leaves the horizon", async () => {
    await runInDurableObject(ledger("ledger-full"), async (instance: BatchLedger, state) => {
      const sql = state.storage.sql;
      await instance.claim("first", 0, "d");
      expect(claimsFull(sql, 2, Date.now())).toBeNull();
      await instance.claim("second", 0, "d");
      const full = claimsFull(sql, 2, Date.now());
      expect(full?.retryAfterSeconds).toBe(60);
      // An hour before the oldest claim leaves the horizon, the answer says so (at most 60 s).
      sql.exec("UPDATE claims SET claimed_at = ? WHERE batch_id = 'first'", Date.now() - DEDUP_HORIZON_MS + 10_000);
      expect(claimsFull(sql, 2, Date.now())?.retryAfterSeconds).toBeLessThanOrEqual(11);
      sql.exec("UPDATE claims SET claimed_at = ? WHERE batch_id = 'first'", Date.now() - DEDUP_HORIZON_MS - 1);
      await instance.alarm();
      expect(claimsFull(sql, 2, Date.now())).toBeNull();
    });
  });
});
