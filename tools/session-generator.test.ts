import { describe, expect, it } from "vitest";
import { batchSchema, type EventInput } from "../protocol";
import { campaignAttributionOf } from "../worker/attribution/campaign-params";
import { rebaseBatch, SessionGenerator, sessionToBatches } from "./session-generator";

const START = Date.UTC(2026, 10, 23, 10);

function sessions(count: number, options: ConstructorParameters<typeof SessionGenerator>[0] = {}) {
  const generator = new SessionGenerator({ seed: 42, ...options });
  let clock = START;
  return Array.from({ length: count }, () => {
    clock += generator.nextArrivalGapMs();
    return generator.nextSession(Math.round(clock));
  });
}

describe("SessionGenerator", () => {
  it("is deterministic for a seed", () => {
    expect(sessions(20)).toEqual(sessions(20));
    expect(sessions(20, { seed: 43 })).not.toEqual(sessions(20));
  });

  it("produces batches the collector's own schema accepts, in time order", () => {
    const generated = sessions(300, { sites: ["demo", "shop-b"] });
    let batches = 0;
    for (const session of generated) {
      const timestamps = session.events.map((event) => event.ts);
      expect(timestamps).toEqual([...timestamps].sort((a, b) => a - b));
      for (const batch of sessionToBatches(session)) {
        const parsed = batchSchema.safeParse(batch);
        if (!parsed.success) throw new Error(`${JSON.stringify(batch)}\n${parsed.error.message}`);
        expect(batch.events.length).toBeLessThanOrEqual(20);
        batches++;
      }
    }
    expect(batches).toBeGreaterThan(300);
  });

  it("looks like shop traffic: page depth, funnel, Zipf products, vitals, spread visitors", () => {
    const generated = sessions(3000, { sites: ["a", "b", "c"] });
    const all = generated.flatMap((session) => session.events);
    const ofType = <T extends EventInput["type"]>(type: T) =>
      all.filter((event): event is Extract<EventInput, { type: T }> => event.type === type);
    const pageViews = ofType("page_view");
    // Geometric page depth, mean 5, plus the checkout pages of some sessions.
    expect(pageViews.length / generated.length).toBeGreaterThan(4.5);
    expect(pageViews.length / generated.length).toBeLessThan(6);
    expect(generated.some((session) => session.events.filter((event) => event.type === "page_view").length === 1)).toBe(
      true,
    );

    const adds = ofType("cart").filter((event) => event.action === "add").length;
    const checkouts = ofType("cart").filter((event) => event.action === "checkout").length;
    const purchases = ofType("purchase").length;
    expect(adds).toBeGreaterThan(checkouts);
    expect(checkouts).toBeGreaterThan(purchases);
    expect(purchases).toBeGreaterThan(0);
    for (const session of generated) {
      const types = session.events.map((event) => (event.type === "cart" ? `cart:${event.action}` : event.type));
      const purchase = types.indexOf("purchase");
      if (purchase >= 0) expect(types.indexOf("cart:checkout")).toBeLessThan(purchase);
      if (types.includes("cart:checkout")) expect(types.indexOf("cart:add")).toBeGreaterThanOrEqual(0);
    }

    // Zipf popularity: the top product is viewed far more than the median one.
    const views = new Map<string, number>();
    for (const event of ofType("custom")) {
      expect(event.name).toBe("product_view");
      const id = String(event.props?.product_id);
      views.set(id, (views.get(id) ?? 0) + 1);
    }
    const ranked = [...views.values()].sort((a, b) => b - a);
    expect(ranked[0]).toBeGreaterThan((ranked[Math.floor(ranked.length / 2)] ?? 0) * 10);

    // Vitals: every page reports LCP/FCP/TTFB/CLS; LCP ≥ FCP ≥ TTFB on a page; CLS mostly small.
    const vitals = ofType("vital");
    const lcp = vitals
      .filter((event) => event.metric === "LCP")
      .map((event) => event.value)
      .sort((a, b) => a - b);
    expect(lcp.length).toBe(pageViews.length);
    expect(lcp[Math.floor(lcp.length / 2)]).toBeGreaterThan(1000);
    expect(lcp[Math.floor(lcp.length / 2)]).toBeLessThan(3000);
    const cls = vitals.filter((event) => event.metric === "CLS").map((event) => event.value);
    expect(cls.filter((value) => value < 0.1).length / cls.length).toBeGreaterThan(0.7);
    expect(vitals.some((event) => event.metric === "INP")).toBe(true);

    // Many visitors over every site, and each session on one site and one visitor.
    expect(new Set(generated.map((session) => session.visitor)).size).toBeGreaterThan(2500);
    expect(new Set(generated.map((session) => session.site))).toEqual(new Set(["a", "b", "c"]));
    expect(new Set(generated.map((session) => session.session)).size).toBe(generated.length);
    expect(pageViews.filter((event) => event.referrer?.includes("google")).length).toBeGreaterThan(0);
  });

  it("brings campaign traffic: several UTM campaigns and every common channel, tagged on the landing page only", () => {
    const generated = sessions(2000);
    const channels = new Map<string, number>();
    const campaigns = new Set<string>();
    for (const session of generated) {
      const [landing, ...rest] = session.events.filter((event) => event.type === "page_view");
      if (landing?.type !== "page_view") continue;
      const attribution = campaignAttributionOf(
        landing.url,
        landing.referrer === undefined ? "" : new URL(landing.referrer).hostname,
      );
      channels.set(attribution.channel, (channels.get(attribution.channel) ?? 0) + 1);
      if (attribution.utm_campaign !== "") campaigns.add(attribution.utm_campaign);
      for (const page of rest) if (page.type === "page_view") expect(page.url).not.toMatch(/utm_|clid/);
    }
    expect(campaigns.size).toBeGreaterThanOrEqual(5);
    for (const channel of [
      "Direct",
      "Organic Search",
      "Paid Search",
      "Organic Social",
      "Paid Social",
      "Email",
      "Affiliates",
      "Display",
      "Referral",
      "Organic Video",
      "SMS",
    ]) {
      expect(channels.get(channel) ?? 0, channel).toBeGreaterThan(0);
    }
  });

  it("arrives as a Poisson process at the configured rate", () => {
    const generator = new SessionGenerator({ seed: 5, sessionsPerSecond: 4 });
    let total = 0;
    for (let index = 0; index < 4000; index++) total += generator.nextArrivalGapMs();
    expect(total / 4000).toBeGreaterThan(240);
    expect(total / 4000).toBeLessThan(260);
  });
});

function longSession() {
  const [session] = sessions(1, { behaviour: { meanPagesPerSession: 12 } });
  if (session === undefined) throw new Error("no session");
  return session;
}

describe("sessionToBatches", () => {
  const session = longSession();

  it("splits on the count trigger, keeps every event once, and gives unique batch ids", () => {
    const batches = sessionToBatches(session, { maxEvents: 7 });
    expect(batches.flatMap((batch) => batch.events)).toEqual(session.events);
    expect(batches.every((batch) => batch.events.length <= 7)).toBe(true);
    expect(new Set(batches.map((batch) => batch.batch)).size).toBe(batches.length);
    expect(batches.every((batch) => batch.visitor === session.visitor && batch.session === session.session)).toBe(true);
  });

  it("flushes at page changes when asked, and can leave the session to the collector", () => {
    const batches = sessionToBatches(session, { flushOnPageHide: true, includeSession: false });
    expect(batches.every((batch) => batch.events[0]?.type === "page_view")).toBe(true);
    expect(batches.every((batch) => batch.session === undefined)).toBe(true);
  });
});

describe("rebaseBatch", () => {
  it("moves the batch to the send time, keeping order and squeezing long spans", () => {
    const [batch] = sessionToBatches(longSession(), { maxEvents: 100 });
    if (batch === undefined) throw new Error("no batch");
    const sentAt = Date.UTC(2026, 10, 24);
    const rebased = rebaseBatch(batch, sentAt, 2000);
    const timestamps = rebased.events.map((event) => event.ts);
    expect(rebased.sent_at).toBe(sentAt);
    expect(timestamps.at(-1)).toBe(sentAt);
    expect(timestamps[0]).toBeGreaterThanOrEqual(sentAt - 2000);
    expect(timestamps).toEqual([...timestamps].sort((a, b) => a - b));
    expect(batchSchema.safeParse(rebased).success).toBe(true);
  });
});
