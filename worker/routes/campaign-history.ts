/**
 * `GET /v1/history/{channels,sources,campaigns}?site&from&to&limit&filter…`: sessions by their first
 * touch, with visitors, sessions, conversions, conversion rate and revenue
 * (campaign-history-queries.ts). Mounted before the other history routes; same parameters,
 * auth and bounds as they have (history-range.ts).
 */
import { type Context, Hono } from "hono";
import type { z } from "zod";
import { createClickHouse } from "../../clickhouse/client";
import {
  type CampaignHistoryResource,
  historyCampaignRowSchema,
  historyChannelRowSchema,
  historySourceRowSchema,
} from "../../protocol/campaign-history";
import type { AppEnv } from "../app-env";
import { campaignsQuery, channelsQuery, sourcesQuery } from "../campaign-history-queries";
import { queryRows } from "../history-answers";
import type { HistoryQuery, HistoryQueryRange } from "../history-queries";
import { historyJson, readHistoryRequest, whileClickHouseAnswers } from "../history-request";

const RESOURCES: Record<
  CampaignHistoryResource,
  { query: (range: HistoryQueryRange) => HistoryQuery; row: z.ZodType<Record<string, unknown>> }
> = {
  channels: { query: channelsQuery, row: historyChannelRowSchema },
  sources: { query: sourcesQuery, row: historySourceRowSchema },
  campaigns: { query: campaignsQuery, row: historyCampaignRowSchema },
};

function answerFor(resource: CampaignHistoryResource) {
  return async (c: Context<AppEnv>): Promise<Response> => {
    const range = await readHistoryRequest(c);
    const { query, row } = RESOURCES[resource];
    const clickhouse = createClickHouse(c.get("config").clickhouse);
    const rows = await whileClickHouseAnswers(() => queryRows(clickhouse, query(range), row));
    return historyJson(c, range, { rows });
  };
}

export const campaignHistoryRoutes = new Hono<AppEnv>();

for (const resource of Object.keys(RESOURCES) as CampaignHistoryResource[])
  campaignHistoryRoutes.get(`/${resource}`, answerFor(resource));
