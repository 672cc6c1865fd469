import { describe, expect, it } from "vitest";
import { liveMessageSchema, liveSnapshotSchema, liveUpdateSchema } from "../../protocol";
import { mergeDayPartials, overviewOf, performanceOf } from "./day-merge";
import { liveMessageJson, MAX_LIVE_MESSAGE_BYTES, type LiveMessageParts } from "./live-message";
import { counts, dayPartial, TEST_WINDOW_MS } from "../shard-to-hub/shard-state-fixture";

const DAY = "2026-11-20";
const START = Date.UTC(2026, 10, 20, 12);

function parts(windowCount: number, pathLength = 10): LiveMessageParts {
  const merged = mergeDayPartials(
    [
      dayPartial(DAY, {
        counts: counts({ page_views: 9 }),
        pages: Object.fromEntries(
          Array.from({ length: 100 }, (_, index) => [`/${String(index).padStart(pathLength, "x")}`, index]),
        ),
      }),
    ],
    DAY,
  );
  return {
    site: "s",
    at: START,
    windowSeconds: TEST_WINDOW_MS / 1000,
    windows: Array.from({ length: windowCount }, (_, index) => ({
      ...counts({ page_views: index }),
      start: START - index * TEST_WINDOW_MS,
      end: START - (index - 1) * TEST_WINDOW_MS,
    })),
    overview: overviewOf("s", merged, 2),
    performance: performanceOf("s", merged),
  };
}

describe("liveMessageJson", () => {
  it("builds a snapshot and an update that parse with the protocol's schemas", () => {
    const snapshot = liveSnapshotSchema.parse(JSON.parse(liveMessageJson("snapshot", parts(30))));
    expect(snapshot.windows).toHaveLength(30);
    expect(snapshot.totals.page_views).toBe(9);
    expect(snapshot.online).toBe(2);
    const update = liveUpdateSchema.parse(JSON.parse(liveMessageJson("update", parts(1))));
    expect(update.type).toBe("update");
  });

  it("stays under the size bound by leaving out the oldest windows", () => {
    const big = parts(360, 2000);
    const json = liveMessageJson("snapshot", big, 120 * 1024);
    expect(new TextEncoder().encode(json).byteLength).toBeLessThanOrEqual(120 * 1024);
    const message = liveMessageSchema.parse(JSON.parse(json));
    expect(message.windows.length).toBeGreaterThan(0);
    expect(message.windows.length).toBeLessThan(360);
    // The newest windows are the ones kept.
    expect(message.windows[0]?.start).toBe(START);
    // The real bound fits every retained window next to the largest top lists.
    expect(liveMessageSchema.parse(JSON.parse(liveMessageJson("snapshot", big))).windows).toHaveLength(360);
    expect(new TextEncoder().encode(liveMessageJson("snapshot", big)).byteLength).toBeLessThanOrEqual(
      MAX_LIVE_MESSAGE_BYTES,
    );
  });
});
