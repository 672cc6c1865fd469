/**
 * `GET /v1/history/{channels,sources,campaigns}?site&from&to&limit&filter…`: sessions by their first
 * touch, with visitors, sessions, conversions, conversion rate and revenue
 * (campaign-history-queries.ts). Mounted before the other history routes; same parameters,
 * auth and bounds as they have (history-range.ts).
 */
import {
  type CampaignHistoryResource,
  historyCampaignRowSchema,
  historyChannelRowSchema,
  historySourceRowSchema,
} from "../../protocol/campaign-history";
import { campaignsQuery, channelsQuery, sourcesQuery } from "../campaign-history-queries";
import { type HistoryRowsResource, historyRowsRoutes } from "../history-request";

const RESOURCES: Record<CampaignHistoryResource, HistoryRowsResource> = {
  channels: { query: channelsQuery, row: historyChannelRowSchema },
  sources: { query: sourcesQuery, row: historySourceRowSchema },
  campaigns: { query: campaignsQuery, row: historyCampaignRowSchema },
};

export const campaignHistoryRoutes = historyRowsRoutes(RESOURCES);
