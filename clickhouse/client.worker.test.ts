/**
 * The ClickHouse wrapper inside workerd, where the Worker and the Durable Objects run it:
 * fetch-only, against the real local server the global setup started (its URL arrives as the
 * CLICKHOUSE_URL binding).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../common/config";
import { ClickHouseError, createClickHouse } from "./client";
import { LATEST_SCHEMA_VERSION } from "./schema-version";

describe("ClickHouse client in workerd", () => {
  const clickhouse = createClickHouse(loadConfig(env).clickhouse);

  it("pings and sees the migrated schema", async () => {
    expect(await clickhouse.ping()).toBe(true);
    expect(await clickhouse.schemaVersion()).toBe(LATEST_SCHEMA_VERSION);
  });

  it("inserts once per dedup token and queries with parameters", async () => {
    const site = `client-worker-${crypto.randomUUID()}`;
    const row = {
      site,
      target_table: "events",
      quarantined_at: "2026-11-23 10:00:00.123",
      error: 'it\'s "quoted"',
      row: "{}",
    };
    await clickhouse.insert("quarantine", [row, row], `${site}-1`);
    await clickhouse.insert("quarantine", [row, row], `${site}-1`);
    const rows = await clickhouse.query<{ n: number; error: string }>(
      "SELECT count() AS n, any(error) AS error FROM quarantine WHERE site = {site:String}",
      { site },
      { readonly: "1" },
    );
    expect(rows).toEqual([{ n: 2, error: 'it\'s "quoted"' }]);
  });

  it("classifies errors", async () => {
    const error = await clickhouse.query("SELECT * FROM no_such_table").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ClickHouseError);
    expect(error).toMatchObject({ code: 60, type: "UNKNOWN_TABLE", retryable: true });
  });
});
