import { describe, expect, it } from "vitest";
import {
  cartAdd,
  cartRemove,
  checkout,
  enrichedBatch,
  enrichedEvent,
  pageView,
  productView,
  purchase,
} from "./enriched-fixture";
import {
  applyEventToSession,
  chooseSession,
  funnelDepth,
  isAbandonedCart,
  isBounce,
  isSessionIdle,
  newSessionState,
  restoredSessionState,
  type SessionState,
  toSessionRow,
} from "./session-state";

const idleMs = 30 * 60 * 1000;
const t0 = Date.UTC(2026, 10, 23, 10, 0, 0);

function sessionAt(ts: number) {
  const session = newSessionState("s-1", true, enrichedBatch("shop", []), ts);
  applyEventToSession(session, pageView(ts, "/"));
  return session;
}

describe("session assignment", () => {
  it("starts a session for a visitor without one", () => {
    expect(chooseSession(null, t0, idleMs)).toEqual({ kind: "new", supersedes: false });
  });

  it("joins the open session within the idle gap, in either direction", () => {
    const open = sessionAt(t0);
    expect(chooseSession(open, t0 + idleMs, idleMs)).toEqual({ kind: "join" });
    expect(chooseSession(open, t0 - idleMs, idleMs)).toEqual({ kind: "join" });
  });

  it("starts a new session after the idle gap by event time, ending the open one", () => {
    expect(chooseSession(sessionAt(t0), t0 + idleMs + 1, idleMs)).toEqual({ kind: "new", supersedes: true });
  });

  it("gives a late event from an earlier visit a session of its own, leaving the open one", () => {
    expect(chooseSession(sessionAt(t0), t0 - idleMs - 1, idleMs)).toEqual({ kind: "new", supersedes: false });
  });
});

describe("session state", () => {
  it("tracks entry/exit by event time whatever the arrival order, and the funnel steps once each", () => {
    const session = newSessionState("s-2", true, enrichedBatch("shop", []), t0 + 5_000);
    applyEventToSession(session, pageView(t0 + 5_000, "/p/2"));
    applyEventToSession(session, pageView(t0 + 9_000, "/cart"));
    applyEventToSession(session, pageView(t0, "/", "google.com"));
    expect(session).toMatchObject({
      started_at: t0,
      last_seen: t0 + 9_000,
      entry_path: "/",
      exit_path: "/cart",
      referrer_host: "google.com",
      page_views: 3,
    });

    expect(applyEventToSession(session, productView(t0 + 1, "sku-1")).product_view).toBe(true);
    expect(applyEventToSession(session, productView(t0 + 2, "sku-2")).product_view).toBe(false);
    expect(applyEventToSession(session, cartAdd(t0 + 3, "sku-1", 10, 2)).cart_add).toBe(true);
    expect(applyEventToSession(session, cartAdd(t0 + 4, "sku-2", 5)).cart_add).toBe(false);
    applyEventToSession(session, cartRemove(t0 + 5, "sku-2", 5));
    expect(session.cart_units).toBe(200_000);
    expect(applyEventToSession(session, checkout(t0 + 6, 20)).checkout).toBe(true);
    expect(isAbandonedCart(session)).toBe(true);
    expect(applyEventToSession(session, purchase(t0 + 7, 20, "EUR")).purchase).toBe(true);
    expect(isAbandonedCart(session)).toBe(false);
  });

  it("counts a funnel step only once every earlier step is reached, whatever the arrival order", () => {
    const session = newSessionState("s-3", true, enrichedBatch("shop", []), t0);
    const steps = (reached: ReturnType<typeof applyEventToSession>) =>
      [reached.product_view, reached.cart_add, reached.checkout, reached.purchase].map(Number).join("");
    expect(steps(applyEventToSession(session, purchase(t0 + 4, 20, "EUR")))).toBe("0000");
    expect(steps(applyEventToSession(session, cartAdd(t0 + 2, "sku-1", 10)))).toBe("0000");
    expect(funnelDepth(session)).toBe(0);
    // The product view completes step 1 and the cart add already seen completes step 2.
    expect(steps(applyEventToSession(session, productView(t0 + 1, "sku-1")))).toBe("1100");
    // The checkout completes step 3, and the purchase already seen completes step 4.
    expect(steps(applyEventToSession(session, checkout(t0 + 3, 20)))).toBe("0011");
    expect(funnelDepth(session)).toBe(4);
    expect(steps(applyEventToSession(session, purchase(t0 + 5, 20, "EUR")))).toBe("0000");
  });

  it("is a bounce with exactly one page view, and idle by wall clock after the idle gap", () => {
    const session = sessionAt(t0);
    expect(isBounce(session)).toBe(true);
    expect(isSessionIdle(session, t0 + idleMs, idleMs)).toBe(false);
    expect(isSessionIdle(session, t0 + idleMs + 1, idleMs)).toBe(true);
    applyEventToSession(session, pageView(t0 + 1_000, "/next"));
    expect(isBounce(session)).toBe(false);
  });

  it("becomes a sessions row with durations in seconds and money in currency units", () => {
    const session = sessionAt(t0);
    applyEventToSession(session, cartAdd(t0 + 65_400, "sku-1", 0.1, 3));
    const row = toSessionRow("shop", 3, session);
    expect(row).toMatchObject({
      site: "shop",
      shard: 3,
      session_id: "s-1",
      visitor_id: "v-1",
      started_at: "2026-11-23 10:00:00.000",
      ended_at: "2026-11-23 10:01:05.400",
      duration: 65,
      events: 2,
      page_views: 1,
      bounced: 1,
      cart_adds: 1,
      cart_value: 0.3,
      purchased: 0,
      country: "DE",
    });
  });
});

describe("first touch", () => {
  const campaignView = (ts: number, path: string, campaign: string, channel: string) =>
    enrichedEvent({
      type: "page_view",
      ts,
      url: `https://shop.example${path}`,
      path,
      utm_source: "newsletter",
      utm_medium: "email",
      utm_campaign: campaign,
      utm_term: "t",
      utm_content: "c",
      channel,
    });

  it("is the entry page view's campaign and channel, and a later page view does not change it", () => {
    const session = newSessionState("s-ft", true, enrichedBatch("shop", []), t0);
    expect(toSessionRow("shop", 0, session).channel).toBe("Direct");
    applyEventToSession(session, campaignView(t0, "/", "june", "Email"));
    applyEventToSession(session, pageView(t0 + 1000, "/p/1"));
    expect(toSessionRow("shop", 0, session)).toMatchObject({
      utm_source: "newsletter",
      utm_medium: "email",
      utm_campaign: "june",
      utm_term: "t",
      utm_content: "c",
      channel: "Email",
    });
  });

  it("moves to a page view that arrives late but happened earlier (the real entry)", () => {
    const session = newSessionState("s-late", true, enrichedBatch("shop", []), t0);
    applyEventToSession(session, pageView(t0 + 5000, "/p/1"));
    applyEventToSession(session, campaignView(t0, "/", "spring", "Paid Search"));
    expect(toSessionRow("shop", 0, session)).toMatchObject({
      entry_path: "/",
      utm_campaign: "spring",
      channel: "Paid Search",
    });
  });

  it("reads as Direct with no campaign for a session stored before first touch existed", () => {
    const {
      utm_source: _s,
      utm_medium: _m,
      utm_campaign: _c,
      utm_term: _t,
      utm_content: _co,
      channel: _ch,
      ...stored
    } = sessionAt(t0);
    const restored = restoredSessionState(stored as SessionState);
    expect(toSessionRow("shop", 0, restored)).toMatchObject({
      utm_source: "",
      utm_campaign: "",
      channel: "Direct",
      entry_path: "/",
    });
  });
});
