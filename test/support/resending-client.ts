/**
 * A client that behaves like the SDK under faults: every batch has a fixed id and body, and is
 * resent unchanged after a network error, a 429 or a 503 (waiting Retry-After) until the
 * collector answers 202. It records every answer, so a test can say how many events it sent,
 * how many were acknowledged, and then how many ClickHouse holds.
 */
import { BROWSER_USER_AGENT } from "./browser-user-agent";

export interface TrackedBatch {
  id: string;
  body: string;
  events: number;
  /** When the collector first answered 202 for it (ms), or null. */
  ackedAt: number | null;
  attempts: number;
}

export interface AnswerTally {
  accepted: number;
  duplicate: number;
  rateLimited: number;
  overloaded: number;
  unavailable: number;
  networkErrors: number;
  /** Any other answer: a bug the test reports. */
  unexpected: string[];
}

export interface ResendingClientOptions {
  collectorUrl: string;
  site: string;
  eventsPerBatch: number;
  /** Batches take their visitor from this many ids, so they spread over the site's shards. */
  visitors?: number;
  /** Wait after a network error before resending. */
  networkRetryMs?: number;
}

const MAX_RETRY_AFTER_MS = 10_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class ResendingClient {
  readonly batches: TrackedBatch[] = [];
  readonly tally: AnswerTally = {
    accepted: 0,
    duplicate: 0,
    rateLimited: 0,
    overloaded: 0,
    unavailable: 0,
    networkErrors: 0,
    unexpected: [],
  };
  /** Requests sent and not yet answered. */
  inFlight = 0;
  private sequence = 0;
  private stopped = false;
  private readonly deliveries = new Set<Promise<void>>();
  private readonly run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

  constructor(private readonly options: ResendingClientOptions) {}

  get sentEvents(): number {
    return this.batches.reduce((sum, batch) => sum + batch.events, 0);
  }

  get ackedEvents(): number {
    return this.batches.reduce((sum, batch) => sum + (batch.ackedAt === null ? 0 : batch.events), 0);
  }

  /** Makes a batch (not sent yet). Event times are now; resends keep the body, as the SDK does. */
  newBatch(): TrackedBatch {
    const index = this.sequence++;
    const now = Date.now();
    const id = `${this.options.site}-${this.run}-${index}`;
    const events = Array.from({ length: this.options.eventsPerBatch }, (_, event) => ({
      type: "page_view",
      id: `e${event}`,
      ts: now - event,
      url: `https://${this.options.site}.example/p/${index % 17}`,
    }));
    const body = JSON.stringify({
      v: 1,
      site: this.options.site,
      batch: id,
      sent_at: now,
      visitor: `v-${this.options.site}-${index % (this.options.visitors ?? 8)}`,
      events,
    });
    const batch: TrackedBatch = { id, body, events: events.length, ackedAt: null, attempts: 0 };
    this.batches.push(batch);
    return batch;
  }

  /** One attempt. Returns the ms to wait before the next one, or null when acknowledged. */
  async attempt(batch: TrackedBatch): Promise<number | null> {
    batch.attempts += 1;
    let response: Response;
    let text: string;
    this.inFlight += 1;
    try {
      response = await fetch(`${this.options.collectorUrl}/v1/events`, {
        method: "POST",
        headers: { "Content-Type": "text/plain", "User-Agent": BROWSER_USER_AGENT },
        body: batch.body,
        signal: AbortSignal.timeout(15_000),
      });
      text = await response.text();
    } catch {
      this.tally.networkErrors += 1;
      return this.options.networkRetryMs ?? 500;
    } finally {
      this.inFlight -= 1;
    }
    if (response.status === 202) {
      const answer = JSON.parse(text) as { duplicate?: boolean };
      if (answer.duplicate === true) this.tally.duplicate += 1;
      else this.tally.accepted += 1;
      batch.ackedAt ??= Date.now();
      return null;
    }
    const retryAfterMs = Math.min(MAX_RETRY_AFTER_MS, Number(response.headers.get("Retry-After") ?? "1") * 1000);
    if (response.status === 429) this.tally.rateLimited += 1;
    else if (response.status === 503 && text.includes('"overloaded"')) this.tally.overloaded += 1;
    else if (response.status === 503) this.tally.unavailable += 1;
    else {
      this.tally.unexpected.push(`${response.status} ${text.slice(0, 200)}`);
      return null;
    }
    return retryAfterMs;
  }

  /** Resends until acknowledged or the client is stopped. */
  deliver(batch: TrackedBatch): Promise<void> {
    const delivery = (async () => {
      while (!this.stopped && batch.ackedAt === null) {
        const wait = await this.attempt(batch);
        if (wait === null) return;
        await sleep(wait);
      }
    })();
    this.deliveries.add(delivery);
    void delivery.finally(() => this.deliveries.delete(delivery));
    return delivery;
  }

  /** Starts a new batch every 1/rate s until `until()` says stop; each is delivered in the background. */
  async load(batchesPerSecond: number, until: () => boolean): Promise<void> {
    const gap = 1000 / batchesPerSecond;
    while (!until() && !this.stopped) {
      void this.deliver(this.newBatch());
      await sleep(gap);
    }
  }

  /** Waits for every delivery under way (they end when acknowledged). */
  async settle(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.deliveries.size > 0 && Date.now() < deadline) await Promise.race([sleep(200), ...this.deliveries]);
    if (this.deliveries.size > 0)
      throw new Error(`${this.deliveries.size} batches still unacknowledged after ${timeoutMs} ms (${this.summary()})`);
  }

  /** Gives up on every delivery under way (they stop after their current attempt). */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled([...this.deliveries]);
  }

  summary(): string {
    const t = this.tally;
    return `batches ${this.batches.length}, events sent ${this.sentEvents}, acknowledged ${this.ackedEvents}; answers: 202 new ${t.accepted}, 202 duplicate ${t.duplicate}, 429 ${t.rateLimited}, 503 overloaded ${t.overloaded}, 503 unavailable ${t.unavailable}, network errors ${t.networkErrors}`;
  }
}
