/**
 * `GET /v1/live/filtered` against the real ClickHouse engine, with rows inserted a few seconds
 * before "now" (the route reads the current windows and the site's current day):
 *
 * - s1 (v1): enters on / from the newsletter (Email, source newsletter), DE desktop, then views
 *   /p/mug (a later page view of its own, Direct), adds the mug to the cart and buys it (20
 *   EUR). Still open: no `sessions` row, so its channel comes from its events.
 * - s2 (v2): one page, /blog/a, from www.google.com (Organic Search), US mobile; closed as a
 *   bounce (a `sessions` row).
 * - s3 (v3): / then /pricing, Direct, FR desktop; open.
 * - s4 (v4): no page view, one custom event on /ping: Direct and "(direct)", as its row would say.
 * The other site has a session also called s2, on Email, DE, with the page /secret.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { errorResponseSchema } from "../../protocol";
import { type LiveFilteredAnswer, liveFilteredAnswerSchema } from "../../protocol/live-filtered";
import { eventRow, getJson, sessionRow, testClickHouse } from "./history-fixture";

const SITE = "live-filter-shop";
const OTHER = "live-filter-other";
const TOKEN = "live-filter-shop-read-token-0123";
const OTHER_TOKEN = "live-filter-other-read-token-012";
const TOKYO = "live-filter-tokyo";
const TOKYO_TOKEN = "live-filter-tokyo-read-token-012";
const testEnv: Env = {
  ...env,
  WINDOW_SECONDS: "10",
  SITES: JSON.stringify([
    { key: SITE, origins: ["*"], token: TOKEN },
    { key: OTHER, origins: ["*"], token: OTHER_TOKEN },
    { key: TOKYO, origins: ["*"], token: TOKYO_TOKEN, time_zone: "Asia/Tokyo" },
  ]),
};

/** Far enough in the past that every row is in the current windows and today (UTC), unless today began just now. */
const NOW = Date.now();
const at = (secondsAgo: number) => NOW - secondsAgo * 1000;

const get = (path: string, token: string | null = TOKEN, over: Env = testEnv) => getJson(over, path, token);

function livePath(filters: readonly string[], params: Record<string, string> = {}): string {
  const search = new URLSearchParams({ site: SITE, ...params });
  for (const filter of filters) search.append("filter", filter);
  return `/v1/live/filtered?${search}`;
}

async function live(filters: readonly string[]): Promise<LiveFilteredAnswer> {
  const answer = await get(livePath(filters));
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return liveFilteredAnswerSchema.parse(answer.body);
}

const s1 = { visitor_id: "v1", session_id: "s1" };
const s2 = { visitor_id: "v2", session_id: "s2", country: "US", device: "mobile", browser: "Safari", os: "iOS" };
const s3 = { visitor_id: "v3", session_id: "s3", country: "FR" };

beforeAll(async () => {
  const clickhouse = testClickHouse();
  const items = JSON.stringify([{ product_id: "mug", name: "Mug", price: 20, quantity: 1 }]);
  await clickhouse.insert(
    "events",
    [
      eventRow(SITE, "l1", at(40), {
        ...s1,
        path: "/",
        channel: "Email",
        utm_source: "newsletter",
        utm_medium: "email",
        utm_campaign: "june",
      }),
      eventRow(SITE, "l2", at(38), { ...s1, path: "/p/mug", channel: "Direct" }),
      eventRow(SITE, "l3", at(36), { ...s1, type: "cart", action: "add", path: "/p/mug", product_id: "mug" }),
      eventRow(SITE, "l4", at(34), { ...s1, type: "purchase", order_id: "o1", value: 20, currency: "EUR", items }),
      eventRow(SITE, "l5", at(20), {
        ...s2,
        path: "/blog/a",
        referrer_host: "www.google.com",
        channel: "Organic Search",
      }),
      eventRow(SITE, "l6", at(12), { ...s3, path: "/", channel: "Direct" }),
      eventRow(SITE, "l7", at(11), { ...s3, path: "/pricing", channel: "Direct" }),
      eventRow(SITE, "l8", at(8), { visitor_id: "v4", session_id: "s4", type: "custom", name: "ping", path: "/ping" }),
      eventRow(TOKYO, "t1", at(3), { visitor_id: "k1", session_id: "k1", path: "/jp" }),
      eventRow(OTHER, "o1", at(5), { visitor_id: "w1", session_id: "s2", path: "/secret", channel: "Email" }),
    ],
    `live-filtered-events-${NOW}`,
  );
  await clickhouse.insert(
    "sessions",
    [
      sessionRow(SITE, "s2", at(20), {
        visitor_id: "v2",
        channel: "Organic Search",
        referrer_host: "www.google.com",
        entry_path: "/blog/a",
        exit_path: "/blog/a",
        bounced: 1,
        country: "US",
      }),
    ],
    `live-filtered-sessions-${NOW}`,
  );
});

const pagesOf = (answer: LiveFilteredAnswer) => answer.overview.top_pages.map((row) => [row.path, row.views]);

describe("GET /v1/live/filtered", () => {
  it("answers the live shape for all traffic without filters, from ClickHouse", async () => {
    const answer = await live([]);
    expect(answer).toMatchObject({
      site: SITE,
      source: "clickhouse",
      window_seconds: 10,
      time_zone: "UTC",
      filters: [],
    });
    expect(answer.flush_max_age_ms).toBe(2000);
    expect(answer.totals).toMatchObject({
      events: 8,
      page_views: 5,
      visitors: 4,
      sessions: 4,
      bounces: 1,
      cart_adds: 1,
      purchases: 1,
      revenue: 20,
      revenue_by_currency: { EUR: 20 },
    });
    expect(answer.online).toBe(4);
    expect(answer.overview.day).toBe(new Date(answer.at).toISOString().slice(0, 10));
    expect(pagesOf(answer)).toEqual([
      ["/", 2],
      ["/blog/a", 1],
      ["/p/mug", 1],
      ["/pricing", 1],
    ]);
    expect(answer.overview.top_referrers).toEqual([{ host: "www.google.com", visits: 1 }]);
    expect(answer.overview.top_products.map((row) => [row.product_id, row.purchases, row.revenue])).toEqual([
      ["mug", 1, 20],
    ]);
    // Every row is in the last minute, so the windows add up to today's totals.
    expect(answer.windows.reduce((sum, window) => sum + window.page_views, 0)).toBe(5);
    expect(answer.windows.every((window) => window.end - window.start === 10_000)).toBe(true);
    expect([...answer.windows].sort((a, b) => b.start - a.start)).toEqual(answer.windows);
  });

  it("channel and source filters match open sessions by their first page view", async () => {
    const email = await live(["channel:is:Email"]);
    // s1's second page view is Direct by itself, but the session entered from the newsletter.
    expect(email.totals).toMatchObject({
      events: 4,
      page_views: 2,
      visitors: 1,
      sessions: 1,
      purchases: 1,
      revenue: 20,
    });
    expect(email.online).toBe(1);
    expect(pagesOf(email)).toEqual([
      ["/", 1],
      ["/p/mug", 1],
    ]);
    expect(email.overview.funnel).toMatchObject({ sessions: 1, cart_adds: 0, purchases: 0 });
    expect(email.filters).toEqual(["channel:is:Email"]);
    expect((await live(["source:is:newsletter"])).totals.page_views).toBe(2);
    const google = await live(["source:is:www.google.com"]);
    expect(google.totals).toMatchObject({ page_views: 1, visitors: 1, bounces: 1 });
    expect(pagesOf(google)).toEqual([["/blog/a", 1]]);
    expect(pagesOf(await live(["source:is:(direct)"]))).toEqual([
      ["/", 1],
      ["/pricing", 1],
    ]);
    expect((await live(["channel:is_not:Email"])).totals.page_views).toBe(3);
    expect((await live(["utm_campaign:is:june"])).totals.page_views).toBe(2);
    expect((await live(["entry_page:is:/"])).totals.sessions).toBe(2);
  });

  it("counts a session without a page view as Direct, (direct) and without pages", async () => {
    expect((await live(["channel:is:Direct"])).totals).toMatchObject({ events: 3, page_views: 2, sessions: 2 });
    expect((await live(["channel:is_not:Direct"])).totals).toMatchObject({ page_views: 3, sessions: 2 });
    expect((await live(["source:is:(direct)"])).totals.sessions).toBe(2);
    expect((await live(["source:is_not:(direct)"])).totals.sessions).toBe(2);
    expect((await live(["entry_page:is:"])).totals).toMatchObject({ events: 1, sessions: 1 });
    expect((await live(["utm_source:is:"])).totals.sessions).toBe(3);
    expect((await live(["exit_page:is:/pricing"])).totals.sessions).toBe(1);
  });

  it.each([
    ["page:is:/", 2, 2],
    ["page:is_not:/", 3, 4],
    ["country:is:US", 1, 1],
    ["country:is:FR", 2, 1],
    ["device:is:mobile", 1, 1],
    ["device:is_not:mobile", 4, 3],
  ])("event attribute %s counts the matching events", async (filter, pageViews, visitors) => {
    const answer = await live([filter]);
    expect(answer.totals.page_views).toBe(pageViews);
    expect(answer.totals.visitors).toBe(visitors);
    expect(answer.windows.reduce((sum, window) => sum + window.page_views, 0)).toBe(pageViews);
  });

  it("ANDs filters", async () => {
    expect((await live(["channel:is:Direct", "page:is:/pricing"])).totals.page_views).toBe(1);
    expect((await live(["channel:is:Email", "country:is:US"])).totals.events).toBe(0);
    expect((await live(["product:is:mug"])).totals.page_views).toBe(2);
  });

  it("never counts another site's rows, even a session of the same id", async () => {
    // The other site's s2 is on Email; were it matched by id, this site's s2 would count.
    const email = await live(["channel:is:Email"]);
    expect(JSON.stringify(email)).not.toContain("secret");
    expect(email.totals.page_views).toBe(2);
    const all = await live([]);
    expect(JSON.stringify(all)).not.toContain("secret");
    const other = await get(`/v1/live/filtered?site=${OTHER}&filter=channel:is:Email`, OTHER_TOKEN);
    expect(liveFilteredAnswerSchema.parse(other.body).totals).toMatchObject({ page_views: 1, visitors: 1 });
  });

  it("counts today in the site's time zone and says which", async () => {
    const answer = liveFilteredAnswerSchema.parse(
      (await get(`/v1/live/filtered?site=${TOKYO}&filter=page:is:/jp`, TOKYO_TOKEN)).body,
    );
    expect(answer.time_zone).toBe("Asia/Tokyo");
    expect(answer.overview.day).toBe(new Date(answer.at + 9 * 3600_000).toISOString().slice(0, 10));
    expect(answer.performance.day).toBe(answer.overview.day);
    expect(answer.totals.page_views).toBe(1);
  });

  it("keeps values values, never SQL", async () => {
    for (const value of ["/' OR 1=1 --", "Email') OR ('1'='1", "{site:String}"]) {
      const answer = await live([`page:is:${value}`, `channel:is:${value}`]);
      expect(answer.totals.events).toBe(0);
    }
  });

  it.each([
    ["nope:is:x", "filter.0", "unknown dimension"],
    ["page:equals:/", "filter.0", "unknown op"],
    ["page:is", "filter.0", "must be <dimension>:<op>:<value>"],
    ["prop:is:no-equals-sign", "filter.0", "key=value"],
    [`page:is:/${"x".repeat(500)}`, "filter.0", "at most 500 characters"],
  ])("refuses the filter %s with a 400 naming it", async (filter, path, message) => {
    const answer = await get(livePath([filter]));
    expect(answer.status).toBe(400);
    const error = errorResponseSchema.parse(answer.body).error;
    expect(error.code).toBe("invalid_payload");
    expect(error.issues?.map((issue) => issue.path)).toEqual([path]);
    expect(error.issues?.[0]?.message).toContain(message);
  });

  it("refuses more than ten filters", async () => {
    const eleven = Array.from({ length: 11 }, (_, index) => `page:is:/${index}`);
    const answer = await get(livePath(eleven));
    expect(answer.status).toBe(400);
    expect(errorResponseSchema.parse(answer.body).error.issues?.[0]?.path).toBe("filter");
  });

  it.each([
    ["no token", livePath([]), null, 401, "unauthorized"],
    ["another site's token", livePath([]), OTHER_TOKEN, 403, "forbidden"],
    ["a malformed site key", "/v1/live/filtered?site=Not%20A%20Site", TOKEN, 400, "invalid_payload"],
    ["no site", "/v1/live/filtered", TOKEN, 400, "invalid_payload"],
    ["a site nobody configured", "/v1/live/filtered?site=nobody-here", "dev-admin-token", 403, "unknown_site"],
    ["limit 0", livePath([], { limit: "0" }), TOKEN, 400, "invalid_payload"],
    ["limit 51", livePath([], { limit: "51" }), TOKEN, 400, "invalid_payload"],
  ])("refuses %s", async (_what, path, token, status, code) => {
    const answer = await get(path, token);
    expect(answer.status).toBe(status);
    expect(errorResponseSchema.parse(answer.body).error.code).toBe(code);
  });

  it("answers 503 when ClickHouse is not configured or not reachable, never a 500", async () => {
    const missing = await get(livePath(["channel:is:Email"]), TOKEN, { ...testEnv, CLICKHOUSE_URL: "" });
    expect(missing.status).toBe(503);
    const down = await get(livePath(["channel:is:Email"]), TOKEN, { ...testEnv, CLICKHOUSE_URL: "http://127.0.0.1:9" });
    expect(down.status).toBe(503);
    expect(errorResponseSchema.parse(down.body).error.code).toBe("unavailable");
  });
});
