import { describe, expect, it } from "vitest";
import { deriveVisitorId, visitorDayOf } from "./visitor-id";

const base = {
  secret: "s3cret-for-tests",
  site: "shop",
  ip: "203.0.113.7",
  userAgent: "UA/1.0",
  at: Date.UTC(2026, 10, 23, 10, 0, 0),
};

describe("deriveVisitorId", () => {
  it("is a v- id of 32 hex digits that does not contain the IP", async () => {
    const id = await deriveVisitorId(base);
    expect(id).toMatch(/^v-[0-9a-f]{32}$/);
    expect(id).not.toContain("203");
  });

  it("is stable within a UTC day", async () => {
    const morning = await deriveVisitorId({ ...base, at: Date.UTC(2026, 10, 23, 0, 0, 1) });
    const night = await deriveVisitorId({ ...base, at: Date.UTC(2026, 10, 23, 23, 59, 59) });
    expect(morning).toBe(night);
  });

  it("rotates at UTC midnight", async () => {
    const before = await deriveVisitorId({ ...base, at: Date.UTC(2026, 10, 23, 23, 59, 59) });
    const after = await deriveVisitorId({ ...base, at: Date.UTC(2026, 10, 24, 0, 0, 0) });
    expect(before).not.toBe(after);
  });

  it("differs by site, IP, User-Agent and secret", async () => {
    const reference = await deriveVisitorId(base);
    for (const change of [
      { site: "other" },
      { ip: "203.0.113.8" },
      { userAgent: "UA/2.0" },
      { secret: "another-secret" },
    ]) {
      expect(await deriveVisitorId({ ...base, ...change })).not.toBe(reference);
    }
  });

  it("takes the day from the batch's earliest event, so a resend after midnight derives the same id", async () => {
    const lastMinute = Date.UTC(2026, 10, 23, 23, 59, 30);
    const batch = { events: [{ ts: lastMinute + 20_000 }, { ts: lastMinute }] };
    expect(visitorDayOf(batch)).toBe(lastMinute);
    // First sent before midnight, resent (same events, same timestamps) the next morning:
    // the receive time differs, the derived visitor and so the shard do not.
    const first = await deriveVisitorId({ ...base, at: visitorDayOf(batch) });
    const resent = await deriveVisitorId({ ...base, at: visitorDayOf({ events: [...batch.events] }) });
    expect(resent).toBe(first);
    expect(first).toBe(await deriveVisitorId({ ...base, at: Date.UTC(2026, 10, 23, 12, 0) }));
  });
});
