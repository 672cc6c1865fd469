/**
 * Benchmark 4: flush. How fast the shards move a backlog of events into ClickHouse, against
 * a direct bulk insert of the very same rows through the same HTTP endpoint.
 *
 * A backlog is built by holding the shards' inserts at a gate (clickhouse-gate.ts)
 * while batches are posted for a few seconds; then the gate opens and the time until the last
 * of those events is acknowledged gives the shards' rows/s — DO work (SQLite reads and
 * deletes, JSON), the HTTP client in workerd and ClickHouse's insert, end to end. The direct
 * insert then sends the rows the shards wrote, read back as JSONEachRow, once in one request
 * and once in chunks of the shards' insert size.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { EVENTS_PER_INSERT } from "../durable-objects/ingest-shard/flush-schedule";
import type { ClickHouseGate } from "./clickhouse-gate";
import type { ThroughputLevel } from "./throughput";

export interface FlushResult {
  /** Events the collector accepted for the flush site during the backlog phase. */
  events: number;
  shard: { rowsPerSecond: number; seconds: number; inserts: number; heldAtRelease: number };
  directBulk: { rowsPerSecond: number; seconds: number };
  directChunked: { rowsPerSecond: number; seconds: number; rowsPerInsert: number };
  /** Direct, in inserts as large as the shards' were on average: isolates the per-insert cost. */
  directShardSized: { rowsPerSecond: number; seconds: number; rowsPerInsert: number };
  /** shard ÷ direct bulk. */
  ratio: number;
}

export interface FlushOptions {
  gate: ClickHouseGate;
  /** Posts batches for the flush site as fast as it can for `seconds` (closed loop). */
  postBacklog: (seconds: number) => Promise<ThroughputLevel>;
  /** The gate's URL (what the collector's CLICKHOUSE_URL points at). */
  gateUrl: string;
  /** ClickHouse itself, for reading rows back. */
  clickhouseUrl: string;
  database: string;
  site: string;
  eventsPerBatch: number;
  backlogSeconds: number;
}

async function statement(
  url: string,
  database: string,
  sql: string,
  body?: string,
  settings: Record<string, string> = {},
): Promise<string> {
  const search = new URLSearchParams({ database, ...settings });
  if (body !== undefined) search.set("query", sql);
  const response = await fetch(`${url}/?${search}`, { method: "POST", body: body ?? sql });
  const text = await response.text();
  if (!response.ok) throw new Error(`ClickHouse ${response.status}: ${text.slice(0, 400)}`);
  return text;
}

export async function measureFlush(options: FlushOptions): Promise<FlushResult> {
  const { gate } = options;
  const shardToken = `${options.site}:`;
  const flushedEvents = () =>
    gate.inserts.filter(
      (insert) => insert.table === "events" && insert.token.startsWith(shardToken) && insert.status === 200,
    );

  gate.close();
  const backlog = await options.postBacklog(options.backlogSeconds);
  const events = (backlog.statuses["202"] ?? 0) * options.eventsPerBatch;
  if (events === 0) throw new Error(`the backlog phase had no accepted batch: ${JSON.stringify(backlog.statuses)}`);
  // Every shard's alarm comes within a second of its first batch; give the last ones time to
  // reach the gate (the first held insert times out 10 s after it arrived).
  await sleep(1_000);
  const heldAtRelease = gate.heldCount;
  const releasedAt = performance.now();
  gate.release();
  const landed = await gate.until(
    () => flushedEvents().reduce((sum, insert) => sum + insert.writtenRows, 0) >= events,
    120_000,
  );
  const flushed = flushedEvents();
  const rowsLanded = flushed.reduce((sum, insert) => sum + insert.writtenRows, 0);
  if (!landed) throw new Error(`the shards flushed ${rowsLanded} of ${events} events within 120 s`);
  const lastAnswer = Math.max(...flushed.map((insert) => insert.answeredAt));
  const shardSeconds = (lastAnswer - releasedAt) / 1000;

  // The same rows, as the shards wrote them, straight through the same endpoint.
  const rows = await statement(
    options.clickhouseUrl,
    options.database,
    `SELECT * FROM events WHERE site = '${options.site}' FORMAT JSONEachRow`,
  );
  const lines = rows.split("\n").filter((line) => line !== "");
  const direct = async (table: string, chunkSize: number): Promise<number> => {
    await statement(options.clickhouseUrl, options.database, `CREATE TABLE IF NOT EXISTS ${table} AS events`);
    await statement(options.clickhouseUrl, options.database, `TRUNCATE TABLE ${table}`);
    const began = performance.now();
    for (let start = 0; start < lines.length; start += chunkSize) {
      const chunk = `${lines.slice(start, start + chunkSize).join("\n")}\n`;
      await statement(options.gateUrl, options.database, `INSERT INTO ${table} FORMAT JSONEachRow`, chunk, {
        insert_deduplicate: "0",
        async_insert: "0",
      });
    }
    return (performance.now() - began) / 1000;
  };
  const bulkSeconds = await direct("bench_direct_bulk", lines.length);
  const chunkedSeconds = await direct("bench_direct_chunked", EVENTS_PER_INSERT);
  const shardSized = Math.max(1, Math.round(rowsLanded / Math.max(1, flushed.length)));
  const shardSizedSeconds = await direct("bench_direct_shard_sized", shardSized);
  for (const table of ["bench_direct_bulk", "bench_direct_chunked", "bench_direct_shard_sized"]) {
    await statement(options.clickhouseUrl, options.database, `DROP TABLE IF EXISTS ${table}`);
  }

  const shardRate = rowsLanded / shardSeconds;
  const bulkRate = lines.length / bulkSeconds;
  return {
    events,
    shard: { rowsPerSecond: shardRate, seconds: shardSeconds, inserts: flushed.length, heldAtRelease },
    directBulk: { rowsPerSecond: bulkRate, seconds: bulkSeconds },
    directChunked: {
      rowsPerSecond: lines.length / chunkedSeconds,
      seconds: chunkedSeconds,
      rowsPerInsert: EVENTS_PER_INSERT,
    },
    directShardSized: {
      rowsPerSecond: lines.length / shardSizedSeconds,
      seconds: shardSizedSeconds,
      rowsPerInsert: shardSized,
    },
    ratio: shardRate / bulkRate,
  };
}
