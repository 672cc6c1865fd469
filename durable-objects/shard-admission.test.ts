import { describe, expect, it } from "vitest";
import type { IngestAdmission } from "../protocol";
import { enrichedBatch, pageView } from "./enriched-fixture";
import { MAX_CLIENT_BACKLOG_SHARE, ShardAdmission } from "./shard-admission";
import { harness, uniqueSite, unreachableClickHouse } from "./shard-test-harness";

const T0 = 1_800_000_000_000;

describe("ShardAdmission", () => {
  it("keeps the shard's share of the site rate: refuses past the burst, says when the next token is due, takes nothing when refusing", () => {
    const admission = new ShardAdmission(1_000);
    const budget = { perSecond: 0.5, burst: 2 };
    for (let i = 0; i < 2; i++) {
      expect(admission.refusal("a", budget, 1, 1, T0)).toBeNull();
      admission.accepted("a", budget, 1, i + 1, T0);
    }
    expect(admission.refusal("b", budget, 1, 1, T0)).toEqual({ scope: "site", retryAfterSeconds: 2 });
    // Refusals cost nothing: one token is back after 2 s however often the site was refused.
    expect(admission.refusal("b", budget, 1, 1, T0 + 1_000)).toEqual({ scope: "site", retryAfterSeconds: 1 });
    expect(admission.refusal("b", budget, 1, 1, T0 + 2_000)).toBeNull();
  });

  it("bounds each client's share of the pending events, and frees it as the events are flushed", () => {
    const admission = new ShardAdmission(100);
    const share = 100 * MAX_CLIENT_BACKLOG_SHARE;
    let seq = 0;
    for (let i = 0; i < share / 5; i++) {
      expect(admission.refusal("flood", null, 5, 1, T0)).toBeNull();
      seq += 5;
      admission.accepted("flood", null, 5, seq, T0);
    }
    expect(admission.heldBy("flood", 1)).toBe(share);
    expect(admission.refusal("flood", null, 5, 1, T0)).toEqual({ scope: "client" });
    expect(admission.refusal("other", null, 5, 1, T0)).toBeNull();
    // The first batch (seqs 1-5) was flushed: room for one more batch of 5.
    expect(admission.refusal("flood", null, 5, 6, T0)).toBeNull();
    expect(admission.heldBy("flood", seq + 1)).toBe(0);
    expect(admission.trackedClients).toBe(0);
  });
});

describe("IngestShard with one client flooding one visitor while ClickHouse is down", () => {
  it("refuses the flooding client before the shard is full, and still takes a legitimate visitor of the same shard", async () => {
    const site = uniqueSite("flood");
    const h = harness(site);
    const t = h.clock.now;
    const maxPendingEvents = 200;
    const flooder: IngestAdmission = { client_key: "client-flood", site_budget: null };
    const visitor: IngestAdmission = { client_key: "client-legit", site_budget: null };
    await h.run(
      async (engine) => {
        const statuses: string[] = [];
        for (let i = 0; i < 40; i++) {
          const batch = enrichedBatch(site, [pageView(t + i, "/a"), pageView(t + i, "/b"), pageView(t + i, "/c"), pageView(t + i, "/d"), pageView(t + i, "/e")], {
            visitor_id: "v-flood",
            batch_id: `b-flood-${i}`,
          });
          const outcome = await engine.ingest(batch, flooder);
          statuses.push(outcome.status);
          // The alarm tries to flush and fails: the backlog stays.
          if (i % 10 === 9) await engine.alarm();
        }
        const share = maxPendingEvents * MAX_CLIENT_BACKLOG_SHARE;
        expect(statuses.filter((status) => status === "accepted")).toHaveLength(share / 5);
        expect(statuses.slice(share / 5).every((status) => status === "rate_limited")).toBe(true);
        const stats = engine.stats();
        expect(stats.pending.events).toBe(share);
        expect(stats.pending.events).toBeLessThan(maxPendingEvents);
        expect(stats.counters.rate_limited_batches).toBe(40 - share / 5);

        const legit = await engine.ingest(enrichedBatch(site, [pageView(t + 100, "/")], { visitor_id: "v-legit", batch_id: "b-legit" }), visitor);
        expect(legit).toEqual({ status: "accepted", accepted: 1 });
        const refused = await engine.ingest(enrichedBatch(site, [pageView(t + 101, "/")], { visitor_id: "v-flood", batch_id: "b-flood-more" }), flooder);
        expect(refused).toMatchObject({ status: "rate_limited", scope: "client" });
        if (refused.status === "rate_limited") expect(refused.retry_after_seconds).toBeGreaterThanOrEqual(1);
      },
      { clickhouse: unreachableClickHouse(), maxPendingEvents },
    );
  });
});
