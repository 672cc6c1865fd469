/**
 * Sessions by channel, live: each session counts once in every window and day it has events
 * in (as the `sessions` counter does), under its channel — the first touch of its entry page
 * view (session-state.ts; the rules in worker/attribution/channel.ts). The counts of a window
 * or day add up to its sessions.
 *
 * A session counts under the channel it had when it first appeared in the window or day: a
 * late page view that turns out to be the real entry moves the session's first touch in
 * ClickHouse (history), not a count already made here.
 */
import { keyedCountJob } from "./keyed-count-job";

export const sessionsByChannelJob = keyedCountJob({
  name: "sessions_by_channel",
  keyOf: (_event, context) => (context.newSession ? context.sessionChannel || "Direct" : null),
});
