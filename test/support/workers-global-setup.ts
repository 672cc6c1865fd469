/**
 * Starts a real local ClickHouse (embedded engine behind its HTTP endpoint) with the schema
 * applied, for the Durable Object tests, and hands its URL to the workerd pool.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startLocalClickHouse } from "../../clickhouse/local-server";
import { applyMigrations } from "../../clickhouse/migrate";

declare module "vitest" {
  export interface ProvidedContext {
    clickhouseUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dataDir = mkdtempSync(join(tmpdir(), "edgepulse-ch-"));
  const server = await startLocalClickHouse({ port: 0, dataDir });
  await applyMigrations({ url: server.url, username: "default", password: "", database: "edgepulse" });
  project.provide("clickhouseUrl", server.url);
  return async () => {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
}
