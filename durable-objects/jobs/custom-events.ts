/**
 * Custom events by name: `edgepulse.track("signup_click")` counted per name, per window and
 * day, with the top names live. The names are the app's own (the SDK caps their length; the
 * shard's map keeps the most frequent ones, capped-map.ts).
 */
import { keyedCountJob } from "./keyed-count-job";

export const customEventsJob = keyedCountJob({
  name: "custom_events",
  keyOf: (event) => (event.type === "custom" && event.name !== "" ? event.name : null),
});
