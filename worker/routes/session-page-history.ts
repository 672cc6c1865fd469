/**
 * `GET /v1/history/{entry-pages,exit-pages}?site&from&to&limit&filter…`: closed sessions by
 * the page they began or ended on (session-page-queries.ts, protocol/session-page-history.ts).
 * Mounted before the other history routes; same parameters, auth and bounds (history-request.ts).
 */
import {
  historyEntryPageRowSchema,
  historyExitPageRowSchema,
  type SessionPageHistoryResource,
} from "../../protocol/session-page-history";
import { type HistoryRowsResource, historyRowsRoutes } from "../history-request";
import { entryPagesQuery, exitPagesQuery } from "../session-page-queries";

const RESOURCES: Record<SessionPageHistoryResource, HistoryRowsResource> = {
  "entry-pages": { query: entryPagesQuery, row: historyEntryPageRowSchema },
  "exit-pages": { query: exitPagesQuery, row: historyExitPageRowSchema },
};

export const sessionPageHistoryRoutes = historyRowsRoutes(RESOURCES);
