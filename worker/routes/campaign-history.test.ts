/**
 * `/v1/history/{channels,sources,campaigns}` against the real ClickHouse engine: each session
 * counts once under its first touch, with visitors, conversions, conversion rate and revenue;
 * auth and validation as the other history routes; one site never sees another's sessions.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createClickHouse } from "../../clickhouse/client";
import { type SessionRow, toDateTime64 } from "../../clickhouse/rows";
import { sessionRow } from "../../test/support/clickhouse-rows";
import { errorResponseSchema } from "../../protocol";
import { historyCampaignsSchema, historyChannelsSchema, historySourcesSchema } from "../../protocol/campaign-history";
import { app } from "../app";

const SITE = "campaign-shop";
const OTHER = "campaign-other";
const TOKEN = "campaign-shop-read-token-0123456789";
const OTHER_TOKEN = "campaign-other-read-token-01234567";
const testEnv: Env = {
  ...env,
  SITES: JSON.stringify([
    { key: SITE, origins: ["*"], token: TOKEN },
    { key: OTHER, origins: ["*"], token: OTHER_TOKEN },
  ]),
};
/** A fixed hour in the past that no other test writes to. */
const T0 = Date.UTC(2025, 5, 9, 14, 0, 0);
const RANGE = { from: T0, to: T0 + 3600_000 };

async function get(path: string, token: string | null = TOKEN): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = token === null ? {} : { Authorization: `Bearer ${token}` };
  const response = await app.fetch(new Request(`http://collector.test${path}`, { headers }), testEnv);
  return { status: response.status, body: await response.json() };
}

const query = (resource: string, params: Record<string, string | number> = {}) =>
  `/v1/history/${resource}?${new URLSearchParams(Object.entries({ site: SITE, ...RANGE, ...params }).map(([key, value]) => [key, String(value)]))}`;

const session = (site: string, id: string, visitor: string, fields: Partial<SessionRow>) =>
  sessionRow(site, id, T0 + 1000, {
    visitor_id: visitor,
    exit_path: "/p/mug",
    currency: "EUR",
    channel: "Direct",
    ...fields,
  });

const newsletter = { utm_source: "newsletter", utm_medium: "email", utm_campaign: "june-drop", channel: "Email" };
const googleAds = { utm_source: "google", utm_medium: "cpc", utm_campaign: "brand", channel: "Paid Search" };

beforeAll(async () => {
  const clickhouse = createClickHouse({
    url: env.CLICKHOUSE_URL,
    username: "default",
    password: "",
    database: "edgepulse",
  });
  await clickhouse.insert(
    "sessions",
    [
      session(SITE, "c1", "v1", { ...newsletter, purchased: 1, revenue: 40 }),
      session(SITE, "c2", "v1", { ...newsletter, started_at: toDateTime64(T0 + 600_000) }),
      session(SITE, "c3", "v2", { ...newsletter, utm_content: "hero" }),
      session(SITE, "c4", "v3", { ...googleAds, purchased: 1, revenue: 25.5 }),
      session(SITE, "c5", "v4", { referrer_host: "www.google.com", channel: "Organic Search" }),
      session(SITE, "c6", "v5", {}),
      // Stored before channels existed.
      session(SITE, "c7", "v6", { channel: "" }),
      // Started before the range: not counted.
      session(SITE, "c8", "v7", { ...googleAds, started_at: toDateTime64(T0 - 1000) }),
      session(OTHER, "x1", "w1", {
        utm_source: "secret",
        utm_medium: "email",
        utm_campaign: "secret-campaign",
        channel: "Email",
        purchased: 1,
        revenue: 999,
      }),
    ],
    "campaign-history-sessions",
  );
});

describe("GET /v1/history/{channels,sources,campaigns}", () => {
  it("answers sessions by channel with visitors, conversions, conversion rate and revenue", async () => {
    const answer = await get(query("channels"));
    expect(answer.status).toBe(200);
    const channels = historyChannelsSchema.parse(answer.body);
    expect(channels).toMatchObject({ site: SITE, from: T0, to: T0 + 3600_000 });
    expect(channels.rows).toEqual([
      { channel: "Email", visitors: 2, sessions: 3, conversions: 1, conversion_rate: 1 / 3, revenue: 40 },
      { channel: "(not set)", visitors: 1, sessions: 1, conversions: 0, conversion_rate: 0, revenue: 0 },
      { channel: "Direct", visitors: 1, sessions: 1, conversions: 0, conversion_rate: 0, revenue: 0 },
      { channel: "Organic Search", visitors: 1, sessions: 1, conversions: 0, conversion_rate: 0, revenue: 0 },
      { channel: "Paid Search", visitors: 1, sessions: 1, conversions: 1, conversion_rate: 1, revenue: 25.5 },
    ]);
  });

  it("answers sources: the campaign source, else the referrer host, else (direct)", async () => {
    const sources = historySourcesSchema.parse((await get(query("sources"))).body);
    expect(sources.rows.map((row) => [row.source, row.sessions, row.revenue])).toEqual([
      ["newsletter", 3, 40],
      ["(direct)", 2, 0],
      ["google", 1, 25.5],
      ["www.google.com", 1, 0],
    ]);
  });

  it("answers campaigns by campaign, source and medium, only sessions that carried one", async () => {
    const campaigns = historyCampaignsSchema.parse((await get(query("campaigns"))).body);
    expect(campaigns.rows).toEqual([
      {
        campaign: "june-drop",
        source: "newsletter",
        medium: "email",
        visitors: 2,
        sessions: 3,
        conversions: 1,
        conversion_rate: 1 / 3,
        revenue: 40,
      },
      {
        campaign: "brand",
        source: "google",
        medium: "cpc",
        visitors: 1,
        sessions: 1,
        conversions: 1,
        conversion_rate: 1,
        revenue: 25.5,
      },
    ]);
  });

  it("honours limit, and answers an empty range with no rows", async () => {
    expect(
      historyChannelsSchema.parse((await get(query("channels", { limit: 2 }))).body).rows.map((row) => row.channel),
    ).toEqual(["Email", "(not set)"]);
    expect(
      historyCampaignsSchema.parse((await get(query("campaigns", { from: T0 - 7200_000, to: T0 - 3600_000 }))).body)
        .rows,
    ).toEqual([]);
  });

  it("never shows another site's sessions", async () => {
    const other = historyCampaignsSchema.parse(
      (await get(`/v1/history/campaigns?site=${OTHER}&from=${T0}&to=${T0 + 3600_000}`, OTHER_TOKEN)).body,
    );
    expect(other.rows.map((row) => row.campaign)).toEqual(["secret-campaign"]);
    const mine = JSON.stringify((await get(query("sources"))).body);
    expect(mine).not.toContain("secret");
  });

  it.each(["channels", "sources", "campaigns"])(
    "%s: 401 without a token, 403 with another site's, 400 naming a bad parameter",
    async (resource) => {
      expect((await get(query(resource), null)).status).toBe(401);
      const forbidden = await get(query(resource), OTHER_TOKEN);
      expect(forbidden.status).toBe(403);
      const invalid = await get(query(resource, { limit: 101 }));
      expect(invalid.status).toBe(400);
      expect(errorResponseSchema.parse(invalid.body).error.issues?.map((issue) => issue.path)).toContain("limit");
    },
  );
});
