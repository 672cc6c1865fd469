import { describe, expect, it } from "vitest";
import type { TimeseriesPoint } from "../../protocol/history";
import { fillBuckets, intervalName } from "./history-series";

const T0 = 1_750_000_200_000; // a multiple of 60 s
function point(start: number, page_views: number, visitors: number): TimeseriesPoint {
  return {
    start,
    page_views,
    visitors,
    events: page_views,
    sessions: 0,
    bounces: 0,
    cart_adds: 0,
    checkouts: 0,
    purchases: 0,
    revenue: 0,
  };
}

describe("fillBuckets", () => {
  it("spans the whole range with zeros where ClickHouse had no rows", () => {
    const series = fillBuckets([point(T0 + 60_000, 5, 2)], T0, T0 + 180_000, 60);
    expect(series.x).toEqual([T0, T0 + 60_000, T0 + 120_000].map((ms) => ms / 1000));
    expect(series.pageViews).toEqual([0, 5, 0]);
    expect(series.visitors).toEqual([0, 2, 0]);
  });

  it("keeps the newest buckets when the range holds more than the maximum", () => {
    const series = fillBuckets([], T0, T0 + 600_000, 60, 3);
    expect(series.x).toEqual([T0 + 420_000, T0 + 480_000, T0 + 540_000].map((ms) => ms / 1000));
  });

  it("follows day buckets that start at a site's midnight, across a DST change", () => {
    const day = 86_400_000;
    // Tokyo midnight is 15:00 UTC the day before.
    const tokyo = Date.parse("2026-03-31T15:00:00Z");
    const east = fillBuckets([point(tokyo + day, 7, 3)], tokyo, tokyo + 3 * day, 86_400);
    expect(east.x).toEqual([tokyo, tokyo + day, tokyo + 2 * day].map((ms) => ms / 1000));
    expect(east.pageViews).toEqual([0, 7, 0]);
    // Berlin midnights: 22:00 UTC in summer, 23:00 UTC after 25 October.
    const summer = Date.parse("2026-10-24T22:00:00Z");
    const winter = Date.parse("2026-10-25T23:00:00Z");
    const berlin = fillBuckets([point(summer, 4, 1), point(winter, 6, 2)], summer, winter + day, 86_400);
    // Each day's point on its own day; the 25-hour day's last hour is an empty bucket at the end.
    expect(berlin.pageViews).toEqual([4, 6, 0]);
  });
});

describe("intervalName", () => {
  it("names the usual buckets", () => {
    expect(intervalName(60)).toBe("minute");
    expect(intervalName(3600)).toBe("hour");
    expect(intervalName(7200)).toBe("2 hours");
    expect(intervalName(10)).toBe("10 s");
  });
});
