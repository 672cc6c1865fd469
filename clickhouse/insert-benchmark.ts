/**
 * Insert throughput of the local ClickHouse server, the way the IngestShard writes: one
 * `INSERT INTO events FORMAT JSONEachRow` of N realistic rows through the ClickHouse wrapper.
 *
 *   npx tsx clickhouse/insert-benchmark.ts [rows=10000] [repeats=5]
 *
 * Starts its own server on an ephemeral port with a throwaway data directory.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClickHouse } from "./client";
import { startLocalClickHouse } from "./local-server";
import { applyMigrations } from "./migrate";
import { type EventRow, NO_CAMPAIGN, toDateTime64 } from "./rows";

function eventRow(i: number, start: number): EventRow {
  return {
    site: "bench",
    batch_id: `b-${Math.floor(i / 20)}`,
    event_id: `e${i % 20}`,
    type: i % 5 === 0 ? "cart" : "page_view",
    ts: toDateTime64(start + i),
    received_at: toDateTime64(start + i + 40),
    shard: i % 8,
    visitor_id: `v-${i % 997}`,
    session_id: `s-${i % 1499}`,
    url: `https://shop.example/p/${i % 300}`,
    path: `/p/${i % 300}`,
    referrer_host: i % 3 === 0 ? "google.com" : "",
    ...NO_CAMPAIGN,
    channel: i % 5 === 0 ? "Paid Search" : "Organic Search",
    title: `Product ${i % 300}`,
    country: "DE",
    device: "desktop",
    browser: "Chrome",
    os: "Linux",
    action: i % 5 === 0 ? "add" : "",
    product_id: i % 5 === 0 ? `sku-${i % 300}` : "",
    product_name: i % 5 === 0 ? `Product ${i % 300}` : "",
    price: i % 5 === 0 ? 12.5 : 0,
    quantity: i % 5 === 0 ? 2 : 0,
    value: 0,
    currency: i % 5 === 0 ? "EUR" : "",
    order_id: "",
    items: "",
    metric: "",
    metric_value: 0,
    name: "",
    props: "",
  };
}

async function main(): Promise<void> {
  const rowsPerInsert = Number(process.argv[2] ?? 10_000);
  const repeats = Number(process.argv[3] ?? 5);
  const dataDir = mkdtempSync(join(tmpdir(), "edgepulse-insert-bench-"));
  const server = await startLocalClickHouse({ port: 0, dataDir });
  try {
    const config = { url: server.url, username: "default", password: "", database: "edgepulse" };
    await applyMigrations(config);
    const clickhouse = createClickHouse(config, { timeoutMs: 60_000 });
    const start = Date.now();
    const timings: number[] = [];
    for (let run = 0; run < repeats; run++) {
      const rows = Array.from({ length: rowsPerInsert }, (_, i) => eventRow(run * rowsPerInsert + i, start));
      const began = performance.now();
      await clickhouse.insert("events", rows, `bench-${run}`);
      timings.push(performance.now() - began);
    }
    const [{ n } = { n: 0 }] = await clickhouse.query<{ n: number }>(
      "SELECT count() AS n FROM events WHERE site = 'bench'",
    );
    if (n !== rowsPerInsert * repeats) throw new Error(`expected ${rowsPerInsert * repeats} rows, found ${n}`);
    const sorted = [...timings].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
    console.log(
      `${repeats} inserts of ${rowsPerInsert} event rows: ${timings.map((ms) => ms.toFixed(0)).join(", ")} ms`,
    );
    console.log(
      `median ${median.toFixed(0)} ms = ${Math.round((rowsPerInsert / median) * 1000).toLocaleString("en")} rows/s (client serialisation + HTTP + engine)`,
    );
  } finally {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
