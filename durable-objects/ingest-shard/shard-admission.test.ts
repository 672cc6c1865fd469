import { describe, expect, it } from "vitest";
import type { IngestAdmission } from "../../protocol";
import { enrichedBatch, pageView } from "./enriched-fixture";
import { MAX_CLIENT_BACKLOG_SHARE, ShardAdmission, type Backlog } from "./shard-admission";
import { harness, uniqueSite, unreachableClickHouse } from "./shard-test-harness";

const T0 = 1_800_000_000_000;
const empty: Backlog = { pending: 0, maxPending: 1_000, firstPendingSeq: 1 };

describe("ShardAdmission", () => {
  it("keeps the shard's share of the site rate: refuses past the burst, says when the next token is due, takes nothing when refusing", () => {
    const admission = new ShardAdmission(1_000);
    const budget = { perSecond: 0.5, burst: 2 };
    for (let i = 0; i < 2; i++) {
      expect(admission.refusal("a", budget, 1, empty, T0)).toBeNull();
      admission.accepted("a", budget, 1, i + 1, T0);
    }
    expect(admission.refusal("b", budget, 1, empty, T0)).toEqual({ scope: "site", retryAfterSeconds: 2 });
    // Refusals cost nothing: one token is back after 2 s however often the site was refused.
    expect(admission.refusal("b", budget, 1, empty, T0 + 1_000)).toEqual({ scope: "site", retryAfterSeconds: 1 });
    expect(admission.refusal("b", budget, 1, empty, T0 + 2_000)).toBeNull();
  });

  it("keeps the last tenth of the backlog for clients holding less than a tenth, and frees a client's share as its events are flushed", () => {
    const maxPending = 100;
    const reserved = maxPending * MAX_CLIENT_BACKLOG_SHARE;
    const admission = new ShardAdmission(maxPending);
    let seq = 0;
    // One client alone may fill the shard up to the reserve.
    while (seq + 5 <= maxPending - reserved) {
      expect(admission.refusal("flood", null, 5, { pending: seq, maxPending, firstPendingSeq: 1 }, T0)).toBeNull();
      admission.accepted("flood", null, 5, seq + 5, T0);
      seq += 5;
    }
    const nearlyFull = { pending: seq, maxPending, firstPendingSeq: 1 };
    expect(admission.heldBy("flood", 1)).toBe(90);
    expect(admission.refusal("flood", null, 5, nearlyFull, T0)).toEqual({ scope: "client" });
    // Another client still gets into the reserve.
    expect(admission.refusal("other", null, 5, nearlyFull, T0)).toBeNull();
    // Once the flood's events were flushed, it holds nothing and is welcome again.
    expect(admission.refusal("flood", null, 5, { pending: 0, maxPending, firstPendingSeq: seq + 1 }, T0)).toBeNull();
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
        for (let i = 0; i < 50; i++) {
          const batch = enrichedBatch(
            site,
            [
              pageView(t + i, "/a"),
              pageView(t + i, "/b"),
              pageView(t + i, "/c"),
              pageView(t + i, "/d"),
              pageView(t + i, "/e"),
            ],
            {
              visitor_id: "v-flood",
              batch_id: `b-flood-${i}`,
            },
          );
          statuses.push((await engine.ingest(batch, flooder)).status);
          // The alarm tries to flush and fails: the backlog stays. Its live send waits out the
          // interval after the previous one on the test clock, so the clock moves meanwhile.
          if (i % 25 === 24) await h.clock.runUntil(engine.alarm());
        }
        const open = maxPendingEvents * (1 - MAX_CLIENT_BACKLOG_SHARE);
        expect(statuses.filter((status) => status === "accepted")).toHaveLength(open / 5);
        expect(statuses.slice(open / 5).every((status) => status === "overloaded")).toBe(true);
        const stats = engine.stats();
        expect(stats.pending.events).toBe(open);
        expect(stats.pending.events).toBeLessThan(maxPendingEvents);

        const legit = await engine.ingest(
          enrichedBatch(site, [pageView(t + 100, "/")], { visitor_id: "v-legit", batch_id: "b-legit" }),
          visitor,
        );
        expect(legit).toEqual({ status: "accepted", accepted: 1 });
        const refused = await engine.ingest(
          enrichedBatch(site, [pageView(t + 101, "/")], { visitor_id: "v-flood", batch_id: "b-flood-more" }),
          flooder,
        );
        expect(refused).toMatchObject({ status: "overloaded" });
        if (refused.status === "overloaded") expect(refused.retry_after_seconds).toBeGreaterThanOrEqual(1);
      },
      { clickhouse: unreachableClickHouse(), maxPendingEvents },
    );
  });
});
