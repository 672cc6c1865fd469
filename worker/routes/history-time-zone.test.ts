/**
 * Day buckets in the site's time zone, through the route and the real ClickHouse engine:
 * Europe/Berlin across the end of summer time (Sunday 26 October 2025 is 25 hours long),
 * Asia/Tokyo (east of UTC, no DST) and Asia/Kolkata (+05:30, where an hourly rollup period
 * straddles local midnight). Each event is also a sealed window, so the unfiltered answer
 * (windows and rollups) and the filtered one (raw events) must agree.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { toDateTime } from "../../clickhouse/rows";
import { errorResponseSchema } from "../../protocol";
import { historyTimeseriesSchema } from "../../protocol/history";
import { eventRow, getJson, historyPath, testClickHouse } from "./history-fixture";

const ZONES = { "tz-berlin": "Europe/Berlin", "tz-tokyo": "Asia/Tokyo", "tz-kolkata": "Asia/Kolkata" } as const;
type ZoneSite = keyof typeof ZONES;
const TOKENS: Record<ZoneSite, string> = {
  "tz-berlin": "tz-berlin-read-token-0123456789ab",
  "tz-tokyo": "tz-tokyo-read-token-0123456789abc",
  "tz-kolkata": "tz-kolkata-read-token-0123456789a",
};
const testEnv: Env = {
  ...env,
  WINDOW_SECONDS: "10",
  SITES: JSON.stringify(
    Object.entries(ZONES).map(([key, zone]) => ({
      key,
      origins: ["*"],
      token: TOKENS[key as ZoneSite],
      time_zone: zone,
    })),
  ),
};

/** Moments of each site's events, each its own visitor and window. */
const MOMENTS: Record<ZoneSite, string[]> = {
  // 25th 23:30 CEST; 26th 00:30 CEST; 26th 23:30 CET; 27th 00:30 CET.
  "tz-berlin": ["2025-10-25T21:30:00Z", "2025-10-25T22:30:00Z", "2025-10-26T22:30:00Z", "2025-10-26T23:30:00Z"],
  // 26th 23:30 JST; 27th 00:30 JST.
  "tz-tokyo": ["2025-10-26T14:30:00Z", "2025-10-26T15:30:00Z"],
  // 26th 23:45 IST; 27th 00:15 IST: the same UTC hour, two local days.
  "tz-kolkata": ["2025-10-26T18:15:00Z", "2025-10-26T18:45:00Z"],
};

beforeAll(async () => {
  const clickhouse = testClickHouse();
  const sites = Object.keys(MOMENTS) as ZoneSite[];
  await clickhouse.insert(
    "events",
    sites.flatMap((site) =>
      MOMENTS[site].map((moment, index) =>
        eventRow(site, `${site}-${index}`, Date.parse(moment), { visitor_id: `v${index}`, session_id: `s${index}` }),
      ),
    ),
    "history-time-zone-events",
  );
  await clickhouse.insert(
    "window_metrics",
    sites.flatMap((site) =>
      MOMENTS[site].map((moment) => ({
        site,
        window_start: toDateTime(Date.parse(moment)),
        window_seconds: 10,
        currency: "",
        events: 1,
        page_views: 1,
        visitors: 1,
        sessions: 1,
        bounces: 0,
        cart_adds: 0,
        cart_removes: 0,
        checkouts: 0,
        purchases: 0,
        revenue: 0,
      })),
    ),
    "history-time-zone-windows",
  );
});

async function dayPoints(site: ZoneSite, from: string, to: string, filters: string[] = [], interval = 86400) {
  const answer = await getJson(
    testEnv,
    historyPath("timeseries", { site, from: Date.parse(from), to: Date.parse(to), interval }, filters),
    TOKENS[site],
  );
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  const timeseries = historyTimeseriesSchema.parse(answer.body);
  expect(timeseries.time_zone).toBe(ZONES[site]);
  return timeseries.points.map((point) => [new Date(point.start).toISOString(), point.events, point.visitors]);
}

describe("history day buckets in the site's time zone", () => {
  it.each([[[]], [["country:is:DE"]]])(
    "Europe/Berlin: days start at local midnight, and the last Sunday of October has 25 hours (filters %j)",
    async (filters) => {
      expect(await dayPoints("tz-berlin", "2025-10-24T22:00:00Z", "2025-10-27T23:00:00Z", filters)).toEqual([
        ["2025-10-24T22:00:00.000Z", 1, 1],
        ["2025-10-25T22:00:00.000Z", 2, 2],
        ["2025-10-26T23:00:00.000Z", 1, 1],
      ]);
    },
  );

  it.each([[[]], [["page:is:/"]]])("Asia/Tokyo: days start at 15:00 UTC (filters %j)", async (filters) => {
    expect(await dayPoints("tz-tokyo", "2025-10-25T15:00:00Z", "2025-10-27T15:00:00Z", filters)).toEqual([
      ["2025-10-25T15:00:00.000Z", 1, 1],
      ["2025-10-26T15:00:00.000Z", 1, 1],
    ]);
  });

  it("Asia/Kolkata: a UTC hour that straddles local midnight is split, not rolled up", async () => {
    expect(await dayPoints("tz-kolkata", "2025-10-25T18:30:00Z", "2025-10-27T18:30:00Z")).toEqual([
      ["2025-10-25T18:30:00.000Z", 1, 1],
      ["2025-10-26T18:30:00.000Z", 1, 1],
    ]);
  });

  it.each([[[]], [["os:is:Linux"]]])(
    "Europe/Berlin: a week starts at local midnight too, across the change (filters %j)",
    async (filters) => {
      // Weeks count local days since 1970-01-01 (a Thursday), as toStartOfInterval does.
      expect(await dayPoints("tz-berlin", "2025-10-22T22:00:00Z", "2025-10-29T23:00:00Z", filters, 7 * 86400)).toEqual([
        ["2025-10-22T22:00:00.000Z", 4, 4],
      ]);
    },
  );

  it("refuses an interval above a day that is not whole days", async () => {
    const answer = await getJson(
      testEnv,
      historyPath("timeseries", {
        site: "tz-berlin",
        from: 0 + Date.parse("2025-10-20T00:00:00Z"),
        to: Date.parse("2025-10-27T00:00:00Z"),
        interval: 90000,
      }),
      TOKENS["tz-berlin"],
    );
    expect(answer.status).toBe(400);
    expect(errorResponseSchema.parse(answer.body).error.issues?.map((issue) => issue.path)).toContain("interval");
  });
});
