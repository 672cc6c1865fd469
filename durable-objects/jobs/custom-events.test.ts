import { describe, expect, it } from "vitest";
import { overviewSchema, windowMetricsSchema } from "../../protocol";
import { utcDay } from "../../common/utc-day";
import { mergeDayPartials, overviewOf } from "../live-hub/day-merge";
import { enrichedBatch, enrichedEvent, pageView } from "../ingest-shard/enriched-fixture";
import { checkShardLiveState } from "../shard-to-hub/check-shard-live-state";
import { dayPartialSchema } from "../shard-to-hub/shard-live-state";
import { MergedShards } from "../live-hub/merged-shards";
import { emptyMetricCounts } from "../shared/metric-counts";
import { dayPartial, shardState } from "../shard-to-hub/shard-state-fixture";
import { harness, uniqueSite, WINDOW_MS } from "../ingest-shard/shard-test-harness";
import { windowStartOf } from "../ingest-shard/watermark";
import { customEventsJob } from "./custom-events";

const custom = (ts: number, name: string) => enrichedEvent({ type: "custom", ts, name });

describe("custom events job", () => {
  it("takes custom events by name and nothing else", () => {
    const context = { newSession: true, sessionChannel: "Direct" };
    expect(customEventsJob.keyOf(custom(1, "signup_click"), context)).toBe("signup_click");
    expect(customEventsJob.keyOf(pageView(1), context)).toBeNull();
    expect(customEventsJob.keyOf(custom(1, ""), context)).toBeNull();
  });

  it("counts per name per day in the shard, kept in storage (a restarted shard reports the same), and checked by the hub", async () => {
    const site = uniqueSite("jobs");
    const h = harness(site);
    const t = h.clock.now;
    await h.run((engine) =>
      engine.ingest(
        enrichedBatch(site, [
          custom(t, "signup_click"),
          custom(t + 1, "signup_click"),
          custom(t + 2, "newsletter"),
          pageView(t + 3),
        ]),
      ),
    );
    await h.run((engine) => engine.ingest(enrichedBatch(site, [custom(t + 4, "signup_click")], { visitor_id: "v-2" })));
    // Every run is a fresh engine over the same storage: this one reads the day from SQLite.
    const state = await h.run((engine) => engine.liveState());
    expect(state?.today.day).toBe(utcDay(t));
    expect(state?.today.jobs?.["custom_events"]).toEqual({ signup_click: 3, newsletter: 1 });
    if (state === null) throw new Error("no state");
    expect(() => checkShardLiveState(state)).not.toThrow();
    expect(dayPartialSchema.parse(state.today).jobs?.["custom_events"]).toEqual({ signup_click: 3, newsletter: 1 });
    // Per window too: all five events fell in the first window.
    const window = state.windows.find((partial) => partial.start === windowStartOf(t, WINDOW_MS));
    expect(window?.jobs?.["custom_events"]).toEqual({ signup_click: 3, newsletter: 1 });
  });

  it("adds up per window across shards in the hub, top keys in each window's live entry", () => {
    const start = windowStartOf(Date.now(), WINDOW_MS);
    const partial = (jobs: Record<string, number>) => ({
      start,
      end: start + WINDOW_MS,
      counts: emptyMetricCounts(),
      jobs: { custom_events: jobs },
    });
    const hub = new MergedShards(WINDOW_MS);
    hub.apply(shardState("shop", 0, 1, Date.now(), { windows: [partial({ signup_click: 2 })] }), Date.now());
    hub.apply(
      shardState("shop", 1, 1, Date.now(), { windows: [partial({ signup_click: 1, newsletter: 5 })] }),
      Date.now(),
    );
    // A window partial stored before jobs existed adds nothing.
    hub.apply(
      shardState("shop", 2, 1, Date.now(), {
        windows: [{ start, end: start + WINDOW_MS, counts: emptyMetricCounts() }],
      }),
      Date.now(),
    );
    const [merged] = hub.recentWindows(1);
    expect(windowMetricsSchema.parse(merged).jobs?.["custom_events"]).toEqual([
      { key: "newsletter", count: 5 },
      { key: "signup_click", count: 3 },
    ]);
  });

  it("adds up across shards in the hub and shows the day's top names in the overview", () => {
    const day = "2026-06-15";
    const merged = mergeDayPartials(
      [
        dayPartial(day, { jobs: { custom_events: { signup_click: 3, newsletter: 1 } } }),
        dayPartial(day, { jobs: { custom_events: { newsletter: 4, video_play: 2 } } }),
        // A state stored before jobs existed, and another day: neither adds anything.
        dayPartial(day),
        dayPartial("2026-06-14", { jobs: { custom_events: { signup_click: 100 } } }),
      ],
      day,
    );
    const overview = overviewSchema.parse(overviewOf("shop", merged, 0));
    expect(overview.jobs?.["custom_events"]).toEqual([
      { key: "newsletter", count: 5 },
      { key: "signup_click", count: 3 },
      { key: "video_play", count: 2 },
    ]);
  });
});
