/**
 * The embedded ClickHouse engine (npm `chdb`) behind the local HTTP server.
 *
 * Every request without `session_id` runs on a connection of its own, opened on the shared
 * data directory (about a millisecond) and closed afterwards, the way clickhouse-server
 * gives every HTTP query a fresh context: `USE db`, URL settings and `param_*` values are
 * applied with SET on that connection only, so nothing leaks into the next query. Requests
 * with a `session_id` share their session's connection instead (see `http-sessions.ts`).
 *
 * Connections on one data directory run queries in parallel, each on a libuv pool thread;
 * {@link QuerySlots} decides how many at once and keeps slots free for writes. Results are
 * streamed chunk by chunk (`queryStream`), so the first byte leaves as soon as the first
 * block is computed, and an abort (the client went away) stops the engine between chunks.
 * Statements the engine cannot stream (DDL, INSERT, SET, SHOW …) run as one-shot queries.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ChdbQueryStream, type RawInsertFormat, Session } from "chdb";
import { HttpSessions, type SessionRequest } from "./http-sessions";
import type { InsertPlan } from "./insert-body";
import { QuerySlots } from "./query-slots";
import { movedSyntaxErrorPlace } from "./syntax-error-place";
import { ServerException } from "./server-exception";

export interface EngineRequest {
  /** SQL text; for an INSERT whose data travels beside it, see `insert`. */
  sql: string;
  /** Set when the INSERT's data is passed to the engine as bytes rather than as SQL text. */
  insert: InsertPlan | null;
  database: string | null;
  /** URL settings, applied to this query only; `readonly` is applied last so it cannot lock out the others. */
  settings: ReadonlyMap<string, string>;
  /** `param_<name>` values in ClickHouse's escaped text form, bound to `{name:Type}` placeholders. */
  params: ReadonlyMap<string, string>;
  /** Output format unless the SQL names one. */
  defaultFormat: string;
  /** Stream the result block by block; false when the format's blocks do not concatenate (stream-formats.ts). */
  streamResult: boolean;
  /** Read-only queries may use only part of the slots; see {@link QuerySlots}. */
  readOnly: boolean;
  session: SessionRequest | null;
}

export interface EngineSummary {
  read_rows: number;
  read_bytes: number;
  written_rows: number;
  written_bytes: number;
  result_rows: number;
  elapsed_ns: number;
}

/** What the engine has read so far for a running query (system.processes). */
export interface QueryProgress {
  read_rows: number;
  read_bytes: number;
  total_rows_to_read: number;
}

/**
 * Receives result bytes in order; resolves when the receiver can take more (back-pressure).
 * `progress` looks the running query up in the engine, for formats that report progress;
 * null once it has ended.
 */
export type ResultSink = (chunk: Uint8Array, progress: () => Promise<QueryProgress | null>) => Promise<void>;

export interface ChdbEngineOptions {
  /** Queries admitted (running or waiting) beyond which new ones are refused. */
  maxPendingQueries: number;
  /** Queries running at once. */
  maxConcurrentQueries: number;
  /** Of those, how many may be read-only. */
  maxConcurrentReadOnlyQueries: number;
  /** `max_memory_usage` of a query that does not set its own. */
  defaultMaxMemoryUsage: number;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PLAIN_TABLE = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?$/;
const RAW_INSERT_FORMATS = new Set<string>([
  "JSONEachRow",
  "JSONCompactEachRow",
  "CSV",
  "CSVWithNames",
  "TSV",
  "TabSeparated",
  "TSVWithNames",
  "TabSeparatedWithNames",
]);

function isRawInsertFormat(format: string): format is RawInsertFormat {
  return RAW_INSERT_FORMATS.has(format);
}

/** A string literal whose value is exactly `value` (ClickHouse unescapes `\\` and `\'`). */
function quote(value: string): string {
  return `'${value.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

function clickhouseCodeOf(error: unknown): number | null {
  if (error instanceof Error && "clickhouseCode" in error && typeof error.clickhouseCode === "number")
    return error.clickhouseCode;
  return null;
}

/**
 * A syntax error of a tagged query, placed as the client sent it: the engine counted the
 * tag's line (`shift` characters, newline included) in its position and line number.
 */
export function withoutTagPlaces(error: ServerException, shift: number): ServerException {
  const { message } = movedSyntaxErrorPlace(error.message, shift, 1);
  return message === error.message ? error : new ServerException(error.code, message, error.httpStatus);
}

export function toServerException(error: unknown): ServerException {
  if (error instanceof ServerException) return error;
  if (error instanceof Error && error.name === "AbortError")
    return ServerException.of("QUERY_WAS_CANCELLED", "Query was cancelled: the client went away");
  const message = error instanceof Error ? error.message : String(error);
  const code = /^Code: (\d+)\./.exec(message)?.[1] ?? clickhouseCodeOf(error);
  if (code !== undefined && code !== null) return new ServerException(Number(code), message.trimEnd());
  return ServerException.of("STD_EXCEPTION", message);
}

/** chdb refuses to stream statements that are not queries with a result; those run one-shot. */
function cannotStream(error: unknown): boolean {
  return error instanceof Error && /Streaming query is not supported/.test(error.message);
}

export class ChdbEngine {
  /** Kept open for the engine's lifetime so the data directory stays loaded between requests. */
  private readonly anchor: Session;
  private readonly slots: QuerySlots;
  private readonly sessions: HttpSessions<Session>;
  /** Binary INSERT bodies are written here and read by the engine with FROM INFILE. */
  private readonly spoolDir: string;
  private readonly running = new Set<Promise<unknown>>();
  private closed = false;

  private constructor(
    private readonly dataDir: string,
    readonly version: string,
    anchor: Session,
    private readonly options: ChdbEngineOptions,
  ) {
    this.anchor = anchor;
    this.slots = new QuerySlots({
      capacity: options.maxConcurrentQueries,
      readOnlyCapacity: options.maxConcurrentReadOnlyQueries,
      maxPending: options.maxPendingQueries,
    });
    this.sessions = new HttpSessions(() => this.connect());
    this.spoolDir = mkdtempSync(join(tmpdir(), "edgepulse-clickhouse-spool-"));
  }

  static async open(dataDir: string, options: ChdbEngineOptions): Promise<ChdbEngine> {
    let anchor: Session;
    try {
      anchor = new Session(dataDir, { connectionArgs: connectionArgs(options) });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(
        `cannot open the ClickHouse data directory ${dataDir} (${reason}): another process may be using it (is npm run dev ` +
          `or npm run clickhouse already running?), or this process already opened a different one (the embedded ` +
          `engine serves one data directory per process)`,
        { cause: error },
      );
    }
    try {
      const version = (await anchor.queryAsync("SELECT version()", { format: "TabSeparatedRaw" })).text().trim();
      return new ChdbEngine(dataDir, version, anchor, options);
    } catch (error) {
      anchor.close();
      throw error;
    }
  }

  /**
   * Runs one request, writing its result to `sink`. `signal` means the client went away:
   * a waiting query leaves the queue, a streaming one stops between chunks.
   */
  async run(request: EngineRequest, sink: ResultSink, signal: AbortSignal): Promise<EngineSummary> {
    if (this.closed) throw ServerException.of("NETWORK_ERROR", "The local ClickHouse server is shutting down", 503);
    const release = await this.slots.acquire(request.readOnly, signal);
    const work = this.runInSlot(request, sink, signal);
    this.running.add(work);
    try {
      return await work;
    } finally {
      this.running.delete(work);
      release();
    }
  }

  /** Waits for running requests, ends the sessions and releases the data directory. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.running]);
    this.sessions.closeAll();
    this.anchor.close();
    rmSync(this.spoolDir, { recursive: true, force: true });
  }

  private connect(): Session {
    return new Session(this.dataDir, { connectionArgs: connectionArgs(this.options) });
  }

  private async runInSlot(request: EngineRequest, sink: ResultSink, signal: AbortSignal): Promise<EngineSummary> {
    if (request.session === null) {
      const connection = this.connect();
      try {
        return await this.execute(connection, request, sink, signal, this.setupStatements(request));
      } catch (error) {
        throw toServerException(error);
      } finally {
        connection.close();
      }
    }
    const { resource: connection, release } = this.sessions.acquire(request.session);
    try {
      // In a session, URL settings still apply to one query only (SET statements persist):
      // remember what they were and put them back afterwards.
      const restore = await this.snapshotFor(connection, request);
      try {
        return await this.execute(connection, request, sink, signal, this.setupStatements(request));
      } finally {
        if (restore.length > 0) await connection.queryAsync(restore.join(";\n")).catch(() => undefined);
      }
    } catch (error) {
      throw toServerException(error);
    } finally {
      release();
    }
  }

  private async execute(
    connection: Session,
    request: EngineRequest,
    sink: ResultSink,
    signal: AbortSignal,
    setup: string[],
  ): Promise<EngineSummary> {
    const started = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - started);
    if (setup.length > 0) await connection.queryAsync(setup.join(";\n"), { format: "TabSeparated" });
    if (request.insert !== null) return this.insert(connection, request.insert, elapsed);

    // The query is tagged so that it can be found in the engine while it runs: a read-only one
    // is killed when its client goes away even while it computes (an aggregate yields no chunk
    // to stop between), as a server does with cancel_http_readonly_queries_on_client_close; and
    // progress formats read how far it got. It goes first (after the query, INSERT … VALUES
    // would read it as data); syntax errors are placed without it (withoutTagPlaces).
    const tag = `/* local-query:${randomUUID()} */`;
    const sql = `${tag}\n${request.sql}`;
    const progress = () => this.progressOf(tag);
    const kill = () => {
      if (request.readOnly) void this.killTagged(tag);
    };
    signal.addEventListener("abort", kill, { once: true });
    try {
      let stream: ChdbQueryStream | null = null;
      try {
        if (request.streamResult) stream = connection.queryStream(sql, { format: request.defaultFormat, signal });
      } catch (error) {
        if (!cannotStream(error)) throw error;
      }
      if (stream === null) {
        // One-shot: the slot stays held until it ends (a read-only one is killed on abort).
        const result = await connection.queryAsync(sql, { format: request.defaultFormat });
        const body = result.bytes();
        if (body.byteLength > 0) await sink(body, async () => null);
        return {
          read_rows: result.rowsRead,
          read_bytes: result.bytesRead,
          written_rows: 0,
          written_bytes: 0,
          result_rows: 0,
          elapsed_ns: elapsed(),
        };
      }
      let rows = 0;
      for await (const chunk of stream) {
        rows += chunk.numRows;
        await sink(chunk.raw(), progress);
        if (signal.aborted) {
          stream.cancel();
          throw ServerException.of("QUERY_WAS_CANCELLED", "Query was cancelled: the client went away");
        }
      }
      return {
        read_rows: 0,
        read_bytes: 0,
        written_rows: 0,
        written_bytes: 0,
        result_rows: rows,
        elapsed_ns: elapsed(),
      };
    } catch (error) {
      throw withoutTagPlaces(toServerException(error), tag.length + 1);
    } finally {
      signal.removeEventListener("abort", kill);
    }
  }

  /** How far the running query carrying `tag` got; null when it is no longer running. */
  private async progressOf(tag: string): Promise<QueryProgress | null> {
    const connection = this.connect();
    try {
      const result = await connection.queryAsync(
        `SELECT toString(read_rows) AS r, toString(read_bytes) AS b, toString(total_rows_approx) AS t FROM system.processes WHERE position(query, ${quote(tag)}) > 0 AND query_id != queryID() LIMIT 1`,
        { format: "TabSeparated" },
      );
      const [rows, bytes, total] = result.text().trim().split("\t").map(Number);
      if (rows === undefined || bytes === undefined || total === undefined || Number.isNaN(rows)) return null;
      return { read_rows: rows, read_bytes: bytes, total_rows_to_read: total };
    } catch {
      return null;
    } finally {
      connection.close();
    }
  }

  /** Kills the running query carrying `tag` (ASYNC: the engine stops it at its next check). */
  private async killTagged(tag: string): Promise<void> {
    const connection = this.connect();
    try {
      await connection.queryAsync(
        `KILL QUERY WHERE position(query, ${quote(tag)}) > 0 AND NOT startsWith(query, 'KILL') ASYNC`,
        { format: "TabSeparated" },
      );
    } catch {
      // The query ended meanwhile, or the engine is closing: nothing left to stop.
    } finally {
      connection.close();
    }
  }

  /**
   * Text formats the engine's raw insert knows go straight from the buffer; every other
   * format (RowBinary, Native, Parquet …), and inserts with SETTINGS or quoted names, is
   * spooled to a file the engine reads with FROM INFILE, so the bytes are never decoded.
   */
  private async insert(connection: Session, plan: InsertPlan, elapsed: () => number): Promise<EngineSummary> {
    const columns =
      plan.columns === ""
        ? []
        : plan.columns
            .slice(1, -1)
            .split(",")
            .map((column) => column.trim());
    if (
      plan.data.byteLength > 0 &&
      isRawInsertFormat(plan.format) &&
      PLAIN_TABLE.test(plan.table) &&
      plan.settings === "" &&
      columns.every((column) => IDENTIFIER.test(column))
    ) {
      const written = await connection.insert({
        table: plan.table,
        values: plan.data,
        format: plan.format,
        ...(columns.length > 0 ? { columns } : {}),
      });
      return {
        read_rows: 0,
        read_bytes: 0,
        written_rows: written.rowsWritten,
        written_bytes: written.bytesWritten,
        result_rows: 0,
        elapsed_ns: elapsed(),
      };
    }
    const file = join(this.spoolDir, `${randomUUID()}.data`);
    await writeFile(file, plan.data, { mode: 0o600 });
    try {
      const sql = `INSERT INTO ${plan.table} ${plan.columns} FROM INFILE ${quote(file)} ${plan.settings} FORMAT ${plan.format}`;
      const result = await connection.queryAsync(sql, { format: "TabSeparated" });
      return {
        read_rows: 0,
        read_bytes: 0,
        written_rows: result.rowsRead,
        written_bytes: plan.data.byteLength,
        result_rows: 0,
        elapsed_ns: elapsed(),
      };
    } finally {
      await rm(file, { force: true });
    }
  }

  private setupStatements(request: EngineRequest): string[] {
    const statements: string[] = [];
    if (request.database !== null) {
      if (!IDENTIFIER.test(request.database))
        throw ServerException.of("UNKNOWN_DATABASE", `Database ${request.database} does not exist`);
      statements.push(`USE \`${request.database}\``);
    }
    for (const [name, value] of request.settings) {
      if (name === "readonly") continue;
      if (!IDENTIFIER.test(name)) throw ServerException.of("UNKNOWN_SETTING", `Unknown setting '${name}'`);
      statements.push(`SET ${name} = ${quote(value)}`);
    }
    for (const [name, value] of request.params) {
      if (!IDENTIFIER.test(name)) throw ServerException.of("BAD_ARGUMENTS", `Invalid query parameter name '${name}'`);
      statements.push(`SET param_${name} = ${quote(value)}`);
    }
    const readonly = request.settings.get("readonly");
    if (readonly !== undefined) statements.push(`SET readonly = ${quote(readonly)}`);
    return statements;
  }

  /** Statements that put back the session's database and the settings this request overrides. */
  private async snapshotFor(connection: Session, request: EngineRequest): Promise<string[]> {
    const names = [...request.settings.keys()].filter((name) => IDENTIFIER.test(name) && name !== "readonly");
    if (names.length === 0 && request.database === null) return [];
    const result = await connection.queryAsync(
      `SELECT currentDatabase() AS name, '' AS value, 1 AS is_database UNION ALL SELECT name, value, 0 FROM system.settings WHERE name IN (${names.map(quote).join(", ") || "''"})`,
      { format: "JSONEachRow" },
    );
    const rows = result
      .text()
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as { name: string; value: string; is_database: number });
    return rows.map((row) =>
      row.is_database === 1 ? `USE \`${row.name.replaceAll("`", "``")}\`` : `SET ${row.name} = ${quote(row.value)}`,
    );
  }
}

/** Engine defaults every connection starts with, as a real server's profile would set them. */
function connectionArgs(options: ChdbEngineOptions): string[] {
  return [
    // The embedded engine answers `1+1` as `SELECT 1+1`; clickhouse-server says SYNTAX_ERROR.
    "--implicit_select=0",
    // One query must not be able to take the machine (an aborted unbounded SELECT grew to 22 GB).
    `--max_memory_usage=${options.defaultMaxMemoryUsage}`,
  ];
}
