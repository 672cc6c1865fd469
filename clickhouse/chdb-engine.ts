/**
 * The embedded ClickHouse engine (npm `chdb`) behind the local HTTP server.
 *
 * Every request runs on a connection of its own, opened on the shared data directory and
 * closed afterwards, the way clickhouse-server gives every HTTP query a fresh context:
 * `USE db`, URL settings and `param_*` values are applied with SET on that connection only,
 * so nothing leaks into the next query. Requests run one at a time through a bounded queue:
 * chdb documents races between concurrent parameterised queries, and one core's worth of
 * serial throughput is plenty for local development.
 */
import { Session } from "chdb";
import { ServerException } from "./server-exception";

export interface EngineRequest {
  /** SQL text; for an INSERT with a body, the part before the data (`INSERT INTO t FORMAT JSONEachRow`). */
  sql: string;
  /** Request body holding the INSERT's data when the SQL came in the URL. */
  data: Buffer | null;
  database: string | null;
  /** URL settings, applied to this query only; `readonly` is applied last so it cannot lock out the others. */
  settings: ReadonlyMap<string, string>;
  /** `param_<name>` values in ClickHouse's escaped text form, bound to `{name:Type}` placeholders. */
  params: ReadonlyMap<string, string>;
  /** Output format unless the SQL names one. */
  defaultFormat: string;
}

export interface EngineSummary {
  read_rows: number;
  read_bytes: number;
  written_rows: number;
  written_bytes: number;
  elapsed_ns: number;
}

export interface EngineResponse {
  body: Uint8Array;
  summary: EngineSummary;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** `INSERT INTO [db.]table [(a, b)] FORMAT X` with plain identifiers: the shape clients send for bulk inserts. */
const PLAIN_INSERT = /^\s*INSERT\s+INTO\s+([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)\s*(?:\(([^()]*)\))?\s*FORMAT\s+([A-Za-z]+)\s*$/i;
const RAW_INSERT_FORMATS = new Set(["JSONEachRow", "JSONCompactEachRow", "CSV", "CSVWithNames", "TSV", "TabSeparated", "TSVWithNames", "TabSeparatedWithNames"] as const);
type RawInsertFormat = typeof RAW_INSERT_FORMATS extends Set<infer F> ? F : never;

function isRawInsertFormat(format: string): format is RawInsertFormat {
  return (RAW_INSERT_FORMATS as Set<string>).has(format);
}

/** A string literal whose value is exactly `value` (ClickHouse unescapes `\\` and `\'`). */
function quote(value: string): string {
  return `'${value.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

function clickhouseCodeOf(error: unknown): number | null {
  if (error instanceof Error && "clickhouseCode" in error && typeof error.clickhouseCode === "number") return error.clickhouseCode;
  return null;
}

export function toServerException(error: unknown): ServerException {
  if (error instanceof ServerException) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = clickhouseCodeOf(error) ?? /^Code: (\d+)\./.exec(message)?.[1];
  if (code !== undefined && code !== null) return new ServerException(Number(code), message.trimEnd());
  return ServerException.of("STD_EXCEPTION", message);
}

export class ChdbEngine {
  /** Kept open for the engine's lifetime so the data directory stays loaded between requests. */
  private readonly anchor: Session;
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;
  private closed = false;

  private constructor(
    private readonly dataDir: string,
    readonly version: string,
    anchor: Session,
    private readonly maxPending: number,
  ) {
    this.anchor = anchor;
  }

  static async open(dataDir: string, maxPending = 256): Promise<ChdbEngine> {
    let anchor: Session;
    try {
      anchor = new Session(dataDir);
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
      return new ChdbEngine(dataDir, version, anchor, maxPending);
    } catch (error) {
      anchor.close();
      throw error;
    }
  }

  /** Queues the request; refuses with TOO_MANY_SIMULTANEOUS_QUERIES beyond `maxPending`. */
  run(request: EngineRequest): Promise<EngineResponse> {
    if (this.closed) return Promise.reject(ServerException.of("NETWORK_ERROR", "The local ClickHouse server is shutting down", 503));
    if (this.pending >= this.maxPending) {
      return Promise.reject(ServerException.of("TOO_MANY_SIMULTANEOUS_QUERIES", `Too many simultaneous queries. Maximum: ${this.maxPending}`));
    }
    this.pending += 1;
    const result = this.tail.then(() => this.execute(request));
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result.finally(() => {
      this.pending -= 1;
    });
  }

  /** Waits for queued requests, then releases the data directory. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tail;
    this.anchor.close();
  }

  private async execute(request: EngineRequest): Promise<EngineResponse> {
    const connection = new Session(this.dataDir);
    try {
      const setup = this.setupStatements(request);
      if (setup.length > 0) await connection.queryAsync(setup.join(";\n"), { format: "TabSeparated" });
      const insert = request.data === null ? null : PLAIN_INSERT.exec(request.sql);
      const format = insert?.[3];
      if (insert && request.data !== null && format !== undefined && isRawInsertFormat(format)) {
        const columns = insert[2]?.split(",").map((column) => column.trim().replace(/^`(.*)`$/, "$1"));
        if (columns === undefined || columns.every((column) => IDENTIFIER.test(column))) {
          const written = await connection.insert({ table: insert[1] ?? "", values: request.data, format, ...(columns ? { columns } : {}) });
          return {
            body: new Uint8Array(0),
            summary: { read_rows: 0, read_bytes: 0, written_rows: written.rowsWritten, written_bytes: written.bytesWritten, elapsed_ns: Math.round(written.elapsed * 1e9) },
          };
        }
      }
      // ClickHouse's HTTP handler joins the URL query and the body with a newline; inline data follows FORMAT.
      const sql = request.data === null ? request.sql : `${request.sql}\n${request.data.toString("utf8")}`;
      const result = await connection.queryAsync(sql, { format: request.defaultFormat });
      return {
        body: result.bytes(),
        summary: { read_rows: result.rowsRead, read_bytes: result.bytesRead, written_rows: 0, written_bytes: 0, elapsed_ns: Math.round(result.elapsed * 1e9) },
      };
    } catch (error) {
      throw toServerException(error);
    } finally {
      connection.close();
    }
  }

  private setupStatements(request: EngineRequest): string[] {
    const statements: string[] = [];
    if (request.database !== null) {
      if (!IDENTIFIER.test(request.database)) throw ServerException.of("UNKNOWN_DATABASE", `Database ${request.database} does not exist`);
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
}
