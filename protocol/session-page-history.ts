/**
 * Entry and exit pages (`GET /v1/history/{entry-pages,exit-pages}`), from the `sessions`
 * table: closed sessions that started in the range (and meet the filters), by the first or the
 * last page they viewed. The Worker builds these and the dashboard validates them.
 */
import { z } from "zod";
import { historyRangeSchema, MAX_HISTORY_LIMIT } from "./history";

export const sessionPageHistoryResourceSchema = z.enum(["entry-pages", "exit-pages"]);
export type SessionPageHistoryResource = z.infer<typeof sessionPageHistoryResourceSchema>;

const count = z.coerce.number().int().min(0);
const rate = z.coerce.number().min(0).max(1);

export const historyEntryPageRowSchema = z.object({
  path: z.string(),
  /** Sessions that began on this page. */
  sessions: count,
  visitors: count,
  /** Of those sessions, the share that bounced (one page view), 0..1. */
  bounce_rate: rate,
});

export const historyExitPageRowSchema = z.object({
  path: z.string(),
  /** Sessions that ended on this page. */
  sessions: count,
  visitors: count,
  /** Views of this page in the range (same filters). */
  page_views: count,
  /** sessions / page_views, at most 1; 0 without views in the range. */
  exit_rate: rate,
});

const rows = <T extends z.ZodType>(row: T) => historyRangeSchema.extend({ rows: z.array(row).max(MAX_HISTORY_LIMIT) });
export const historyEntryPagesSchema = rows(historyEntryPageRowSchema);
export const historyExitPagesSchema = rows(historyExitPageRowSchema);

export type HistoryEntryPageRow = z.infer<typeof historyEntryPageRowSchema>;
export type HistoryExitPageRow = z.infer<typeof historyExitPageRowSchema>;
export type HistoryEntryPages = z.infer<typeof historyEntryPagesSchema>;
export type HistoryExitPages = z.infer<typeof historyExitPagesSchema>;
