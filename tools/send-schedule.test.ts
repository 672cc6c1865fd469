import { describe, expect, it } from "vitest";
import { SendSchedule } from "./send-schedule";

describe("SendSchedule", () => {
  it("spaces requests evenly at the rate, in batches or in events", () => {
    const batches = new SendSchedule({ rate: 100 });
    expect([batches.next(1), batches.next(1), batches.next(1)]).toEqual([0, 10, 20]);
    const events = new SendSchedule({ rate: 1000 });
    expect(events.next(20)).toBe(0);
    expect(events.next(20)).toBe(20);
    expect(events.next(5)).toBe(40);
    expect(events.next(1)).toBe(45);
  });

  it("multiplies the rate during bursts and nowhere else", () => {
    const schedule = new SendSchedule({ rate: 10, burstFactor: 5, burstEveryMs: 10_000, burstForMs: 1_000 });
    let count = 0;
    while (schedule.next(1) < 10_000) count++;
    // 1 s at 50/s plus 9 s at 10/s.
    expect(count).toBeGreaterThanOrEqual(139);
    expect(count).toBeLessThanOrEqual(141);
    expect(schedule.rateAt(500)).toBe(50);
    expect(schedule.rateAt(1_500)).toBe(10);
    expect(schedule.rateAt(10_200)).toBe(50);
  });

  it("leaves an unpaced schedule to the concurrency bound", () => {
    const schedule = new SendSchedule({ rate: Infinity });
    expect(schedule.unpaced).toBe(true);
    expect([schedule.next(1), schedule.next(20)]).toEqual([0, 0]);
  });

  it("refuses rates and bursts that make no sense", () => {
    expect(() => new SendSchedule({ rate: 0 })).toThrow(RangeError);
    expect(() => new SendSchedule({ rate: 1, burstFactor: 2, burstEveryMs: 1000, burstForMs: 2000 })).toThrow(
      RangeError,
    );
  });
});
