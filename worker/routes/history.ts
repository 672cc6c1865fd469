/**
 * `GET /v1/history/{timeseries,pages,referrers,countries,devices,products,funnel,sessions,vitals}`
 * `?site&from&to&interval&limit&filter…`: the batch layer, answered from ClickHouse's rollups
 * (raw rows when filtered) by history-answers.ts; this file is the HTTP edge (auth,
 * parameters, ClickHouse outages as 503, through history-request.ts).
 */
import { type Context, Hono } from "hono";
import { createClickHouse } from "../../clickhouse/client";
import { historyResourceSchema } from "../../protocol/history";
import { campaignHistoryResourceSchema } from "../../protocol/campaign-history";
import { sessionPageHistoryResourceSchema } from "../../protocol/session-page-history";
import type { AppEnv } from "../app-env";
import { ApiError } from "../errors";
import { historyAnswers } from "../history-answers";
import { historyJson, readHistoryRequest, whileClickHouseAnswers } from "../history-request";

/** Every `/v1/history/*` resource, this router's and those the routers mounted before it serve. */
const ALL_HISTORY_RESOURCES = [
  ...historyResourceSchema.options,
  ...campaignHistoryResourceSchema.options,
  ...sessionPageHistoryResourceSchema.options,
  "goals",
];

async function answer(c: Context<AppEnv>): Promise<Response> {
  const resource = historyResourceSchema.safeParse(c.req.param("resource"));
  if (!resource.success)
    throw new ApiError(
      404,
      "not_found",
      `no history resource "${c.req.param("resource")}"; one of ${ALL_HISTORY_RESOURCES.join(", ")}`,
    );
  const range = await readHistoryRequest(c);
  const config = c.get("config");
  const body = await whileClickHouseAnswers(() =>
    historyAnswers[resource.data](createClickHouse(config.clickhouse), range, config.windowSeconds),
  );
  return historyJson(c, range, body);
}

export const historyRoutes = new Hono<AppEnv>();

historyRoutes.get("/:resource", answer);
