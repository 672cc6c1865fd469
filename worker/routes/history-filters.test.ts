/**
 * Filters on `/v1/history/*` against the real ClickHouse engine: every dimension, `is_not`,
 * two filters ANDed, event answers and session answers, refused filters as 400s naming them,
 * values that stay values, and one site's filter never reaching another site's rows.
 *
 * Three sessions of one site, by hand:
 * - s1 (v1): Email / newsletter / june, DE desktop Chrome Linux, pages / and /p/mug, views,
 *   carts and buys the mug (20), and signs up with plan=pro, seats=3;
 * - s2 (v2): Organic Search from www.google.com (its source), US mobile Safari iOS, one page
 *   /blog/a (bounce);
 * - s3 (v3): Direct, FR desktop Firefox Windows, pages /, /pricing and /a:b, signs up with plan=free.
 * The other site has a session also called s2, on channel Email, with page /secret.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { errorResponseSchema } from "../../protocol";
import { historyChannelsSchema, historySourcesSchema } from "../../protocol/campaign-history";
import {
  historyPagesSchema,
  historySessionsSchema,
  historyTimeseriesSchema,
  historyResourceSchema,
} from "../../protocol/history";
import { campaignHistoryResourceSchema } from "../../protocol/campaign-history";
import { sessionPageHistoryResourceSchema } from "../../protocol/session-page-history";
import { eventRow, getJson, historyPath, sessionRow, testClickHouse } from "./history-fixture";

const SITE = "filter-shop";
const OTHER = "filter-other";
const TOKEN = "filter-shop-read-token-0123456789";
const OTHER_TOKEN = "filter-other-read-token-012345678";
const testEnv: Env = {
  ...env,
  WINDOW_SECONDS: "10",
  SITES: JSON.stringify([
    { key: SITE, origins: ["*"], token: TOKEN },
    { key: OTHER, origins: ["*"], token: OTHER_TOKEN },
  ]),
};
/** A fixed hour in the past that no other test writes to. */
const T0 = Date.UTC(2025, 7, 12, 9, 0, 0);
const RANGE = { site: SITE, from: T0, to: T0 + 3600_000 };

const get = (path: string, token: string | null = TOKEN) => getJson(testEnv, path, token);

async function pages(filters: string[]): Promise<[string, number][]> {
  const answer = await get(historyPath("pages", RANGE, filters));
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return historyPagesSchema.parse(answer.body).rows.map((row) => [row.path, row.views]);
}

const s1 = { visitor_id: "v1", session_id: "s1" };
const s2 = {
  visitor_id: "v2",
  session_id: "s2",
  referrer_host: "www.google.com",
  country: "US",
  device: "mobile",
  browser: "Safari",
  os: "iOS",
};
const s3 = { visitor_id: "v3", session_id: "s3", country: "FR", browser: "Firefox", os: "Windows" };
const newsletter = {
  channel: "Email",
  utm_source: "newsletter",
  utm_medium: "email",
  utm_campaign: "june",
  utm_term: "mugs",
  utm_content: "hero",
};

beforeAll(async () => {
  const clickhouse = testClickHouse();
  const items = JSON.stringify([{ product_id: "mug", name: "Mug", price: 20, quantity: 1 }]);
  await clickhouse.insert(
    "events",
    [
      eventRow(SITE, "f1", T0 + 1000, { ...s1, ...newsletter, path: "/" }),
      eventRow(SITE, "f2", T0 + 2000, { ...s1, path: "/p/mug" }),
      eventRow(SITE, "f3", T0 + 3000, {
        ...s1,
        type: "custom",
        name: "product_view",
        path: "/p/mug",
        props: JSON.stringify({ product_id: "mug", name: "Mug" }),
      }),
      eventRow(SITE, "f4", T0 + 4000, { ...s1, type: "cart", action: "add", path: "/p/mug", product_id: "mug" }),
      eventRow(SITE, "f5", T0 + 5000, { ...s1, type: "purchase", order_id: "o1", value: 20, currency: "EUR", items }),
      eventRow(SITE, "f6", T0 + 6000, {
        ...s1,
        type: "custom",
        name: "signup",
        path: "/p/mug",
        props: JSON.stringify({ plan: "pro", seats: 3 }),
      }),
      eventRow(SITE, "f7", T0 + 60_000, { ...s2, channel: "Organic Search", path: "/blog/a" }),
      eventRow(SITE, "f8", T0 + 120_000, { ...s3, channel: "Direct", path: "/" }),
      eventRow(SITE, "f9", T0 + 121_000, { ...s3, path: "/pricing" }),
      eventRow(SITE, "f10", T0 + 122_000, { ...s3, path: "/a:b" }),
      eventRow(SITE, "f11", T0 + 123_000, {
        ...s3,
        type: "custom",
        name: "signup",
        path: "/pricing",
        props: JSON.stringify({ plan: "free" }),
      }),
      eventRow(OTHER, "o1", T0 + 1000, { visitor_id: "w1", session_id: "s2", path: "/secret", channel: "Email" }),
    ],
    "history-filter-events",
  );
  await clickhouse.insert(
    "sessions",
    [
      sessionRow(SITE, "s1", T0 + 1000, {
        ...newsletter,
        visitor_id: "v1",
        entry_path: "/",
        exit_path: "/p/mug",
        page_views: 2,
        purchased: 1,
        revenue: 20,
      }),
      sessionRow(SITE, "s2", T0 + 60_000, {
        visitor_id: "v2",
        channel: "Organic Search",
        referrer_host: "www.google.com",
        entry_path: "/blog/a",
        exit_path: "/blog/a",
        bounced: 1,
        country: "US",
      }),
      sessionRow(SITE, "s3", T0 + 120_000, {
        visitor_id: "v3",
        channel: "Direct",
        entry_path: "/",
        exit_path: "/a:b",
        page_views: 3,
        country: "FR",
      }),
      sessionRow(OTHER, "s2", T0 + 1000, { visitor_id: "w1", channel: "Email", entry_path: "/secret" }),
    ],
    "history-filter-sessions",
  );
});

const S1_PAGES: [string, number][] = [
  ["/", 1],
  ["/p/mug", 1],
];
const S3_PAGES: [string, number][] = [
  ["/", 1],
  ["/a:b", 1],
  ["/pricing", 1],
];

describe("history filters", () => {
  it("answers the unfiltered pages of all three sessions", async () => {
    expect(await pages([])).toEqual([
      ["/", 2],
      ["/a:b", 1],
      ["/blog/a", 1],
      ["/p/mug", 1],
      ["/pricing", 1],
    ]);
  });

  it.each([
    ["page:is:/pricing", [["/pricing", 1]]],
    ["referrer:is:www.google.com", [["/blog/a", 1]]],
    ["country:is:US", [["/blog/a", 1]]],
    ["device:is:mobile", [["/blog/a", 1]]],
    ["browser:is:Firefox", S3_PAGES],
    ["os:is:Linux", S1_PAGES],
  ])("event attribute %s keeps the matching events", async (filter, expected) => {
    expect(await pages([filter])).toEqual(expected);
  });

  it.each([
    ["entry_page:is:/blog/a", [["/blog/a", 1]]],
    ["exit_page:is:/a:b", S3_PAGES],
    ["channel:is:Email", S1_PAGES],
    ["channel:is:Organic Search", [["/blog/a", 1]]],
    ["source:is:newsletter", S1_PAGES],
    ["source:is:www.google.com", [["/blog/a", 1]]],
    ["source:is:(direct)", S3_PAGES],
    ["utm_source:is:newsletter", S1_PAGES],
    ["utm_medium:is:email", S1_PAGES],
    ["utm_campaign:is:june", S1_PAGES],
    ["utm_term:is:mugs", S1_PAGES],
    ["utm_content:is:hero", S1_PAGES],
  ])("session attribute %s keeps the events of matching sessions", async (filter, expected) => {
    expect(await pages([filter])).toEqual(expected);
  });

  it.each([
    [
      "event:is:signup",
      [
        ["/", 2],
        ["/a:b", 1],
        ["/p/mug", 1],
        ["/pricing", 1],
      ],
    ],
    ["prop:is:plan=pro", S1_PAGES],
    ["prop:is:seats=3", S1_PAGES],
    ["prop:is:plan=free", S3_PAGES],
    ["product:is:mug", S1_PAGES],
  ])("occurrence %s keeps every event of the sessions that had one", async (filter, expected) => {
    expect(await pages([filter])).toEqual(expected);
  });

  it("is_not keeps the rest, per event for event attributes and per session for the others", async () => {
    expect(await pages(["country:is_not:DE"])).toEqual([
      ["/", 1],
      ["/a:b", 1],
      ["/blog/a", 1],
      ["/pricing", 1],
    ]);
    expect(await pages(["page:is_not:/"])).toEqual([
      ["/a:b", 1],
      ["/blog/a", 1],
      ["/p/mug", 1],
      ["/pricing", 1],
    ]);
    expect(await pages(["event:is_not:signup"])).toEqual([["/blog/a", 1]]);
    expect(await pages(["channel:is_not:Email"])).toEqual([
      ["/", 1],
      ["/a:b", 1],
      ["/blog/a", 1],
      ["/pricing", 1],
    ]);
  });

  it("source is the session's utm_source, else its referrer host, else (direct), as the Sources panel groups", async () => {
    // utm_source already holds what ref, source or a click id implied (worker/attribution/).
    expect(await pages(["source:is_not:(direct)"])).toEqual([
      ["/", 1],
      ["/blog/a", 1],
      ["/p/mug", 1],
    ]);
    // A session with a campaign source is not also counted under its referrer.
    expect(await pages(["source:is:www.google.com", "utm_source:is:"])).toEqual([["/blog/a", 1]]);
    const sources = historySourcesSchema.parse((await get(historyPath("sources", RANGE, []))).body);
    for (const row of sources.rows) {
      const filtered = historySourcesSchema.parse(
        (await get(historyPath("sources", RANGE, [`source:is:${row.source}`]))).body,
      );
      expect(filtered.rows).toEqual([row]);
    }
    expect(sources.rows.map((row) => row.source).sort()).toEqual(["(direct)", "newsletter", "www.google.com"]);
  });

  it("ANDs two filters", async () => {
    expect(await pages(["event:is:signup", "browser:is:Firefox"])).toEqual(S3_PAGES);
    expect(await pages(["event:is:signup", "channel:is:Email"])).toEqual(S1_PAGES);
    expect(await pages(["channel:is:Email", "country:is:US"])).toEqual([]);
  });

  it("filters session answers by the sessions' own attributes and by their events", async () => {
    const sessions = async (filters: string[]) =>
      historySessionsSchema.parse((await get(historyPath("sessions", RANGE, filters))).body);
    expect((await sessions([])).sessions).toBe(3);
    expect(await sessions(["country:is:US"])).toMatchObject({ sessions: 1, bounce_rate: 1 });
    expect((await sessions(["event:is:signup"])).sessions).toBe(2);
    expect((await sessions(["page:is_not:/pricing"])).sessions).toBe(2);
    expect((await sessions(["entry_page:is:/", "prop:is:plan=free"])).sessions).toBe(1);
    const channels = historyChannelsSchema.parse((await get(historyPath("channels", RANGE, ["event:is:signup"]))).body);
    expect(channels.rows.map((row) => [row.channel, row.sessions, row.revenue])).toEqual([
      ["Direct", 1, 0],
      ["Email", 1, 20],
    ]);
  });

  it("filters a timeseries from the events: counts, visitors, sessions, carts and revenue", async () => {
    const answer = historyTimeseriesSchema.parse(
      (await get(historyPath("timeseries", { ...RANGE, interval: 3600 }, ["channel:is:Email"]))).body,
    );
    expect(answer.points).toEqual([
      {
        start: T0,
        events: 6,
        page_views: 2,
        visitors: 1,
        sessions: 1,
        bounces: 0,
        cart_adds: 1,
        checkouts: 0,
        purchases: 1,
        revenue: 20,
      },
    ]);
    const bounced = historyTimeseriesSchema.parse(
      (await get(historyPath("timeseries", { ...RANGE, interval: 3600 }, ["country:is:US"]))).body,
    );
    expect(bounced.points.map((point) => [point.events, point.sessions, point.bounces])).toEqual([[1, 1, 1]]);
  });

  it.each([
    ...historyResourceSchema.options,
    ...campaignHistoryResourceSchema.options,
    ...sessionPageHistoryResourceSchema.options,
    "goals",
  ])("%s answers with filters of every kind", async (resource) => {
    const answer = await get(
      historyPath(resource, RANGE, ["channel:is:Email", "event:is:signup", "country:is_not:US"]),
    );
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(JSON.stringify(answer.body)).not.toContain("secret");
  });

  it("keeps a value with colons and quotes a value, never SQL", async () => {
    expect(await pages(["page:is:/a:b"])).toEqual([["/a:b", 1]]);
    expect(await pages(["page:is:/' OR 1=1 --"])).toEqual([]);
    expect(await pages(["channel:is:Email') OR ('1'='1"])).toEqual([]);
    expect(await pages(["prop:is:plan=pro' OR '1'='1"])).toEqual([]);
    expect(await pages(["page:is:/\\'\t\n\u0000\"é}{x:String}"])).toEqual([]);
  });

  it("never matches another site's rows, even a session of the same id", async () => {
    // The other site's s2 is on Email; this site's s2 is not.
    expect(await pages(["channel:is:Email"])).toEqual(S1_PAGES);
    const other = historyPagesSchema.parse(
      (await get(historyPath("pages", { ...RANGE, site: OTHER }, ["channel:is:Email"]), OTHER_TOKEN)).body,
    );
    expect(other.rows.map((row) => row.path)).toEqual(["/secret"]);
  });

  it.each([
    ["nope:is:x", "filter.0", "unknown dimension"],
    ["page:equals:/", "filter.0", "unknown op"],
    ["page:is", "filter.0", "must be <dimension>:<op>:<value>"],
    ["page", "filter.0", "must be <dimension>:<op>:<value>"],
    ["prop:is:no-equals-sign", "filter.0", "key=value"],
    [`page:is:/${"x".repeat(500)}`, "filter.0", "at most 500 characters"],
  ])("refuses %s with a 400 naming it", async (filter, path, message) => {
    const answer = await get(historyPath("pages", RANGE, [filter]));
    expect(answer.status).toBe(400);
    const issues = errorResponseSchema.parse(answer.body).error.issues ?? [];
    expect(issues.map((issue) => issue.path)).toEqual([path]);
    expect(issues[0]?.message).toContain(message);
    expect(issues[0]?.message).toContain(filter.slice(0, 20));
  });

  it("refuses more than ten filters, on every route", async () => {
    const eleven = Array.from({ length: 11 }, (_, index) => `page:is:/${index}`);
    for (const resource of ["pages", "channels", "timeseries", "entry-pages", "goals"]) {
      const answer = await get(historyPath(resource, RANGE, eleven));
      expect(answer.status).toBe(400);
      const error = errorResponseSchema.parse(answer.body).error;
      expect(error.issues?.[0]?.path).toBe("filter");
      expect(error.message).toBe("invalid filter: at most 10 filters; got 11");
    }
    expect((await get(historyPath("pages", RANGE, eleven.slice(1)))).status).toBe(200);
  });
});
