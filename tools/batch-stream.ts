/**
 * An endless stream of SDK-shaped batches drawn from generated sessions, each with the
 * request headers a browser on that site would send. Sessions are drawn one after another;
 * their batches leave in order, so a session's events reach its shard in order.
 */
import type { BatchInput } from "../protocol";
import {
  type BatchingOptions,
  type SessionGeneratorOptions,
  SessionGenerator,
  sessionToBatches,
} from "./session-generator";

export interface OutgoingBatch {
  batch: BatchInput;
  /** `User-Agent` and `Origin` of the visitor's browser. */
  headers: Record<string, string>;
}

export interface BatchStreamOptions extends SessionGeneratorOptions, BatchingOptions {
  /** Keep only batches of exactly `maxEvents` events (benchmarks that fix the batch size). */
  fullBatchesOnly?: boolean;
  /**
   * Send each visitor's own client address in `CF-Connecting-IP` (default on), so per-client
   * rate limits and cookieless ids see many clients, as they would in production. Cloudflare's
   * edge overwrites the header, so against a deployed collector it changes nothing.
   */
  clientIps?: boolean;
}

/** A stable private address per visitor (10.0.0.0/8), from an FNV-1a hash of its id. */
export function clientIpOf(visitor: string): string {
  let hash = 0x811c9dc5;
  for (let index = 0; index < visitor.length; index++)
    hash = Math.imul(hash ^ visitor.charCodeAt(index), 0x01000193) >>> 0;
  return `10.${(hash >>> 16) & 255}.${(hash >>> 8) & 255}.${hash & 255}`;
}

/** Sessions are generated against this fixed clock; `rebaseBatch` moves them to the send time. */
const GENERATION_EPOCH = Date.UTC(2026, 0, 1);

export class BatchStream {
  readonly generator: SessionGenerator;
  private readonly options: BatchStreamOptions;
  private readonly queue: OutgoingBatch[] = [];
  private head = 0;
  private clock = GENERATION_EPOCH;

  constructor(options: BatchStreamOptions = {}) {
    this.options = options;
    this.generator = new SessionGenerator(options);
  }

  next(): OutgoingBatch {
    let attempts = 0;
    while (this.head >= this.queue.length) {
      if (++attempts > 10_000)
        throw new Error("no session produced a batch of the requested size; lower maxEvents or drop fullBatchesOnly");
      this.queue.length = 0;
      this.head = 0;
      this.refill();
    }
    const item = this.queue[this.head++];
    if (item === undefined) throw new Error("batch queue out of step");
    return item;
  }

  private refill(): void {
    this.clock += this.generator.nextArrivalGapMs();
    const session = this.generator.nextSession(Math.round(this.clock));
    const headers: Record<string, string> = {
      "user-agent": session.userAgent,
      origin: `https://${session.site}.example`,
    };
    if (this.options.clientIps !== false) headers["cf-connecting-ip"] = clientIpOf(session.visitor);
    const maxEvents = this.options.maxEvents ?? 20;
    for (const batch of sessionToBatches(session, this.options)) {
      if (this.options.fullBatchesOnly === true && batch.events.length !== maxEvents) continue;
      this.queue.push({ batch, headers });
    }
  }
}
