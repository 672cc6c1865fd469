import { describe, expect, it } from "vitest";
import { CoalescedSender } from "./coalesced-sender";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("CoalescedSender", () => {
  it("turns a burst of requests into one send per interval, never two at once", async () => {
    const starts: number[] = [];
    let running = 0;
    let overlapped = false;
    const sender = new CoalescedSender(async () => {
      starts.push(Date.now());
      running += 1;
      if (running > 1) overlapped = true;
      await sleep(30);
      running -= 1;
    }, 100);
    const began = Date.now();
    for (let i = 0; i < 50; i++) {
      sender.request();
      await sleep(5);
    }
    const elapsed = Date.now() - began;
    await sleep(250);
    expect(overlapped).toBe(false);
    // 50 requests: one send per 100 ms interval they spanned (plus the trailing one), not 50.
    expect(starts.length).toBeGreaterThanOrEqual(2);
    expect(starts.length).toBeLessThanOrEqual(Math.ceil(elapsed / 100) + 2);
    expect(starts.length).toBeLessThan(50);
    for (let i = 1; i < starts.length; i++) expect((starts[i] ?? 0) - (starts[i - 1] ?? 0)).toBeGreaterThanOrEqual(95);
  });

  it("honours a request made during a send with a send after it", async () => {
    let sends = 0;
    const sender = new CoalescedSender(async () => {
      sends += 1;
      await sleep(20);
    }, 10);
    sender.request();
    await sleep(5);
    sender.request();
    await sleep(100);
    expect(sends).toBe(2);
  });

  it("sendNow waits for the send in flight, then sends, and survives a failing send", async () => {
    let sends = 0;
    const sender = new CoalescedSender(async () => {
      sends += 1;
      await sleep(10);
      if (sends === 1) throw new Error("hub unavailable");
    }, 0);
    sender.request();
    await sleep(2);
    await sender.sendNow();
    expect(sends).toBe(2);
  });
});
