/**
 * Custom events by name: `edgepulse.track("signup_click")` counted per name, per day, with the
 * day's top names live. The names are the app's own (the SDK caps their length; the shard's
 * map keeps the most frequent ones, capped-map.ts).
 */
import type { KeyedCountJob } from "./keyed-count-job";

export const customEventsJob: KeyedCountJob = {
  name: "custom_events",
  keyOf: (event) => (event.type === "custom" && event.name !== "" ? event.name : null),
};
