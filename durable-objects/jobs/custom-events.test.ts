import { describe, expect, it } from "vitest";
import { overviewSchema } from "../../protocol";
import { dayOf } from "../day-aggregate";
import { mergeDayPartials, overviewOf } from "../day-merge";
import { enrichedBatch, enrichedEvent, pageView } from "../enriched-fixture";
import { checkShardLiveState, dayPartialSchema } from "../shard-live-state-schema";
import { dayPartial } from "../shard-state-fixture";
import { harness, uniqueSite } from "../shard-test-harness";
import { customEventsJob } from "./custom-events";

const custom = (ts: number, name: string) => enrichedEvent({ type: "custom", ts, name });

describe("custom events job", () => {
  it("takes custom events by name and nothing else", () => {
    expect(customEventsJob.keyOf(custom(1, "signup_click"))).toBe("signup_click");
    expect(customEventsJob.keyOf(pageView(1))).toBeNull();
    expect(customEventsJob.keyOf(custom(1, ""))).toBeNull();
  });

  it("counts per name per day in the shard, kept in storage (a restarted shard reports the same), and checked by the hub", async () => {
    const site = uniqueSite("jobs");
    const h = harness(site);
    const t = h.clock.now;
    await h.run((engine) =>
      engine.ingest(enrichedBatch(site, [custom(t, "signup_click"), custom(t + 1, "signup_click"), custom(t + 2, "newsletter"), pageView(t + 3)])),
    );
    await h.run((engine) => engine.ingest(enrichedBatch(site, [custom(t + 4, "signup_click")], { visitor_id: "v-2" })));
    // Every run is a fresh engine over the same storage: this one reads the day from SQLite.
    const state = await h.run((engine) => engine.liveState());
    expect(state?.today.day).toBe(dayOf(t));
    expect(state?.today.jobs).toEqual({ custom_events: { signup_click: 3, newsletter: 1 } });
    if (state === null) throw new Error("no state");
    expect(() => checkShardLiveState(state)).not.toThrow();
    expect(dayPartialSchema.parse(state.today).jobs).toEqual({ custom_events: { signup_click: 3, newsletter: 1 } });
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
    expect(overview.jobs).toEqual({
      custom_events: [
        { key: "newsletter", count: 5 },
        { key: "signup_click", count: 3 },
        { key: "video_play", count: 2 },
      ],
    });
  });
});
