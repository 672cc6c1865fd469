/**
 * `/v1/history/*` against the real ClickHouse engine: auth, parameter validation, every
 * resource's answer for known rows, and that one site never sees another's rows.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createClickHouse } from "../../clickhouse/client";
import { type EventRow, type SessionRow, toDateTime } from "../../clickhouse/rows";
import { eventRow, sessionRow } from "../../test/support/clickhouse-rows";
import { errorResponseSchema } from "../../protocol";
import {
  historyCountriesSchema,
  historyDevicesSchema,
  historyFunnelSchema,
  historyPagesSchema,
  historyProductsSchema,
  historyReferrersSchema,
  historySessionsSchema,
  historyTimeseriesSchema,
  historyVitalsSchema,
} from "../../protocol/history";
import { app } from "../app";

const SITE = "history-shop";
const OTHER = "history-other";
const TOKEN = "history-shop-read-token-0123456789";
const OTHER_TOKEN = "history-other-read-token-012345678";
const testEnv: Env = {
  ...env,
  WINDOW_SECONDS: "10",
  SITES: JSON.stringify([
    { key: SITE, origins: ["*"], token: TOKEN },
    { key: OTHER, origins: ["*"], token: OTHER_TOKEN },
  ]),
};
/** A fixed hour in the past, so no other test's rows fall into the range. */
const T0 = Date.UTC(2025, 2, 3, 10, 0, 0);
const RANGE = { from: T0, to: T0 + 3600_000 };

async function get(path: string, token: string | null = TOKEN): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = token === null ? {} : { Authorization: `Bearer ${token}` };
  const response = await app.fetch(new Request(`http://collector.test${path}`, { headers }), testEnv);
  return { status: response.status, body: await response.json() };
}

function query(resource: string, params: Record<string, string | number> = {}): string {
  const search = new URLSearchParams(
    Object.entries({ site: SITE, ...RANGE, ...params }).map(([key, value]) => [key, String(value)]),
  );
  return `/v1/history/${resource}?${search}`;
}

const event = (site: string, id: string, ts: number, fields: Partial<EventRow>) =>
  eventRow(site, id, ts, { batch_id: "hb", ...fields });

function windowRow(
  site: string,
  start: number,
  counts: { events: number; page_views: number; visitors: number; sessions: number; purchases?: number },
) {
  return {
    site,
    window_start: toDateTime(start),
    window_seconds: 10,
    currency: "",
    bounces: 0,
    cart_adds: 0,
    cart_removes: 0,
    checkouts: 0,
    purchases: 0,
    revenue: 0,
    ...counts,
  };
}

const session = (site: string, id: string, fields: Partial<SessionRow>) =>
  sessionRow(site, id, T0 + 1000, { exit_path: "/p/mug", product_views: 1, currency: "EUR", ...fields });

beforeAll(async () => {
  const clickhouse = createClickHouse({
    url: env.CLICKHOUSE_URL,
    username: "default",
    password: "",
    database: "edgepulse",
  });
  const items = JSON.stringify([{ product_id: "mug", name: "Blue mug", price: 12.5, quantity: 2 }]);
  await clickhouse.insert(
    "events",
    [
      event(SITE, "e1", T0 + 1000, { path: "/", referrer_host: "google.com", visitor_id: "v1", session_id: "s1" }),
      event(SITE, "e2", T0 + 2000, {
        type: "custom",
        name: "product_view",
        path: "/p/mug",
        props: JSON.stringify({ product_id: "mug", name: "Blue mug" }),
      }),
      event(SITE, "e3", T0 + 3000, {
        type: "cart",
        action: "add",
        path: "/p/mug",
        product_id: "mug",
        product_name: "Blue mug",
        price: 12.5,
        quantity: 2,
        currency: "EUR",
      }),
      event(SITE, "e4", T0 + 4000, { type: "cart", action: "checkout", value: 25, currency: "EUR" }),
      event(SITE, "e5", T0 + 5000, { type: "purchase", order_id: "o1", value: 25, currency: "EUR", items }),
      event(SITE, "e6", T0 + 6000, { type: "vital", path: "/p/mug", metric: "LCP", metric_value: 1800 }),
      event(SITE, "e7", T0 + 6500, { type: "vital", path: "/p/mug", metric: "LCP", metric_value: 4200 }),
      event(SITE, "e8", T0 + 12_000, {
        path: "/p/mug",
        visitor_id: "v2",
        session_id: "s2",
        country: "FR",
        device: "mobile",
        browser: "Safari",
        os: "iOS",
      }),
      event(SITE, "e9", T0 + 25_000, { path: "/p/mug", visitor_id: "v1", session_id: "s1" }),
      event(OTHER, "x1", T0 + 1000, {
        path: "/secret-page",
        referrer_host: "secret.example",
        country: "JP",
        visitor_id: "w1",
        session_id: "t1",
      }),
    ],
    "history-route-events",
  );
  await clickhouse.insert(
    "window_metrics",
    [
      windowRow(SITE, T0, { events: 7, page_views: 1, visitors: 1, sessions: 1, purchases: 1 }),
      { ...windowRow(SITE, T0, { events: 0, page_views: 0, visitors: 0, sessions: 0 }), currency: "EUR", revenue: 25 },
      windowRow(SITE, T0 + 10_000, { events: 1, page_views: 1, visitors: 1, sessions: 1 }),
      windowRow(SITE, T0 + 20_000, { events: 1, page_views: 1, visitors: 1, sessions: 0 }),
      windowRow(OTHER, T0, { events: 99, page_views: 99, visitors: 9, sessions: 9 }),
    ],
    "history-route-windows",
  );
  await clickhouse.insert(
    "sessions",
    [
      session(SITE, "s1", { duration: 60, page_views: 2, bounced: 0, cart_value: 0, purchased: 1, revenue: 25 }),
      session(SITE, "s2", { duration: 0, page_views: 1, bounced: 1, cart_value: 30, purchased: 0 }),
      session(OTHER, "t1", { duration: 999, cart_value: 500 }),
    ],
    "history-route-sessions",
  );
});

describe("GET /v1/history/* access and validation", () => {
  it("answers 401 without a token and 403 with another site's token", async () => {
    expect((await get(query("pages"), null)).status).toBe(401);
    const forbidden = await get(query("pages"), OTHER_TOKEN);
    expect(forbidden.status).toBe(403);
    expect(errorResponseSchema.parse(forbidden.body).error.code).toBe("forbidden");
  });

  it("answers 404 for an unknown resource, naming every resource there is", async () => {
    const answer = await get(query("secrets"));
    expect(answer.status).toBe(404);
    const error = errorResponseSchema.parse(answer.body).error;
    expect(error.code).toBe("not_found");
    for (const resource of ["timeseries", "vitals", "channels", "campaigns", "entry-pages", "exit-pages", "goals"])
      expect(error.message).toContain(resource);
  });

  it.each([
    ["a missing site", { site: "" }, "site"],
    ["from after to", { from: T0 + 10, to: T0 }, "from"],
    ["a range over 400 days", { from: T0 - 401 * 86_400_000, to: T0 }, "from"],
    ["a timestamp that is not one", { from: "yesterday-ish" }, "from"],
    ["an interval giving too many buckets", { interval: 1, from: T0, to: T0 + 86_400_000 }, "interval"],
    ["a limit over 100", { limit: 101 }, "limit"],
    ["a negative limit", { limit: -1 }, "limit"],
  ])("answers 400 naming the parameter for %s", async (_name, params, path) => {
    const answer = await get(query("timeseries", params));
    expect(answer.status).toBe(400);
    const error = errorResponseSchema.parse(answer.body).error;
    expect(error.code).toBe("invalid_payload");
    expect(error.issues?.map((issue) => issue.path)).toContain(path);
  });

  it("accepts ISO 8601 times as well as milliseconds", async () => {
    const answer = await get(
      query("pages", { from: new Date(T0).toISOString(), to: new Date(T0 + 3600_000).toISOString() }),
    );
    expect(answer.status).toBe(200);
    expect(historyPagesSchema.parse(answer.body).from).toBe(T0);
  });
});

describe("GET /v1/history/* answers", () => {
  it("timeseries with window-sized buckets equals window_metrics, window by window", async () => {
    const answer = historyTimeseriesSchema.parse((await get(query("timeseries", { interval: 10 }))).body);
    expect(answer.interval).toBe(10);
    expect(answer.window_seconds).toBe(10);
    expect(answer.points.map((point) => [point.start, point.page_views, point.visitors, point.events])).toEqual([
      [T0, 1, 1, 7],
      [T0 + 10_000, 1, 1, 1],
      [T0 + 20_000, 1, 1, 1],
    ]);
    expect(answer.points[0]?.revenue).toBe(25);
    expect(answer.points[0]?.purchases).toBe(1);
  });

  it("timeseries with larger buckets counts distinct visitors from events", async () => {
    const answer = historyTimeseriesSchema.parse((await get(query("timeseries", { interval: 3600 }))).body);
    expect(answer.points).toHaveLength(1);
    expect(answer.points[0]).toMatchObject({ start: T0, page_views: 3, visitors: 2, events: 9 });
  });

  it("timeseries chooses a bucket when none is given", async () => {
    const quarter = historyTimeseriesSchema.parse((await get(query("timeseries", { to: T0 + 900_000 }))).body);
    expect(quarter.interval).toBe(10);
    const hour = historyTimeseriesSchema.parse((await get(query("timeseries"))).body);
    expect(hour.interval).toBe(60);
    const day = historyTimeseriesSchema.parse((await get(query("timeseries", { from: T0, to: T0 + 86_400_000 }))).body);
    expect(day.interval).toBe(900);
  });

  it("pages, referrers, countries and devices count page views of this site only", async () => {
    const pages = historyPagesSchema.parse((await get(query("pages"))).body);
    expect(pages.rows).toEqual([
      { path: "/p/mug", views: 2, visitors: 2 },
      { path: "/", views: 1, visitors: 1 },
    ]);
    const referrers = historyReferrersSchema.parse((await get(query("referrers"))).body);
    expect(referrers.rows).toEqual([{ host: "google.com", visits: 1, page_views: 1 }]);
    const countries = historyCountriesSchema.parse((await get(query("countries"))).body);
    expect(countries.rows.map((row) => row.country)).toEqual(["DE", "FR"]);
    const devices = historyDevicesSchema.parse((await get(query("devices"))).body);
    expect(devices.rows.filter((row) => row.dimension === "device")).toEqual([
      { dimension: "device", value: "desktop", visitors: 1, page_views: 2 },
      { dimension: "device", value: "mobile", visitors: 1, page_views: 1 },
    ]);
    expect(devices.rows.filter((row) => row.dimension === "os").map((row) => row.value)).toEqual(["Linux", "iOS"]);
  });

  it("limit bounds the rows of a top list", async () => {
    const pages = historyPagesSchema.parse((await get(query("pages", { limit: 1 }))).body);
    expect(pages.rows).toEqual([{ path: "/p/mug", views: 2, visitors: 2 }]);
  });

  it("products join views, cart adds and purchased items", async () => {
    const products = historyProductsSchema.parse((await get(query("products"))).body);
    expect(products.rows).toEqual([
      { product_id: "mug", name: "Blue mug", views: 1, cart_adds: 1, purchases: 2, revenue: 25 },
    ]);
  });

  it("funnel counts sessions per step with the live feed's rates", async () => {
    const { funnel } = historyFunnelSchema.parse((await get(query("funnel"))).body);
    expect(funnel).toMatchObject({ sessions: 2, product_views: 1, cart_adds: 1, checkouts: 1, purchases: 1 });
    expect(funnel.rates).toEqual({ product_view: 0.5, cart_add: 1, checkout: 1, purchase: 1, overall: 0.5 });
  });

  it("funnel is closed: a session counts at a step only after every earlier step", async () => {
    // An hour of its own, outside RANGE, so the other tests' rows are unaffected.
    const T1 = T0 + 7200_000;
    const clickhouse = createClickHouse({
      url: env.CLICKHOUSE_URL,
      username: "default",
      password: "",
      database: "edgepulse",
    });
    await clickhouse.insert(
      "events",
      [
        // f1 buys without viewing a product or adding to the cart (a direct purchase link).
        event(SITE, "f1-1", T1 + 1000, { session_id: "f1" }),
        event(SITE, "f1-2", T1 + 2000, {
          session_id: "f1",
          type: "purchase",
          order_id: "of1",
          value: 5,
          currency: "EUR",
        }),
        // f2 views and adds, then buys without a checkout step.
        event(SITE, "f2-1", T1 + 1000, { session_id: "f2", type: "custom", name: "product_view" }),
        event(SITE, "f2-2", T1 + 2000, { session_id: "f2", type: "cart", action: "add", product_id: "mug" }),
        event(SITE, "f2-3", T1 + 3000, {
          session_id: "f2",
          type: "purchase",
          order_id: "of2",
          value: 5,
          currency: "EUR",
        }),
      ],
      "history-route-funnel-closed",
    );
    const { funnel } = historyFunnelSchema.parse((await get(query("funnel", { from: T1, to: T1 + 3600_000 }))).body);
    expect(funnel).toMatchObject({ sessions: 2, product_views: 1, cart_adds: 1, checkouts: 0, purchases: 0 });
    expect(funnel.rates.purchase).toBe(0);
  });

  it("sessions reports duration, bounce rate and abandoned carts", async () => {
    const sessions = historySessionsSchema.parse((await get(query("sessions"))).body);
    expect(sessions).toMatchObject({
      sessions: 2,
      avg_duration_seconds: 30,
      bounce_rate: 0.5,
      pages_per_session: 1.5,
      abandoned_carts: { sessions: 1, value: 30 },
    });
  });

  it("vitals reports percentiles per page and metric", async () => {
    const vitals = historyVitalsSchema.parse((await get(query("vitals"))).body);
    expect(vitals.rows).toHaveLength(1);
    expect(vitals.rows[0]).toMatchObject({ path: "/p/mug", metric: "LCP", count: 2 });
    // Quantiles come from DDSketch states (1 % relative accuracy), so within 1 % of the two values.
    expect(vitals.rows[0]?.p50).toBeGreaterThanOrEqual(1800 * 0.99);
    expect(vitals.rows[0]?.p95).toBeLessThanOrEqual(4200 * 1.01);
  });

  it("an empty range answers zeros, not errors", async () => {
    const empty = { from: T0 - 7200_000, to: T0 - 3600_000 };
    expect(historySessionsSchema.parse((await get(query("sessions", empty))).body)).toMatchObject({
      sessions: 0,
      avg_duration_seconds: 0,
      bounce_rate: 0,
    });
    expect(historyFunnelSchema.parse((await get(query("funnel", empty))).body).funnel.sessions).toBe(0);
    expect(historyTimeseriesSchema.parse((await get(query("timeseries", empty))).body).points).toEqual([]);
  });

  it("the other site's token sees only the other site's rows", async () => {
    const pages = historyPagesSchema.parse((await get(query("pages", { site: OTHER }), OTHER_TOKEN)).body);
    expect(pages.rows).toEqual([{ path: "/secret-page", views: 1, visitors: 1 }]);
    const mine = JSON.stringify(
      await Promise.all(
        ["pages", "referrers", "countries", "sessions", "timeseries"].map(
          async (resource) => (await get(query(resource))).body,
        ),
      ),
    );
    expect(mine).not.toContain("secret");
    expect(mine).not.toContain("JP");
    expect(mine).not.toContain('"page_views":99');
    expect(mine).not.toContain('"value":500');
  });
});
