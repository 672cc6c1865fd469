/**
 * Coalesces live sends: however many batches arrive, at most one send starts per interval,
 * never two at once (a reordered pair could make the hub keep the older), and a request made
 * while a send runs is honoured right after it. It only decides *when*; what is sent is read
 * from storage at send time, and what was not confirmed stays marked there, so a send lost
 * with an evicted object is made by the next ingest or alarm.
 *
 * Its clock and timers are injected (`now`, `schedule`), so tests drive it with a manual clock
 * (manual-clock-harness.ts) instead of waiting for real timers.
 */

/** Runs `callback` after `ms` (like setTimeout) and returns a function that cancels it. */
export type Schedule = (callback: () => void, ms: number) => () => void;

/** The runtime's timers. */
export const realSchedule: Schedule = (callback, ms) => {
  const timer = setTimeout(callback, ms);
  return () => clearTimeout(timer);
};

export class CoalescedSender {
  /** Cancels the pending timer; null when none is pending. */
  private timer: (() => void) | null = null;
  /** When the pending timer fires (on the `now` clock); meaningful only while `timer` is set. */
  private timerAt = 0;
  private inFlight: Promise<void> | null = null;
  private requestedDuringSend = false;
  private lastStartedAt = Number.NEGATIVE_INFINITY;

  constructor(
    /** Does the send; must not throw (failures are the caller's to record). */
    private readonly send: () => Promise<void>,
    /** The interval, asked at each decision: the shard's depends on whether anyone watches. */
    private readonly intervalMs: () => number,
    private readonly now: () => number = Date.now,
    private readonly schedule: Schedule = realSchedule,
  ) {}

  /**
   * Asks for a send soon (within the interval). A send already scheduled stays unless the
   * interval has shortened since, so that this request is due earlier: then it moves up.
   */
  request(): void {
    if (this.inFlight !== null) {
      this.requestedDuringSend = true;
      return;
    }
    const now = this.now();
    const at = Math.max(now, this.lastStartedAt + this.intervalMs());
    if (this.timer !== null) {
      if (at >= this.timerAt) return;
      this.timer();
    }
    this.timerAt = at;
    this.timer = this.schedule(() => {
      this.timer = null;
      void this.start();
    }, at - now);
  }

  /** Sends now (after any send in flight and the interval), and resolves when it is done. */
  async sendNow(): Promise<void> {
    for (;;) {
      if (this.timer !== null) {
        this.timer();
        this.timer = null;
      }
      if (this.inFlight !== null) {
        await this.inFlight;
        continue;
      }
      const wait = this.lastStartedAt + this.intervalMs() - this.now();
      if (wait > 0) {
        await new Promise<void>((resolve) => this.schedule(resolve, wait));
        continue;
      }
      // No await between these checks and the start: nothing else can start a send meanwhile.
      return this.start();
    }
  }

  private async start(): Promise<void> {
    this.lastStartedAt = this.now();
    this.inFlight = this.send().catch(() => undefined);
    try {
      await this.inFlight;
    } finally {
      this.inFlight = null;
    }
    if (this.requestedDuringSend) {
      this.requestedDuringSend = false;
      this.request();
    }
  }
}
