/**
 * Which output formats the local server may stream block by block.
 *
 * The embedded engine's streaming API formats every block as a document of its own: prefix,
 * rows, suffix. For row formats without a prefix or suffix that is the same bytes as one
 * document; for every other format it is not: `JSON` becomes several documents one after the
 * other (and `WITH TOTALS` a fragment between them), `TSVWithNames` repeats its header,
 * `Parquet` concatenates files, `JSONEachRowWithProgress` repeats its `meta` row. Those run
 * as one query whose whole result is then sent, as clickhouse-server's bytes would be.
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
