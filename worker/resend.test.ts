import { describe, expect, it } from "vitest";
import { isResend, RESEND_LAG_MS } from "./resend";

const at = 1_732_350_000_000;
const events = [{ ts: at - 300 }, { ts: at }, { ts: at - 100 }];

describe("isResend", () => {
  it("takes the client's word when the batch carries retry", () => {
    expect(isResend({ retry: 0, sent_at: at + 3_600_000, events })).toBe(false);
    expect(isResend({ retry: 1, sent_at: at, events })).toBe(true);
    expect(isResend({ retry: 7, sent_at: at, events })).toBe(true);
  });

  it("without retry, judges by how long after its newest event the batch was sent", () => {
    expect(isResend({ sent_at: at, events })).toBe(false);
    // A first send leaves within the SDK's 500 ms batch delay of its first event, so of its newest.
    expect(isResend({ sent_at: at + RESEND_LAG_MS, events })).toBe(false);
    // Any retry of that SDK waits at least 500 ms after a failed attempt that left after the newest event.
    expect(isResend({ sent_at: at + RESEND_LAG_MS + 1, events })).toBe(true);
    // A clock that went back between the events and the send: taken for a first send.
    expect(isResend({ sent_at: at - 60_000, events })).toBe(false);
  });
});
