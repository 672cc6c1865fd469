import { describe, expect, it } from "vitest";
import { batchAt, scheduleSession } from "./demo-schedule";
import { SessionGenerator } from "./session-generator";

describe("demo schedule", () => {
  const generator = new SessionGenerator({ seed: 7, runId: "demo-test", sites: ["demo"] });
  const session = generator.nextSession(1_000_000);

  it("sends each page's batch when its last event happened, sped up, in order", () => {
    const scheduled = scheduleSession(session, 50_000, 4, {});
    expect(scheduled.length).toBeGreaterThan(0);
    const dues = scheduled.map((item) => item.dueAt);
    expect(dues).toEqual([...dues].sort((a, b) => a - b));
    expect(dues[0]).toBeGreaterThanOrEqual(50_000);
    expect(dues.at(-1)).toBeCloseTo(50_000 + (session.endedAt - session.startedAt) / 4, 5);
    expect(scheduled.flatMap((item) => item.batch.events)).toHaveLength(session.events.length);
  });

  it("moves a batch to the send time, keeping its events' order and sped-up spacing", () => {
    const [first] = scheduleSession(session, 0, 4, {});
    if (first === undefined) throw new Error("no batch");
    const moved = batchAt(first.batch, 9_000_000, 4);
    expect(moved.sent_at).toBe(9_000_000);
    expect(moved.events.at(-1)?.ts).toBe(9_000_000);
    const times = moved.events.map((event) => event.ts);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });
});
