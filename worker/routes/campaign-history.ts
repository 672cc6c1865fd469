/**
 * `GET /v1/history/{channels,sources,campaigns}?site&from&to&limit&filter…`: sessions by their first
 * touch, with visitors, sessions, conversions, conversion rate and revenue
 * (campaign-history-queries.ts). Mounted before the other history routes; same parameters,
 * auth and bounds as they have (history-range.ts).
 */
import { Hono, type Context } from "hono";
import { z } from "zod";
import { ClickHouseError, createClickHouse } from "../../clickhouse/client";
import {
  type CampaignHistoryResource,
  historyCampaignRowSchema,
  historyChannelRowSchema,
  historySourceRowSchema,
} from "../../protocol/campaign-history";
import type { AppEnv } from "../app-env";
import { campaignsQuery, channelsQuery, sourcesQuery } from "../campaign-history-queries";
import { ApiError } from "../errors";
import type { HistoryQuery, HistoryQueryRange } from "../history-queries";
import { readHistoryRequest } from "../history-request";

/** As routes/history.ts: bounds every query on the server, whatever the range. */
const QUERY_SETTINGS = {
  readonly: 1,
  max_execution_time: 20,
  max_result_rows: 200_000,
  result_overflow_mode: "throw",
} as const;

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
    const config = c.get("config");
    const { query, row } = RESOURCES[resource];
    const { sql, params: queryParams } = query(range);
    let result: unknown[];
    try {
      result = await createClickHouse(config.clickhouse).query<unknown>(sql, queryParams, QUERY_SETTINGS);
    } catch (error) {
      if (error instanceof ClickHouseError && error.retryable)
        throw new ApiError(503, "unavailable", "ClickHouse is not reachable; try again shortly", undefined, 5);
      throw error;
    }
    const rows = z.array(row).safeParse(result);
    if (!rows.success)
      throw new Error(`${resource} history query answered an unexpected shape: ${z.prettifyError(rows.error)}`);
    return c.json({
      site: range.site,
      from: range.from,
      to: range.to,
      interval: range.interval,
      time_zone: range.timeZone,
      rows: rows.data,
    });
  };
}

export const campaignHistoryRoutes = new Hono<AppEnv>();

for (const resource of Object.keys(RESOURCES) as CampaignHistoryResource[])
  campaignHistoryRoutes.get(`/${resource}`, answerFor(resource));
