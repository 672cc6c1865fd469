/**
 * Which output formats the local server may stream block by block.
 *
 * The embedded engine's streaming API formats every block as a document of its own: prefix,
 * rows, suffix. For row formats without a prefix or suffix that is the same bytes as one
 * document; for every other format it is not: `JSON` becomes several documents one after the
 * other (and `WITH TOTALS` a fragment between them), `TSVWithNames` repeats its header,
 * `Parquet` concatenates files. Those run as one query whose whole result is then sent, as
 * clickhouse-server's bytes would be. (`JSONEachRowWithProgress` repeats its `meta` row and
 * misplaces progress; it streams through progress-rows.ts, which rewrites its blocks.)
 *
 * Starting a stream is also a synchronous call into the engine that parses, plans and starts
 * the query on the event loop (hundreds of milliseconds for a 30-day rollup query on a busy
 * machine), so ten History panels queued behind each other's starts and every other request
 * waited. A one-shot query runs wholly on a thread-pool thread. A query that bounds its own
 * result (`max_result_rows` / `max_result_bytes`, as the Worker's history queries do) cannot
 * grow without limit, so it runs one-shot too; unbounded ones keep streaming.
 */
const CONCATENABLE = new Set(
  [
    "TabSeparated",
    "TSV",
    "TabSeparatedRaw",
    "TSVRaw",
    "Raw",
    "CSV",
    "TSKV",
    "JSONEachRow",
    "JSONLines",
    "NDJSON",
    "JSONStringsEachRow",
    "JSONCompactEachRow",
    "JSONCompactStringsEachRow",
    "RowBinary",
    "Native",
    "LineAsString",
    "RawBLOB",
    "Null",
  ].map((name) => name.toLowerCase()),
);

/** True when a result in `format` is the concatenation of its blocks' outputs. */
export function streamsByBlock(format: string): boolean {
  return CONCATENABLE.has(format.toLowerCase());
}

/** True when the query's settings bound its result, so holding it whole is safe. */
export function boundsItsResult(settings: ReadonlyMap<string, string>): boolean {
  const positive = (name: string) => {
    const value = Number(settings.get(name) ?? "0");
    return Number.isFinite(value) && value > 0;
  };
  return positive("max_result_rows") || positive("max_result_bytes");
}
