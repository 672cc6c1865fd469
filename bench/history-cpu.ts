/**
 * Server CPU per History-tab query: every query the tab sends for one range, straight to a
 * running local ClickHouse (`npm run clickhouse`, or the bench's) one at a time, with the
 * server process's user + system CPU (/proc) measured around each. On a shared machine wall
 * time follows the load; CPU per query moves by ~10 %, so this is the figure to compare
 * changes with (docs/benchmarks.md).
 *
 *   npx tsx bench/history-cpu.ts --url http://127.0.0.1:8123 --pid <server pid> \
 *     --site bench-history --from <ms> --to <ms> [--filter country:is:DE …] [--runs 3]
 *
 * `--from`/`--to` default to the last 30 days. With filters a timeseries is the one filtered
 * query, as the Worker sends it (history-answers.ts).
 */
import { parseArgs } from "node:util";
import { type HistoryFilter, parseHistoryFilter } from "../protocol/history-filters";
import { filteredTimeseriesQuery, type HistoryQuery, type HistoryQueryRange } from "../worker/history-queries";
import { processTreeCpuMs } from "./cpu";
import { HISTORY_RESOURCES } from "./history";

const { values } = parseArgs({
  options: {
    url: { type: "string", default: "http://127.0.0.1:8123" },
    database: { type: "string", default: "edgepulse" },
    pid: { type: "string" },
    site: { type: "string", default: "bench-history" },
    from: { type: "string" },
    to: { type: "string" },
    interval: { type: "string", default: String(3 * 3600) },
    filter: { type: "string", multiple: true, default: [] },
    runs: { type: "string", default: "3" },
  },
});

const pid = Number(values.pid);
if (!Number.isInteger(pid) || pid <= 0) throw new Error("--pid: the local ClickHouse server's process id");
const to = values.to === undefined ? Date.now() : Number(values.to);
const from = values.from === undefined ? to - 30 * 86_400_000 : Number(values.from);
const filters = values.filter.map((text): HistoryFilter => {
  const filter = parseHistoryFilter(text);
  if (typeof filter === "string") throw new Error(`--filter ${text}: ${filter}`);
  return filter;
});
const range: HistoryQueryRange = {
  site: values.site,
  from,
  to,
  interval: Number(values.interval),
  limit: 10,
  filters,
};
const runs = Number(values.runs);

async function run(query: HistoryQuery): Promise<void> {
  const search = new URLSearchParams({
    database: values.database,
    default_format: "JSONEachRow",
    readonly: "1",
    max_result_rows: "200000",
    result_overflow_mode: "throw",
  });
  for (const [name, value] of Object.entries(query.params)) search.set(`param_${name}`, String(value));
  const response = await fetch(`${values.url}/?${search}`, { method: "POST", body: query.sql });
  const text = await response.text();
  if (!response.ok) throw new Error(`query failed (${response.status}): ${text.slice(0, 300)}`);
}

let totalCpu = 0;
for (const { resource, queries } of HISTORY_RESOURCES) {
  const used = filters.length > 0 && resource === "timeseries" ? [filteredTimeseriesQuery] : queries;
  for (const [index, build] of used.entries()) {
    const query = build(range);
    await run(query);
    let cpu = 0;
    let wall = 0;
    for (let attempt = 0; attempt < runs; attempt++) {
      const cpuBefore = processTreeCpuMs(pid);
      const began = performance.now();
      await run(query);
      wall += performance.now() - began;
      cpu += processTreeCpuMs(pid) - cpuBefore;
    }
    totalCpu += cpu / runs;
    const name = used.length > 1 ? `${resource}[${index}]` : resource;
    console.log(
      `${name.padEnd(16)} cpu ${(cpu / runs).toFixed(0).padStart(5)} ms   wall ${(wall / runs).toFixed(0).padStart(5)} ms`,
    );
  }
}
console.log(`${"total".padEnd(16)} cpu ${totalCpu.toFixed(0).padStart(5)} ms`);
