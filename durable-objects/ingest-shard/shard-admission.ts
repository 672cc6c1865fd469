/**
 * Whether a shard takes a batch, beyond dedup and the backlog bound: the shard's share of its
 * site's rate, and each client's share of the shard's backlog. Both live in memory only.
 *
 * Site budget: a site's limit is split evenly over its SHARDS shards, and each shard keeps a
 * token bucket for its share. No batch waits for another object, so a site is not capped at
 * one object's throughput; the price is that a site whose traffic lands unevenly on shards
 * is refused a little before its whole limit (visitors hash evenly, so by little).
 *
 * Client share: a batch's `visitor` is chosen by the client and picks the shard, so one
 * client could fill a shard's backlog (while ClickHouse is away) and lock out every other
 * visitor routed there. So the last MAX_CLIENT_BACKLOG_SHARE of the shard's pending-event
 * bound is kept for clients holding less than that share: once the backlog reaches the rest,
 * a client — a salted hash of its network address, made by the Worker — holding more is
 * refused like a full shard (503 overloaded), while the others still get in until the shard
 * is really full. Below that mark nobody is refused for its share, so a single busy client
 * (a load test, one big NAT) still uses the whole shard while ClickHouse keeps up.
 * A client's holding is the events of its accepted batches that are still pending; the
 * flush queue deletes in sequence order, so "pending" is "sequence after the oldest pending
 * one" (exact up to a chunk that bisection removed out of order, which errs lenient).
 *
 * Losing this state (eviction, restart) hands out full buckets and empty holdings: lenient,
 * never stricter than configured.
 */
import type { BudgetLimit } from "../../protocol";
import { TokenBucket } from "../shared/token-bucket";

/** The part of a shard's pending-event bound kept for clients holding less than this part of it. */
export const MAX_CLIENT_BACKLOG_SHARE = 0.1;
/** Clients tracked at most; past it the least recently seen are forgotten (lenient). */
export const MAX_TRACKED_CLIENTS = 10_000;

export type AdmissionRefusal = { scope: "site"; retryAfterSeconds: number } | { scope: "client" };

/** The shard's backlog as the refusal check needs it. */
export interface Backlog {
  /** Events waiting for ClickHouse now, and the bound. */
  pending: number;
  maxPending: number;
  /** Sequence number of the oldest waiting event. */
  firstPendingSeq: number;
}

interface ClientHolding {
  /** Accepted batches still (partly) pending, oldest first: last sequence number and event count. */
  batches: { lastSeq: number; events: number }[];
  events: number;
}

export class ShardAdmission {
  private siteBucket: TokenBucket | null = null;
  /** Insertion order is recency order: a client is re-inserted whenever it is seen. */
  private readonly holdings = new Map<string, ClientHolding>();
  private readonly reserved: number;

  constructor(maxPendingEvents: number) {
    this.reserved = Math.max(1, Math.floor(maxPendingEvents * MAX_CLIENT_BACKLOG_SHARE));
  }

  /**
   * Why this batch may not be taken now, or null. Takes nothing: a batch refused later (by
   * the backlog bound) must not use up the site's budget.
   */
  refusal(
    clientKey: string,
    budget: BudgetLimit | null,
    events: number,
    backlog: Backlog,
    now: number,
  ): AdmissionRefusal | null {
    if (budget !== null) {
      this.siteBucket ??= new TokenBucket(budget, now);
      const wait = this.siteBucket.secondsUntilToken(budget, now);
      if (wait > 0) return { scope: "site", retryAfterSeconds: wait };
    }
    const intoReserve = backlog.pending + events > backlog.maxPending - this.reserved;
    if (intoReserve && this.heldBy(clientKey, backlog.firstPendingSeq) + events > this.reserved)
      return { scope: "client" };
    return null;
  }

  /** Records an accepted batch whose events got sequence numbers up to `lastSeq`. */
  accepted(clientKey: string, budget: BudgetLimit | null, events: number, lastSeq: number, now: number): void {
    if (budget !== null) {
      this.siteBucket ??= new TokenBucket(budget, now);
      this.siteBucket.take(budget, now);
    }
    if (events === 0) return;
    let holding = this.holdings.get(clientKey);
    if (holding === undefined) {
      if (this.holdings.size >= MAX_TRACKED_CLIENTS) this.forgetOldest();
      holding = { batches: [], events: 0 };
    } else {
      this.holdings.delete(clientKey);
    }
    holding.batches.push({ lastSeq, events });
    holding.events += events;
    this.holdings.set(clientKey, holding);
  }

  /** Events of this client still pending (its fully flushed batches are dropped on the way). */
  heldBy(clientKey: string, firstPendingSeq: number): number {
    const holding = this.holdings.get(clientKey);
    if (holding === undefined) return 0;
    let flushed = 0;
    while (flushed < holding.batches.length && (holding.batches[flushed]?.lastSeq ?? Infinity) < firstPendingSeq) {
      holding.events -= holding.batches[flushed]?.events ?? 0;
      flushed += 1;
    }
    if (flushed > 0) holding.batches.splice(0, flushed);
    if (holding.batches.length === 0) this.holdings.delete(clientKey);
    return holding.events;
  }

  get trackedClients(): number {
    return this.holdings.size;
  }

  /** Forgets the least recently seen tenth, so a flood of new clients sweeps rarely. */
  private forgetOldest(): void {
    const target = Math.floor(MAX_TRACKED_CLIENTS * 0.9);
    for (const key of this.holdings.keys()) {
      if (this.holdings.size <= target) break;
      this.holdings.delete(key);
    }
  }
}
