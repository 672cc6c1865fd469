import { describe, expect, it } from "vitest";
import { CoalescedSender } from "./coalesced-sender";
import { ManualClock } from "./manual-clock-harness";

/** A sender over a manual clock whose sends take `sendMs` of that clock; records start times. */
function senderOn(
  clock: ManualClock,
  intervalMs: number | (() => number),
  sendMs: number,
  fail?: (send: number) => boolean,
) {
  const starts: number[] = [];
  let running = 0;
  let overlapped = false;
  const sender = new CoalescedSender(
    async () => {
      starts.push(clock.now);
      running += 1;
      if (running > 1) overlapped = true;
      await clock.sleep(sendMs);
      running -= 1;
      if (fail?.(starts.length)) throw new Error("hub unavailable");
    },
    typeof intervalMs === "number" ? () => intervalMs : intervalMs,
    () => clock.now,
    clock.schedule,
  );
  return { sender, starts, overlapped: () => overlapped };
}

describe("CoalescedSender", () => {
  it("turns a burst of requests into one send per interval, never two at once", async () => {
    const clock = new ManualClock(0);
    const { sender, starts, overlapped } = senderOn(clock, 100, 30);
    // 50 requests 5 ms apart (0 … 245 ms).
    for (let i = 0; i < 50; i++) {
      sender.request();
      await clock.advance(5);
    }
    await clock.advance(500);
    expect(overlapped()).toBe(false);
    // The first at once; requests made during a send or within the interval wait for the next
    // interval; the last requests (235–245 ms) are carried by the send at 300 ms; then nothing.
    expect(starts).toEqual([0, 100, 200, 300]);
  });

  it("moves a scheduled send up when a request comes under a shorter interval", async () => {
    const clock = new ManualClock(0);
    let interval = 1_000;
    const { sender, starts } = senderOn(clock, () => interval, 10);
    sender.request();
    await clock.advance(100);
    sender.request(); // scheduled for 1,000 ms
    await clock.advance(100);
    interval = 250;
    sender.request(); // due at 250 ms now: the send moves up
    await clock.advance(2_000);
    expect(starts).toEqual([0, 250]);
  });

  it("asks for the interval at each decision, so a longer one applies from the next send", async () => {
    const clock = new ManualClock(0);
    let interval = 100;
    const { sender, starts } = senderOn(clock, () => interval, 10);
    for (let i = 0; i < 30; i++) {
      sender.request();
      await clock.advance(10);
      if (clock.now === 50) interval = 1_000;
    }
    await clock.advance(2_000);
    // The send at 100 ms was scheduled (at 10 ms) under the short interval; the next decision,
    // after it, uses the long one.
    expect(starts).toEqual([0, 100, 1_100]);
  });

  it("honours a request made during a send with a send right after it", async () => {
    const clock = new ManualClock(0);
    const { sender, starts } = senderOn(clock, 10, 20);
    sender.request();
    await clock.advance(5);
    sender.request();
    await clock.advance(100);
    // The second request came during the first send (0–20 ms), past the 10 ms interval: sent when it ended.
    expect(starts).toEqual([0, 20]);
  });

  it("sendNow waits for the send in flight, then sends, and survives a failing send", async () => {
    const clock = new ManualClock(0);
    const { sender, starts } = senderOn(clock, 0, 10, (send) => send === 1);
    sender.request();
    await clock.advance(2);
    await clock.runUntil(sender.sendNow());
    expect(starts).toEqual([0, 10]);
  });

  it("sendNow waits out the interval after the previous send", async () => {
    const clock = new ManualClock(1_000);
    const { sender, starts } = senderOn(clock, 250, 0);
    await clock.runUntil(sender.sendNow());
    await clock.runUntil(sender.sendNow());
    expect(starts).toEqual([1_000, 1_250]);
  });
});
