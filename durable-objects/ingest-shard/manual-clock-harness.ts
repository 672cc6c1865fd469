/**
 * A clock a test moves by hand, with timers on it (a `Schedule` for CoalescedSender and the
 * ShardEngine): a timer fires when the test advances the clock past it, never on its own, so
 * what a test asserts about timing does not depend on how fast the machine runs it.
 */
import type { Schedule } from "./coalesced-sender";

interface Timer {
  at: number;
  order: number;
  callback: () => void;
}

/** Lets promise chains started by a timer (an async send) run to their next real wait. */
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

export class ManualClock {
  private timers: Timer[] = [];
  private scheduled = 0;

  constructor(public now: number) {}

  readonly schedule: Schedule = (callback, ms) => {
    const timer: Timer = { at: this.now + Math.max(0, ms), order: this.scheduled++, callback };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((pending) => pending !== timer);
    };
  };

  /** Resolves after `ms` of this clock (for a fake send that takes time). */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.schedule(resolve, ms));
  }

  /** Moves the clock `ms` ahead, firing each timer due on the way at its own time, oldest first. */
  async advance(ms: number): Promise<void> {
    const target = this.now + ms;
    await settle();
    for (;;) {
      const next = this.nextDue(target);
      if (next === undefined) break;
      this.timers = this.timers.filter((pending) => pending !== next);
      this.now = Math.max(this.now, next.at);
      next.callback();
      await settle();
    }
    this.now = target;
  }

  /**
   * Waits for `work` (work that waits on this clock's timers), moving the clock only as far as
   * the next pending timer each time nothing else can progress: real I/O meanwhile does not
   * move the clock, so where it ends up does not depend on the machine's speed.
   */
  async runUntil<T>(work: Promise<T>): Promise<T> {
    let done = false;
    const result = work.finally(() => {
      done = true;
    });
    while (!done) {
      const next = this.nextDue(Number.POSITIVE_INFINITY);
      if (next === undefined) await settle();
      else await this.advance(Math.max(0, next.at - this.now));
    }
    return result;
  }

  private nextDue(target: number): Timer | undefined {
    let next: Timer | undefined;
    for (const timer of this.timers)
      if (
        timer.at <= target &&
        (next === undefined || timer.at < next.at || (timer.at === next.at && timer.order < next.order))
      )
        next = timer;
    return next;
  }
}
