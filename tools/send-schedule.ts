/**
 * When each request of an open-loop load run is due. Open loop means the schedule does not
 * wait for answers: a slow collector does not slow the offered load down (which would hide
 * its latency — "coordinated omission"); latency is then measured from the due time.
 *
 * The rate is in cost units per second: cost 1 per batch for batches/s, the batch's event
 * count for events/s. Bursts multiply the rate by `burstFactor` for `burstForMs` at the
 * start of every `burstEveryMs`.
 */
export interface SendScheduleOptions {
  /** Cost units per second; `Infinity` sends as fast as the concurrency bound allows. */
  rate: number;
  burstFactor?: number;
  burstEveryMs?: number;
  burstForMs?: number;
}

export class SendSchedule {
  private readonly rate: number;
  private readonly burstFactor: number;
  private readonly burstEveryMs: number;
  private readonly burstForMs: number;
  /** Due time of the next request, ms since the run started. */
  private cursor = 0;

  constructor(options: SendScheduleOptions) {
    if (!(options.rate > 0)) throw new RangeError("rate must be positive (Infinity for unpaced)");
    this.rate = options.rate;
    this.burstFactor = options.burstFactor ?? 1;
    this.burstEveryMs = options.burstEveryMs ?? 10_000;
    this.burstForMs = options.burstForMs ?? 1_000;
    if (!(this.burstFactor > 0)) throw new RangeError("burst factor must be positive");
    if (this.burstForMs > this.burstEveryMs) throw new RangeError("a burst cannot last longer than its period");
  }

  get unpaced(): boolean {
    return this.rate === Infinity;
  }

  /** Rate in force at `atMs` since the start. */
  rateAt(atMs: number): number {
    const inBurst = this.burstFactor !== 1 && atMs % this.burstEveryMs < this.burstForMs;
    return inBurst ? this.rate * this.burstFactor : this.rate;
  }

  /** Due time (ms since the start) of a request costing `cost`, and advances past it. */
  next(cost: number): number {
    const due = this.cursor;
    if (!this.unpaced) this.cursor += (cost / this.rateAt(due)) * 1000;
    return due;
  }
}
