import { describe, expect, it } from "vitest";
import { overviewSchema } from "../../protocol";
import { mergeDayPartials, overviewOf } from "../live-hub/day-merge";
import { enrichedBatch, enrichedEvent, pageView } from "../ingest-shard/enriched-fixture";
import { dayPartial } from "../shard-to-hub/shard-state-fixture";
import { harness, uniqueSite, WINDOW_MS } from "../ingest-shard/shard-test-harness";
import { windowStartOf } from "../ingest-shard/watermark";
import { sessionsByChannelJob } from "./sessions-by-channel";

const landing = (ts: number, channel: string) =>
  enrichedEvent({ type: "page_view", ts, url: "https://shop.example/?utm_source=x", path: "/", channel });

describe("sessions by channel job", () => {
  it("counts a session's first event in the window or day, under the session's channel", () => {
    expect(sessionsByChannelJob.keyOf(pageView(1), { newSession: true, sessionChannel: "Email" })).toBe("Email");
    expect(sessionsByChannelJob.keyOf(pageView(1), { newSession: false, sessionChannel: "Email" })).toBeNull();
    expect(sessionsByChannelJob.keyOf(pageView(1), { newSession: true, sessionChannel: "" })).toBe("Direct");
  });

  it("counts sessions by first touch in the shard, per window and day, kept in storage", async () => {
    const site = uniqueSite("channels");
    const h = harness(site);
    const t = h.clock.now;
    // A visitor from an email, then on to another page (internal: Direct by itself, still the Email session).
    await h.run((engine) =>
      engine.ingest(enrichedBatch(site, [landing(t, "Email"), pageView(t + 1, "/p/1")], { visitor_id: "v-1" })),
    );
    await h.run((engine) =>
      engine.ingest(
        enrichedBatch(site, [landing(t + 2, "Paid Search"), pageView(t + 3, "/p/2")], { visitor_id: "v-2" }),
      ),
    );
    await h.run((engine) => engine.ingest(enrichedBatch(site, [pageView(t + 4, "/")], { visitor_id: "v-3" })));
    await h.run((engine) => engine.ingest(enrichedBatch(site, [landing(t + 5, "Email")], { visitor_id: "v-4" })));
    // Every run is a fresh engine over the same storage.
    const state = await h.run((engine) => engine.liveState());
    const expected = { Email: 2, "Paid Search": 1, Direct: 1 };
    expect(state?.today.jobs?.["sessions_by_channel"]).toEqual(expected);
    expect(state?.today.counts.sessions).toBe(4);
    const window = state?.windows.find((partial) => partial.start === windowStartOf(t, WINDOW_MS));
    expect(window?.jobs?.["sessions_by_channel"]).toEqual(expected);
  });

  it("adds up across shards in the overview", () => {
    const day = "2026-06-15";
    const merged = mergeDayPartials(
      [
        dayPartial(day, { jobs: { sessions_by_channel: { Email: 2, Direct: 5 } } }),
        dayPartial(day, { jobs: { sessions_by_channel: { Email: 4, "Organic Search": 1 } } }),
      ],
      day,
    );
    expect(overviewSchema.parse(overviewOf("shop", merged, 0)).jobs?.["sessions_by_channel"]).toEqual([
      { key: "Email", count: 6 },
      { key: "Direct", count: 5 },
      { key: "Organic Search", count: 1 },
    ]);
  });
});
