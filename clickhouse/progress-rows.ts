/**
 * `JSONEachRowWithProgress` / `JSONStringsEachRowWithProgress` as clickhouse-server writes them.
 *
 * A server's output format writes the query's cumulative progress, when it has changed,
 * before each block it writes (rows, totals, extremes) and before its suffix: a fast
 * aggregate reads everything before its first row, so its answer opens with one
 * `{"progress":…}` line, then `{"meta":…}`, the rows, totals, extremes and the statistics
 * lines; a slow scan interleaves progress lines with its rows (clickhouse-js tests both).
 *
 * The embedded engine's stream formats every block as a document of its own: each repeats
 * `meta`, and each carries the progress made since the previous one, wherever the engine
 * happened to flush it (a fast query's lands after its rows, among the statistics, and a
 * result of one block gets none at all). This rewrites those documents into the server's
 * one: the first `meta` only, progress summed across blocks and written before the block it
 * precedes, statistics last. When the first block carries no progress, the running query is
 * looked up in the engine (system.processes) for what it has read so far; only when it has
 * already ended is the first block held until the next one, whose progress may cover it.
 * Rows are never parsed; only progress lines are.
 *
 * What the engine never reports cannot be written: in a scan of several blocks that takes
 * less than `interactive_delay`, the progress of the later blocks may be missing, so the last
 * progress line can fall short of what a server's would say.
 */

import type { QueryProgress } from "./chdb-engine";

const FORMATS = new Set(["jsoneachrowwithprogress", "jsonstringseachrowwithprogress"]);

/** True for the formats this rewrites; their results are streamed through a {@link ProgressRows}. */
export function hasProgressRows(format: string): boolean {
  return FORMATS.has(format.toLowerCase());
}

/** Progress fields in the order a server writes them; zero counters are left out, as a server does. */
const COUNTERS = [
  "read_rows",
  "read_bytes",
  "written_rows",
  "written_bytes",
  "total_rows_to_read",
  "result_rows",
  "result_bytes",
] as const;
type Counter = (typeof COUNTERS)[number];

interface Block {
  meta: Buffer | null;
  /** Rows, totals, extremes and anything else, in the engine's order. */
  content: Buffer[];
  /** rows_before_limit_at_least / rows_before_aggregation: the server writes them in its suffix. */
  statistics: Buffer[];
  /** The last progress line of the block: the progress made while it was produced. */
  progress: Partial<Record<Counter, number>> | null;
}

const NEWLINE = 0x0a;
const STATISTICS = [Buffer.from('{"rows_before_limit_at_least":'), Buffer.from('{"rows_before_aggregation":')];
const META = Buffer.from('{"meta":');
const PROGRESS = Buffer.from('{"progress":');

export class ProgressRows {
  /** Progress the engine's blocks reported, summed. */
  private readonly totals = new Map<Counter, number>();
  /** What the engine said the query had read when it was looked up: a floor for the totals. */
  private readonly floor = new Map<Counter, number>();
  /** Totals when a progress line was last written; a line is written only when they moved. */
  private written = "";
  private metaSent = false;
  private held: Block | null = null;
  private first = true;
  private readonly statistics: Buffer[] = [];

  /** @param elapsedNs nanoseconds since the query started, for `elapsed_ns` */
  constructor(private readonly elapsedNs: () => number) {}

  /** One engine block in; the bytes to send now (possibly none) out. */
  async push(chunk: Uint8Array, lookUp: () => Promise<QueryProgress | null>): Promise<Buffer> {
    const block = parseBlock(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    if (this.first) {
      this.first = false;
      if (block.progress === null) {
        const sofar = await lookUp();
        if (sofar === null) {
          this.held = block;
          return Buffer.alloc(0);
        }
        this.floor.set("read_rows", sofar.read_rows);
        this.floor.set("read_bytes", sofar.read_bytes);
        this.floor.set("total_rows_to_read", sofar.total_rows_to_read);
      }
    }
    const blocks = this.held === null ? [block] : [this.held, block];
    this.held = null;
    return this.emit(blocks);
  }

  /** The query ended well: what is still held, the last progress and the statistics. */
  end(): Buffer {
    const out = this.held === null ? [] : [this.emit([this.held])];
    this.held = null;
    const progress = this.progressLine();
    if (progress !== null) out.push(progress);
    out.push(...this.statistics);
    return Buffer.concat(out);
  }

  private emit(blocks: Block[]): Buffer {
    for (const block of blocks) {
      if (block.progress === null) continue;
      for (const counter of COUNTERS)
        this.totals.set(counter, (this.totals.get(counter) ?? 0) + (block.progress[counter] ?? 0));
    }
    const out: Buffer[] = [];
    const progress = this.progressLine();
    if (progress !== null) out.push(progress);
    for (const block of blocks) {
      if (!this.metaSent && block.meta !== null && (block.content.length > 0 || block.statistics.length > 0)) {
        out.push(block.meta);
        this.metaSent = true;
      }
      out.push(...block.content);
      this.statistics.push(...block.statistics);
    }
    // A result without rows still names its columns once.
    if (!this.metaSent) {
      const meta = blocks.find((block) => block.meta !== null)?.meta;
      if (meta !== undefined && meta !== null) {
        out.push(meta);
        this.metaSent = true;
      }
    }
    return Buffer.concat(out);
  }

  /** A progress line with the totals so far, or null when they have not moved since the last one. */
  private progressLine(): Buffer | null {
    const value = (counter: Counter) => Math.max(this.totals.get(counter) ?? 0, this.floor.get(counter) ?? 0);
    const fields = COUNTERS.filter((counter) => value(counter) > 0).map(
      (counter) => `"${counter}":"${value(counter)}"`,
    );
    const key = fields.join(",");
    if (key === "" || key === this.written) return null;
    this.written = key;
    return Buffer.from(`{"progress":{${key},"elapsed_ns":"${Math.max(0, Math.round(this.elapsedNs()))}"}}\n`);
  }
}

function startsWith(line: Buffer, prefix: Buffer): boolean {
  return line.byteLength >= prefix.byteLength && line.subarray(0, prefix.byteLength).equals(prefix);
}

function parseBlock(bytes: Buffer): Block {
  const block: Block = { meta: null, content: [], statistics: [], progress: null };
  let start = 0;
  while (start < bytes.byteLength) {
    const newline = bytes.indexOf(NEWLINE, start);
    const end = newline < 0 ? bytes.byteLength : newline + 1;
    const line = bytes.subarray(start, end);
    start = end;
    if (startsWith(line, PROGRESS)) block.progress = parseProgress(line);
    else if (startsWith(line, META)) block.meta ??= line;
    else if (STATISTICS.some((prefix) => startsWith(line, prefix))) block.statistics.push(line);
    else if (line.byteLength > 0) block.content.push(line);
  }
  return block;
}

function parseProgress(line: Buffer): Partial<Record<Counter, number>> {
  const parsed: unknown = JSON.parse(line.toString("utf8"));
  const fields =
    typeof parsed === "object" && parsed !== null && "progress" in parsed ? (parsed.progress as unknown) : null;
  const progress: Partial<Record<Counter, number>> = {};
  if (typeof fields !== "object" || fields === null) return progress;
  for (const counter of COUNTERS) {
    const value = Number((fields as Record<string, unknown>)[counter] ?? 0);
    if (Number.isFinite(value) && value > 0) progress[counter] = value;
  }
  return progress;
}
