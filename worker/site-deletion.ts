/**
 * What deleting a site removes besides its registry row: its rows in every ClickHouse table
 * that has a `site` column (events, sessions, window_metrics, quarantine, and any rollup added
 * later), and the storage of its Durable Objects (each IngestShard and its LiveHub).
 *
 * Order matters. The registry row goes first (route), then this waits out the Workers' cache
 * TTL so no isolate still accepts batches for the site, then the objects are purged (so no
 * shard flushes pending rows afterwards), and ClickHouse last.
 */
import type { ClickHouse } from "../clickhouse/client";
import type { Config } from "../common/config";
import { ingestShardName } from "../common/shard-routing";

/** Lightweight DELETE marks rows at once; `2` waits for every replica. ALTER … DELETE is the fallback (older servers, engines without it). */
const DELETE_SETTINGS = { lightweight_deletes_sync: 2, mutations_sync: 2 } as const;

/** MergeTree-family tables of `database` with a `site` column (views hold no rows). */
export async function tablesWithSite(clickhouse: ClickHouse, database: string): Promise<string[]> {
  const rows = await clickhouse.query<{ table: string }>(
    `SELECT c.table AS table FROM system.columns AS c
     INNER JOIN system.tables AS t ON t.database = c.database AND t.name = c.table
     WHERE c.database = {database:String} AND c.name = 'site' AND t.engine LIKE '%MergeTree'
     ORDER BY table`,
    { database },
  );
  return rows.map((row) => row.table);
}

/** Deletes the site's rows from each table; answers rows removed per table. */
export async function deleteClickHouseRows(
  clickhouse: ClickHouse,
  database: string,
  site: string,
): Promise<Record<string, number>> {
  const deleted: Record<string, number> = {};
  for (const table of await tablesWithSite(clickhouse, database)) {
    const name = `${database}.${table}`;
    const [counted] = await clickhouse.query<{ rows: number }>(
      `SELECT count() AS rows FROM ${name} WHERE site = {site:String}`,
      { site },
    );
    const rows = Number(counted?.rows ?? 0);
    if (rows > 0) {
      try {
        await clickhouse.command(`DELETE FROM ${name} WHERE site = {site:String}`, { site }, DELETE_SETTINGS);
      } catch {
        await clickhouse.command(
          `ALTER TABLE ${name} DELETE WHERE site = {site:String}`,
          { site },
          { mutations_sync: 2 },
        );
      }
    }
    deleted[table] = rows;
  }
  return deleted;
}

/** Purges the site's IngestShards (0 … SHARDS−1) and its LiveHub; answers how many shards were purged. */
export async function purgeDurableObjects(
  env: Env,
  config: Config,
  site: string,
): Promise<{ ingest_shards: number; live_hub: boolean }> {
  const shards = Array.from({ length: config.shards }, (_, index) =>
    env.INGEST_SHARD.get(env.INGEST_SHARD.idFromName(ingestShardName(site, index))),
  );
  await Promise.all(shards.map((shard) => shard.purge()));
  await env.LIVE_HUB.get(env.LIVE_HUB.idFromName(site)).purge();
  return { ingest_shards: shards.length, live_hub: true };
}
