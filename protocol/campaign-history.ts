/**
 * Campaign and channel history answers (`GET /v1/history/{channels,sources,campaigns}`), from
 * the `sessions` table: each session counts once, under its first touch (docs/design.md).
 * The Worker builds these and the dashboard validates them with the same schemas.
 */
import { z } from "zod";
import { historyRangeSchema, MAX_HISTORY_LIMIT } from "./history";

export const campaignHistoryResourceSchema = z.enum(["channels", "sources", "campaigns"]);
export type CampaignHistoryResource = z.infer<typeof campaignHistoryResourceSchema>;

const count = z.coerce.number().int().min(0);
const amount = z.coerce.number();

/** What every row says about its sessions (closed sessions that started in the range). */
const sessionOutcomes = {
  visitors: count,
  sessions: count,
  /** Sessions with a purchase. */
  conversions: count,
  /** conversions / sessions, 0..1. */
  conversion_rate: amount,
  /** Sum of the sessions' purchase values (currencies are not converted). */
  revenue: amount,
};

/** `channel`: a channel of worker/attribution/channel.ts, or "(not set)" for sessions stored before channels existed. */
export const historyChannelRowSchema = z.object({ channel: z.string(), ...sessionOutcomes });
/** `source`: the session's utm_source (or what `ref` / a click id implied), else its referrer host, else "(direct)". */
export const historySourceRowSchema = z.object({ source: z.string(), ...sessionOutcomes });
/** Sessions that carried a `utm_campaign`, by campaign, source and medium. */
export const historyCampaignRowSchema = z.object({
  campaign: z.string(),
  source: z.string(),
  medium: z.string(),
  ...sessionOutcomes,
});

const rows = <T extends z.ZodType>(row: T) => historyRangeSchema.extend({ rows: z.array(row).max(MAX_HISTORY_LIMIT) });
export const historyChannelsSchema = rows(historyChannelRowSchema);
export const historySourcesSchema = rows(historySourceRowSchema);
export const historyCampaignsSchema = rows(historyCampaignRowSchema);

export type HistoryChannelRow = z.infer<typeof historyChannelRowSchema>;
export type HistorySourceRow = z.infer<typeof historySourceRowSchema>;
export type HistoryCampaignRow = z.infer<typeof historyCampaignRowSchema>;
export type HistoryChannels = z.infer<typeof historyChannelsSchema>;
export type HistorySources = z.infer<typeof historySourcesSchema>;
export type HistoryCampaigns = z.infer<typeof historyCampaignsSchema>;
