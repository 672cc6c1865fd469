/** Worker entry point: the hono app, and the Durable Object classes wrangler binds. */
import { app } from "./app";

export { AlertEngine } from "../durable-objects/alerts/alert-engine";
export { BatchLedger } from "../durable-objects/batch-ledger";
export { IngestShard } from "../durable-objects/ingest-shard/ingest-shard";
export { LiveHub } from "../durable-objects/live-hub/live-hub";
export { SiteRegistry } from "../durable-objects/site-registry";
export { SqlGate } from "../durable-objects/sql-gate";
export { Telemetry } from "../durable-objects/telemetry";

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
} satisfies ExportedHandler<Env>;
