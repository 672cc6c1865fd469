/**
 * Goals (`GET /v1/history/goals`): how many sessions converted on each custom event and on
 * each page goal the request names, out of the closed sessions that started in the range and
 * meet the filters. The Worker builds these and the dashboard validates them.
 *
 * Parameters besides the common ones: repeated `goal=page:<path pattern>` (`*` matches any
 * run of characters, `/blog/*`; everything else literally), and `event=<name>` for the
 * property breakdown of one custom event.
 */
import { z } from "zod";
import { historyRangeSchema, MAX_HISTORY_LIMIT } from "./history";

export const MAX_PAGE_GOALS = 10;
export const MAX_PAGE_GOAL_LENGTH = 500;
export const MAX_GOAL_EVENT_NAME_LENGTH = 200;

const count = z.coerce.number().int().min(0);
const rate = z.coerce.number().min(0).max(1);
const amount = z.coerce.number();

/** What each goal row says about its conversions. */
const conversion = {
  /** Sessions (of those counted in `sessions`) with at least one matching event. */
  conversions: count,
  /** conversions / sessions, 0..1 (0 without sessions). */
  conversion_rate: rate,
  /** Matching events in those sessions: custom events, or page views for a page goal. */
  events: count,
  /** Sum of the matching custom events' numeric `value` property; 0 for page goals. */
  revenue: amount,
};

export const historyGoalRowSchema = z.object({
  /** `event`: a custom event, by name; `page`: a page goal, by the pattern asked for. */
  type: z.enum(["event", "page"]),
  name: z.string(),
  ...conversion,
});

/** One property value of the custom event named by `event=`: `key` and `value` as the `prop` filter takes them. */
export const historyGoalPropertyRowSchema = z.object({ key: z.string(), value: z.string(), ...conversion });

export const historyGoalsSchema = historyRangeSchema.extend({
  /** Closed sessions that started in the range and meet the filters: the denominator of every rate. */
  sessions: count,
  /** Custom events by conversions (up to `limit`), then the page goals in the order asked. */
  goals: z.array(historyGoalRowSchema).max(MAX_HISTORY_LIMIT + MAX_PAGE_GOALS),
  /** With `event=<name>`: its property values by conversions (up to `limit`); otherwise null. */
  properties: z.array(historyGoalPropertyRowSchema).max(MAX_HISTORY_LIMIT).nullable(),
});

export type HistoryGoalRow = z.infer<typeof historyGoalRowSchema>;
export type HistoryGoalPropertyRow = z.infer<typeof historyGoalPropertyRowSchema>;
export type HistoryGoals = z.infer<typeof historyGoalsSchema>;
