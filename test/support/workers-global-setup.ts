/**
 * Starts a real local ClickHouse (embedded engine behind its HTTP endpoint) with the schema
 * applied, for the Durable Object tests, and hands its URL to the workerd pool; and a local
 * webhook receiver for the alert engine's deliveries.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startLocalClickHouse } from "../../clickhouse/local-server";
import { applyMigrations } from "../../clickhouse/migrate";
import { startWebhookReceiver } from "./webhook-receiver";

declare module "vitest" {
  export interface ProvidedContext {
    clickhouseUrl: string;
    webhookReceiverUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dataDir = mkdtempSync(join(tmpdir(), "edgepulse-ch-"));
  const server = await startLocalClickHouse({ port: 0, dataDir });
  await applyMigrations({ url: server.url, username: "default", password: "", database: "edgepulse" });
  project.provide("clickhouseUrl", server.url);
  const receiver = await startWebhookReceiver();
  project.provide("webhookReceiverUrl", receiver.url);
  return async () => {
    await receiver.close();
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
}
