/**
 * Day deltas end to end over a real shard engine and the hub's merge: for random event
 * streams that fill every capped map past its caps, a hub fed deltas holds, after every
 * send, the same day state per shard and shows the same live views as a hub fed the shard's
 * whole state at the same moments; and the cases that must fall back to a whole send (the
 * shard restarted, the hub lost its base, a delta refused, a send failed) do.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { EnrichedEvent } from "../../protocol";
import { MergedShards, type ShardRecord } from "../live-hub/merged-shards";
import { isLiveDelta, type HubAnswer, type ShardLiveSend } from "../shard-to-hub/shard-live-state";
import {
  cartAdd,
  checkout,
  enrichedBatch,
  enrichedEvent,
  pageView,
  productView,
  purchase,
  vital,
} from "./enriched-fixture";
import { ManualClock } from "./manual-clock-harness";
import { ShardEngine } from "./shard-engine";
import { clickhouse, config, shardStub, uniqueSite, WINDOW_MS } from "./shard-test-harness";
import { windowStartOf } from "./watermark";

/** A small seeded generator (mulberry32): the same stream on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Skewed picks out of `n` (a few keys hot, a long tail), so top lists churn at their caps. */
function skewed(next: () => number, n: number): number {
  return Math.floor(n * next() ** 3);
}

function randomEvent(next: () => number, ts: number): EnrichedEvent {
  const kind = next();
  const sku = `sku-${skewed(next, 260)}`;
  if (kind < 0.45)
    return pageView(ts, `/p/${skewed(next, 420)}`, next() < 0.3 ? `ref-${skewed(next, 250)}.example` : "");
  if (kind < 0.6)
    return vital(
      ts,
      `/p/${skewed(next, 180)}`,
      ["LCP", "CLS", "INP", "FCP", "TTFB"][Math.floor(next() * 5)] ?? "LCP",
      next() * 3000,
    );
  if (kind < 0.7) return productView(ts, sku, `Product ${sku}`);
  if (kind < 0.78) return cartAdd(ts, sku, 1 + Math.floor(next() * 50), 1 + Math.floor(next() * 3));
  if (kind < 0.8) return checkout(ts, 20);
  if (kind < 0.83)
    return purchase(ts, 20, next() < 0.5 ? "EUR" : "USD", [
      { product_id: sku, price: 20, quantity: 1 + Math.floor(next() * 2) },
    ]);
  return enrichedEvent({ type: "custom", ts, name: `evt-${skewed(next, 240)}` });
}

/** A hub that answers like LiveHub.applyShardState (without the Durable Object around it). */
class RecordingHub {
  merged = new MergedShards(WINDOW_MS);
  readonly sends: ShardLiveSend[] = [];
  refusals = 0;
  /** The shard's record after the last send. */
  record: ShardRecord | undefined;
  apply(send: ShardLiveSend, now: number): HubAnswer {
    this.sends.push(structuredClone(send));
    const result = this.merged.apply(structuredClone(send), now);
    this.record = result.record;
    if (isLiveDelta(send) && !result.shardUpdated) this.refusals += 1;
    return { watched: true, dayBase: result.shardUpdated };
  }
  /** Everything the hub shows; `windows` false for a hub that lost its windows (the real one pulls them back). */
  views(site: string, now: number, windows: boolean) {
    return { ...this.merged.dayViews(site, now), windows: windows ? this.merged.recentWindows(400) : [] };
  }
}

interface Run {
  site: string;
  clock: ManualClock;
  /** Fed every send, deltas included. */
  delta: RecordingHub;
  /** Fed, at every send, the shard's whole state at that moment (what a full send would carry). */
  full: RecordingHub;
  /** Fails the next this many sends. */
  failNext: number;
  /** Compare the hubs after every batch (else only after the stream), and their windows too. */
  checkEachBatch: boolean;
  checkWindows: boolean;
  engine(work: (engine: ShardEngine) => Promise<void>): Promise<void>;
}

function newRun(prefix: string): Run {
  const site = uniqueSite(prefix);
  const clock = new ManualClock(windowStartOf(Date.now() + 24 * 3600 * 1000, WINDOW_MS));
  const run: Run = {
    site,
    clock,
    delta: new RecordingHub(),
    full: new RecordingHub(),
    failNext: 0,
    checkEachBatch: true,
    checkWindows: true,
    // A fresh engine per call: what an evicted object restarts with.
    engine: (work) =>
      runInDurableObject(shardStub(site), async (_instance, state) => {
        let engine: ShardEngine | null = null;
        engine = new ShardEngine({
          storage: state.storage,
          settings: config,
          clickhouse,
          now: () => clock.now,
          schedule: clock.schedule,
          sendToHub: async (send) => {
            if (run.failNext > 0) {
              run.failNext -= 1;
              throw new Error("hub unreachable");
            }
            const whole = engine?.liveState();
            if (whole === null || whole === undefined) throw new Error("no whole state");
            run.full.apply(whole, clock.now);
            return run.delta.apply(send, clock.now);
          },
        });
        await work(engine);
      }),
  };
  return run;
}

/** The day state each hub holds for the shard is the same, and so is everything the hubs show. */
function expectSameHubs(run: Run): void {
  const now = run.clock.now;
  expect(run.delta.views(run.site, now, run.checkWindows)).toEqual(run.full.views(run.site, now, run.checkWindows));
  // The day state the delta hub holds for the shard is exactly the whole state's (key order aside).
  expect(run.delta.record?.today).toEqual(run.full.record?.today);
}

async function ingestRandom(run: Run, engine: ShardEngine, next: () => number, batches: number): Promise<void> {
  for (let index = 0; index < batches; index++) {
    const events = Array.from({ length: 1 + Math.floor(next() * 20) }, () =>
      randomEvent(next, run.clock.now - Math.floor(next() * 3000)),
    );
    await engine.ingest(
      enrichedBatch(run.site, events, { visitor_id: `v${skewed(next, 60)}`, received_at: run.clock.now }),
    );
    await run.clock.advance(Math.floor(next() * 300));
    if (run.checkEachBatch && run.delta.sends.length > 0) expectSameHubs(run);
  }
  await run.clock.advance(1_000);
  expectSameHubs(run);
}

describe("live sends with day deltas", () => {
  for (const seed of [1, 2]) {
    it(`gives the hub the same day state and live views as whole sends (random stream ${seed})`, async () => {
      const run = newRun(`delta-${seed}`);
      const next = random(seed);
      await run.engine((engine) => ingestRandom(run, engine, next, 220));
      const deltas = run.delta.sends.filter(isLiveDelta);
      // After the first (whole) send, every send is a delta, and none was refused.
      expect(isLiveDelta(run.delta.sends[0] as ShardLiveSend)).toBe(false);
      expect(deltas.length).toBe(run.delta.sends.length - 1);
      expect(run.delta.refusals).toBe(0);
      // The caps were reached: keys left the shard's report (evicted or ranked out) and were sent as removed.
      expect(deltas.some((send) => (send.today_delta.maps.pages?.removed.length ?? 0) > 0)).toBe(true);
      expect(deltas.some((send) => (send.today_delta.maps.vitals?.removed.length ?? 0) > 0)).toBe(true);
      // And a delta is much smaller than the whole state it stands for.
      const size = (value: unknown) => JSON.stringify(value).length;
      const deltaBytes = deltas.reduce((sum, send) => sum + size(send.today_delta), 0) / deltas.length;
      const wholeBytes = size(run.full.sends.at(-1));
      expect(deltaBytes).toBeLessThan(wholeBytes / 4);
    });
  }

  it("sends the whole day after the shard restarts, then deltas again", async () => {
    const run = newRun("delta-restart");
    const next = random(7);
    await run.engine((engine) => ingestRandom(run, engine, next, 40));
    const before = run.delta.sends.length;
    // A new object (evicted, restarted): nothing of its change notes survived.
    await run.engine((engine) => ingestRandom(run, engine, next, 40));
    const after = run.delta.sends.slice(before);
    expect(isLiveDelta(after[0] as ShardLiveSend)).toBe(false);
    expect(after.slice(1).every(isLiveDelta)).toBe(true);
    expect(run.delta.refusals).toBe(0);
  });

  it("sends the whole day after the hub lost its base or refused a delta, and after a failed send", async () => {
    const run = newRun("delta-hub");
    const next = random(11);
    // Between a refusal and the whole send after it the hubs differ: compared once each stream has settled.
    run.checkEachBatch = false;
    run.checkWindows = false;
    await run.engine(async (engine) => {
      await ingestRandom(run, engine, next, 30);
      // The hub restarted with nothing stored: it holds no base, refuses the next delta, gets the whole state after it.
      run.delta.merged = new MergedShards(WINDOW_MS);
      let from = run.delta.sends.length;
      await ingestRandom(run, engine, next, 30);
      expect(run.delta.refusals).toBe(1);
      const afterLoss = run.delta.sends.slice(from);
      expect(afterLoss.map(isLiveDelta).slice(0, 2)).toEqual([true, false]);

      // A pull (a hub rebuilding itself) gave the hub a newer base than the one the shard built on: refused, then whole.
      const pulled = engine.liveState();
      if (pulled === null) throw new Error("no state");
      run.delta.merged.apply(pulled, run.clock.now);
      from = run.delta.sends.length;
      await ingestRandom(run, engine, next, 30);
      expect(run.delta.refusals).toBe(2);
      expect(run.delta.sends.slice(from).map(isLiveDelta).slice(0, 2)).toEqual([true, false]);

      // A send that failed: the next is whole (the hub may or may not hold what failed).
      run.failNext = 1;
      from = run.delta.sends.length;
      await ingestRandom(run, engine, next, 30);
      expect(run.delta.sends.slice(from).map(isLiveDelta).slice(0, 2)).toEqual([false, true]);
    });
  });
});
