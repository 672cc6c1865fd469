/**
 * `GET /v1/history/{entry-pages,exit-pages}?site&from&to&limit&filter…`: closed sessions by
 * the page they began or ended on (session-page-queries.ts, protocol/session-page-history.ts).
 * Mounted before the other history routes; same parameters, auth and bounds (history-request.ts).
 */
import { type Context, Hono } from "hono";
import type { z } from "zod";
import { createClickHouse } from "../../clickhouse/client";
import {
  historyEntryPageRowSchema,
  historyExitPageRowSchema,
  type SessionPageHistoryResource,
} from "../../protocol/session-page-history";
import type { AppEnv } from "../app-env";
import { queryRows } from "../history-answers";
import type { HistoryQuery, HistoryQueryRange } from "../history-queries";
import { historyJson, readHistoryRequest, whileClickHouseAnswers } from "../history-request";
import { entryPagesQuery, exitPagesQuery } from "../session-page-queries";

const RESOURCES: Record<
  SessionPageHistoryResource,
  { query: (range: HistoryQueryRange) => HistoryQuery; row: z.ZodType<Record<string, unknown>> }
> = {
  "entry-pages": { query: entryPagesQuery, row: historyEntryPageRowSchema },
  "exit-pages": { query: exitPagesQuery, row: historyExitPageRowSchema },
};

function answerFor(resource: SessionPageHistoryResource) {
  return async (c: Context<AppEnv>): Promise<Response> => {
    const range = await readHistoryRequest(c);
    const { query, row } = RESOURCES[resource];
    const clickhouse = createClickHouse(c.get("config").clickhouse);
    const rows = await whileClickHouseAnswers(() => queryRows(clickhouse, query(range), row));
    return historyJson(c, range, { rows });
  };
}

export const sessionPageHistoryRoutes = new Hono<AppEnv>();

for (const resource of Object.keys(RESOURCES) as SessionPageHistoryResource[])
  sessionPageHistoryRoutes.get(`/${resource}`, answerFor(resource));
