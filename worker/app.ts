/**
 * The hono app: configuration, CORS and errors once, then one router per resource.
 * Everything not routed here is the dashboard, served by Workers static assets.
 */
import { Hono } from "hono";
import type { AppEnv } from "./app-env";
import { loadConfig } from "../common/config";
import { ApiError, handleError } from "./errors";
import { alertsRoutes } from "./routes/alerts";
import { adminSitesRoutes } from "./routes/admin-sites";
import { eventsRoutes } from "./routes/events";
import { healthRoutes } from "./routes/health";
import { campaignHistoryRoutes } from "./routes/campaign-history";
import { goalHistoryRoutes } from "./routes/goal-history";
import { historyRoutes } from "./routes/history";
import { liveRoutes } from "./routes/live";
import { liveFilteredRoutes } from "./routes/live-filtered";
import { metricsRoutes } from "./routes/live-metrics";
import { prometheusRoutes } from "./routes/prometheus";
import { sdkScriptRoutes } from "./routes/sdk-scripts";
import { sessionPageHistoryRoutes } from "./routes/session-page-history";
import { sitesRoutes } from "./routes/sites";
import { sqlRoutes } from "./routes/sql";
import { traceRequest } from "./trace-request";

export const app = new Hono<AppEnv>();

app.use("*", async (c, next) => {
  c.set("config", loadConfig(c.env));
  await next();
});
app.use("*", traceRequest);

app.route("/", healthRoutes);
app.route("/", prometheusRoutes);
app.route("/", sdkScriptRoutes);
app.route("/v1/events", eventsRoutes);
app.route("/v1/live/filtered", liveFilteredRoutes);
app.route("/v1/live", liveRoutes);
app.route("/v1/metrics", metricsRoutes);
app.route("/v1/history", campaignHistoryRoutes);
app.route("/v1/history", sessionPageHistoryRoutes);
app.route("/v1/history", goalHistoryRoutes);
app.route("/v1/history", historyRoutes);
app.route("/v1/sql", sqlRoutes);
app.route("/v1/sites", sitesRoutes);
app.route("/v1/admin/sites", adminSitesRoutes);
app.route("/v1/alerts", alertsRoutes);

app.notFound((c) => {
  if (c.req.path.startsWith("/v1/")) throw new ApiError(404, "not_found", `no route ${c.req.method} ${c.req.path}`);
  return c.env.ASSETS.fetch(c.req.raw);
});
app.onError(handleError);
