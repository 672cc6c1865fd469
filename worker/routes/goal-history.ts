/**
 * `GET /v1/history/goals?site&from&to&limit&filter…&goal=page:<pattern>…&event=<name>`:
 * conversions on custom events and page goals (goal-queries.ts, protocol/goal-history.ts).
 * Mounted before the other history routes; same parameters, auth and bounds (history-request.ts).
 */
import { type Context, Hono } from "hono";
import { z } from "zod";
import { createClickHouse } from "../../clickhouse/client";
import {
  MAX_GOAL_EVENT_NAME_LENGTH,
  MAX_PAGE_GOAL_LENGTH,
  MAX_PAGE_GOALS,
  historyGoalPropertyRowSchema,
  type HistoryGoalRow,
} from "../../protocol/goal-history";
import type { AppEnv } from "../app-env";
import { ApiError } from "../errors";
import { queryRows } from "../history-answers";
import { historyJson, readHistoryRequest, whileClickHouseAnswers } from "../history-request";
import { eventGoalsQuery, goalPropertiesQuery, goalSessionCountQuery, pageGoalsQuery } from "../goal-queries";

const count = z.coerce.number().int().min(0);
const eventGoalRowSchema = z.object({
  name: z.string(),
  conversions: count,
  events: count,
  revenue: z.coerce.number(),
});
const propertyRowSchema = historyGoalPropertyRowSchema.omit({ conversion_rate: true });

/** The page patterns of `goal=page:<pattern>`, or a 400 naming the refused one. */
function pageGoals(raw: readonly string[]): string[] {
  if (raw.length > MAX_PAGE_GOALS)
    throw ApiError.invalidPayload("invalid goal", [{ path: "goal", message: `at most ${MAX_PAGE_GOALS} page goals` }]);
  const issues = raw.flatMap((goal, index) =>
    !goal.startsWith("page:") || goal.length === "page:".length || goal.length > "page:".length + MAX_PAGE_GOAL_LENGTH
      ? [
          {
            path: `goal.${index}`,
            message: `${JSON.stringify(goal.slice(0, 100))}: must be page:<path pattern> (1 to ${MAX_PAGE_GOAL_LENGTH} characters, * for any run)`,
          },
        ]
      : [],
  );
  if (issues.length > 0) throw ApiError.invalidPayload("invalid goal", issues);
  return raw.map((goal) => goal.slice("page:".length));
}

async function answer(c: Context<AppEnv>): Promise<Response> {
  const range = await readHistoryRequest(c);
  const patterns = pageGoals(c.req.queries("goal") ?? []);
  const eventName = c.req.query("event");
  if (eventName !== undefined && (eventName.length === 0 || eventName.length > MAX_GOAL_EVENT_NAME_LENGTH))
    throw ApiError.invalidPayload("invalid query", [
      { path: "event", message: `must be a custom event name of 1 to ${MAX_GOAL_EVENT_NAME_LENGTH} characters` },
    ]);
  const clickhouse = createClickHouse(c.get("config").clickhouse);
  const [sessionRows, eventGoals, pageRows, properties] = await whileClickHouseAnswers(() =>
    Promise.all([
      queryRows(clickhouse, goalSessionCountQuery(range), z.object({ sessions: count })),
      queryRows(clickhouse, eventGoalsQuery(range), eventGoalRowSchema),
      patterns.length === 0
        ? Promise.resolve([])
        : queryRows(clickhouse, pageGoalsQuery(range, patterns), z.record(z.string(), count)),
      eventName === undefined
        ? Promise.resolve(null)
        : queryRows(clickhouse, goalPropertiesQuery(range, eventName), propertyRowSchema),
    ]),
  );
  const sessions = sessionRows[0]?.sessions ?? 0;
  const rate = (conversions: number) => (sessions === 0 ? 0 : Math.min(1, conversions / sessions));
  const pageRow = pageRows[0] ?? {};
  const goals: HistoryGoalRow[] = [
    ...eventGoals.map((goal) => ({ type: "event" as const, ...goal, conversion_rate: rate(goal.conversions) })),
    ...patterns.map((pattern, index) => {
      const conversions = pageRow[`conversions_${index}`] ?? 0;
      return {
        type: "page" as const,
        name: pattern,
        conversions,
        conversion_rate: rate(conversions),
        events: pageRow[`events_${index}`] ?? 0,
        revenue: 0,
      };
    }),
  ];
  return historyJson(c, range, {
    sessions,
    goals,
    properties: properties?.map((row) => ({ ...row, conversion_rate: rate(row.conversions) })) ?? null,
  });
}

export const goalHistoryRoutes = new Hono<AppEnv>();

goalHistoryRoutes.get("/goals", answer);
