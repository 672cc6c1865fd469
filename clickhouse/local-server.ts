/**
 * Local ClickHouse: the embedded engine (npm `chdb`, data in a directory) behind a small
 * HTTP server that speaks ClickHouse's HTTP interface closely enough that clients written
 * for a real server (the Worker's `@clickhouse/client-web`, clickhouse-js, curl) cannot
 * tell the difference in what they rely on:
 *
 * - `GET /ping` → `Ok.`; `GET /?query=…` (readonly, as on a real server); `POST /` with the
 *   SQL in the body, or `?query=INSERT … FORMAT X` in the URL and the data in the body;
 *   INSERT data in any format (RowBinary, Parquet …) reaches the engine as the bytes sent;
 * - URL `database`, `query_id`, `default_format`, `param_<name>` (for `{name:Type}`), and every
 *   other URL parameter as a setting of that one query; the same as multipart/form-data fields;
 * - HTTP sessions (`session_id`, `session_timeout`, `session_check`, `close_session`);
 * - gzip/deflate/br/zstd request bodies (`Content-Encoding`, bounded after decompression),
 *   and compressed responses with `enable_http_compression=1` and `Accept-Encoding`;
 * - results streamed as they are computed (in row formats, and JSONEachRowWithProgress with its
 *   progress rows where a server puts them: progress-rows.ts; JSON, Parquet, …WithNames and the
 *   like are sent whole: stream-formats.ts), the query stopped when the client goes away, a
 *   default per-query memory limit, several queries at once with slots kept for writes;
 * - Basic auth or `X-ClickHouse-User`/`X-ClickHouse-Key`, checked against one configured user;
 * - errors as `Code: N. DB::Exception: …` with `X-ClickHouse-Exception-Code` and the HTTP status
 *   clickhouse-server picks for the code (mid-stream: the tagged exception block of 25.11+);
 *   bodies beyond the limit get 413 without being buffered.
 *
 * Run standalone with `npm run clickhouse` (127.0.0.1:8123, data in `.data/clickhouse`).
 */
import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import { mkdirSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { drainPending } from "chdb";
import { ChdbEngine, type EngineRequest, type QueryProgress, toServerException } from "./chdb-engine";
import { sessionRequestOf } from "./http-sessions";
import { isSafeAsSqlText, planInsertFromBody, planInsertFromUrl } from "./insert-body";
import { isMultipartForm, parseMultipartForm } from "./multipart-form";
import { decodeBody, readBody } from "./request-body";
import { compressWhole, negotiateEncoding, type ResponseEncoding, ResultWriter } from "./result-writer";
import { hasProgressRows, ProgressRows } from "./progress-rows";
import { ServerException } from "./server-exception";
import { boundsItsResult, streamsByBlock } from "./stream-formats";

export interface LocalClickHouseOptions {
  /** 0 picks a free port. */
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  dataDir: string;
  /** The one user accepted; default `default`. */
  user?: string;
  /** Its password; default empty. */
  password?: string;
  /** Largest request body accepted; larger ones get 413. Default 64 MiB. */
  maxBodyBytes?: number;
  /** Queries admitted (running or waiting) beyond which new ones are refused. Default 256. */
  maxPendingQueries?: number;
  /**
   * Queries running at once; default from the libuv thread pool (UV_THREADPOOL_SIZE, 4 unless
   * set at process start): two threads stay free for file and compression work.
   */
  maxConcurrentQueries?: number;
  /** `max_memory_usage` for queries that do not set one. Default 2 GiB. */
  defaultMaxMemoryUsage?: number;
}

export interface LocalClickHouse {
  url: string;
  port: number;
  close(): Promise<void>;
}

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_MEMORY_USAGE = 2 * 1024 * 1024 * 1024;

/** Engine queries run on libuv pool threads: as many at once as the pool has, less two for fs and zlib. */
export function defaultConcurrentQueries(): number {
  const threads = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  return Math.max(2, Math.min(16, threads - 2));
}

/** URL parameters of the HTTP interface itself; every other one is a query setting. */
const INTERFACE_PARAMS = new Set([
  "query",
  "database",
  "query_id",
  "default_format",
  "user",
  "password",
  "quota_key",
  "role",
  "buffer_size",
  "wait_end_of_query",
  "stacktrace",
  "client_protocol_version",
  "session_id",
  "session_timeout",
  "session_check",
  "close_session",
]);

export async function startLocalClickHouse(options: LocalClickHouseOptions): Promise<LocalClickHouse> {
  const host = options.host ?? "127.0.0.1";
  const user = options.user ?? "default";
  const passwordDigest = digest(options.password ?? "");
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const maxConcurrentQueries = options.maxConcurrentQueries ?? defaultConcurrentQueries();
  mkdirSync(options.dataDir, { recursive: true });
  const engine = await ChdbEngine.open(resolve(options.dataDir), {
    maxPendingQueries: options.maxPendingQueries ?? 256,
    maxConcurrentQueries,
    // Keep a quarter of the slots (at least one) for writes: see QuerySlots.
    maxConcurrentReadOnlyQueries: maxConcurrentQueries - Math.max(1, Math.floor(maxConcurrentQueries / 4)) || 1,
    defaultMaxMemoryUsage: options.defaultMaxMemoryUsage ?? DEFAULT_MAX_MEMORY_USAGE,
  });

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) =>
      sendException(response, toServerException(error), engine.version),
    );
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://localhost");
    const method = request.method ?? "GET";
    if (url.pathname === "/ping" && (method === "GET" || method === "HEAD")) return sendText(response, 200, "Ok.\n");
    if (url.pathname !== "/") throw ServerException.of("BAD_ARGUMENTS", `There is no handle ${url.pathname}`, 404);
    if (method !== "GET" && method !== "POST")
      throw ServerException.of("BAD_ARGUMENTS", `HTTP method ${method} is not supported`, 405);

    const params = new URLSearchParams(url.searchParams);
    authenticate(request, params);
    if (method === "GET" && (params.get("query") ?? "") === "") return sendText(response, 200, "Ok.\n");

    let body = method === "POST" ? await readBody(request, maxBodyBytes) : Buffer.alloc(0);
    body = await decodeBody(body, request.headers["content-encoding"], maxBodyBytes);
    const contentType = request.headers["content-type"];
    if (contentType !== undefined && isMultipartForm(contentType)) {
      // Form fields count as URL parameters (query, param_*, settings); nothing is left as data.
      for (const [name, value] of parseMultipartForm(contentType, body)) params.set(name, value);
      body = Buffer.alloc(0);
    }

    const engineRequest = parseRequest(params, method, request.headers);
    const urlQuery = params.get("query") ?? "";
    if (urlQuery !== "") {
      // The URL holds the statement and the body its data; INSERT … FORMAT data stays bytes.
      engineRequest.insert = planInsertFromUrl(urlQuery, body);
      engineRequest.sql =
        engineRequest.insert !== null || body.byteLength === 0 ? urlQuery : `${urlQuery}\n${sqlText(body)}`;
    } else {
      engineRequest.insert = planInsertFromBody(body);
      engineRequest.sql = sqlText(
        engineRequest.insert === null ? body : body.subarray(0, body.byteLength - engineRequest.insert.data.byteLength),
      );
    }
    if (engineRequest.sql.trim() === "") throw ServerException.of("SYNTAX_ERROR", "Empty query");

    const acceptEncoding = request.headers["accept-encoding"];
    const format = outputFormat(engineRequest);
    const started = process.hrtime.bigint();
    const progressRows =
      format !== null && hasProgressRows(format)
        ? new ProgressRows(() => Number(process.hrtime.bigint() - started))
        : null;
    engineRequest.streamResult =
      format === null ||
      ((streamsByBlock(format) || progressRows !== null) && !boundsItsResult(engineRequest.settings));
    engineRequest.settings = withInteractiveDelay(engineRequest.settings, progressRows !== null);
    const writer = new ResultWriter(response, {
      queryId: params.get("query_id") || randomUUID(),
      format,
      encoding: negotiateEncoding(
        typeof acceptEncoding === "string" ? acceptEncoding : undefined,
        params.get("enable_http_compression") === "1",
      ),
      waitEndOfQuery: params.get("wait_end_of_query") === "1",
      version: engine.version,
    });
    // The client went away before the end of the response: stop the query.
    const cancel = new AbortController();
    response.once("close", () => {
      if (!response.writableFinished) cancel.abort();
    });
    // Progress formats pass through their rewriter; a block it still holds when the query fails is dropped.
    const sink =
      progressRows === null
        ? writer.write
        : async (chunk: Uint8Array, progress: () => Promise<QueryProgress | null>) => {
            const bytes = await progressRows.push(chunk, progress);
            if (bytes.byteLength > 0) await writer.write(bytes);
          };
    try {
      const summary = await engine.run(engineRequest, sink, cancel.signal);
      const tail = progressRows?.end();
      if (tail !== undefined && tail.byteLength > 0) await writer.write(tail);
      writer.finish(summary);
    } catch (error) {
      writer.fail(toServerException(error), (exception, encoding) =>
        sendException(response, exception, engine.version, encoding),
      );
    }
  }

  function authenticate(request: IncomingMessage, params: URLSearchParams): void {
    let given = { user: "default", password: "" };
    const authorization = request.headers.authorization;
    const headerUser = request.headers["x-clickhouse-user"];
    if (typeof headerUser === "string") {
      const key = request.headers["x-clickhouse-key"];
      given = { user: headerUser, password: typeof key === "string" ? key : "" };
    } else if (authorization?.startsWith("Basic ")) {
      const decoded = Buffer.from(authorization.slice(6), "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      given =
        colon < 0
          ? { user: decoded, password: "" }
          : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    } else if (params.has("user")) {
      given = { user: params.get("user") ?? "", password: params.get("password") ?? "" };
    }
    // Compare digests so the time taken says nothing about how much of the password matched.
    const passwordMatches = timingSafeEqual(digest(given.password), passwordDigest);
    if (given.user !== user || !passwordMatches) {
      throw ServerException.of(
        "AUTHENTICATION_FAILED",
        `${given.user}: Authentication failed: password is incorrect, or there is no user with such name`,
      );
    }
  }

  await new Promise<void>((resolveListen, rejectListen) => {
    server.once("error", rejectListen);
    server.listen(options.port, host, () => {
      server.off("error", rejectListen);
      resolveListen();
    });
  }).catch(async (error: unknown) => {
    await engine.close();
    throw error;
  });
  const port = (server.address() as AddressInfo).port;

  let closing: Promise<void> | null = null;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolveClose) => server.close(() => resolveClose()));
        server.closeIdleConnections();
        // In-flight requests get a few seconds to finish; a stuck client must not block shutdown.
        const force = setTimeout(() => server.closeAllConnections(), 5_000);
        await closed;
        clearTimeout(force);
        await engine.close();
        // The engine binds one data directory per process; wait until it is really released.
        await drainPending();
      })();
      return closing;
    },
  };
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === "string" ? value : undefined;
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/**
 * SQL text from body bytes. Bytes that would not survive as SQL (invalid UTF-8, NUL) are
 * refused: appended to the statement they would be stored wrong without an error.
 */
function sqlText(bytes: Buffer): string {
  if (!isSafeAsSqlText(bytes)) {
    throw ServerException.of(
      "NOT_IMPLEMENTED",
      "The local server takes binary data only after INSERT INTO <table> [(columns)] [SETTINGS …] FORMAT <format>; this body is not valid UTF-8 SQL",
    );
  }
  return bytes.toString("utf8");
}

function parseRequest(params: URLSearchParams, method: string, headers: IncomingHttpHeaders): EngineRequest {
  for (const name of ["compress", "decompress"]) {
    if (params.get(name) === "1")
      throw ServerException.of(
        "NOT_IMPLEMENTED",
        `${name}=1 (ClickHouse native compression) is not supported by the local server; use Content-Encoding or enable_http_compression`,
      );
  }
  const settings = new Map<string, string>();
  const queryParams = new Map<string, string>();
  for (const [name, value] of params) {
    if (name.startsWith("param_")) queryParams.set(name.slice("param_".length), value);
    else if (!INTERFACE_PARAMS.has(name) && name !== "compress" && name !== "decompress") settings.set(name, value);
  }
  // As on clickhouse-server, GET is for reading: readonly=2 unless the caller asked for stricter.
  if (method === "GET" && (settings.get("readonly") ?? "0") === "0") settings.set("readonly", "2");
  return {
    sql: "",
    insert: null,
    database: params.get("database") || headerValue(headers, "x-clickhouse-database") || null,
    settings,
    params: queryParams,
    defaultFormat: params.get("default_format") || headerValue(headers, "x-clickhouse-format") || "TabSeparated",
    streamResult: true,
    readOnly: (settings.get("readonly") ?? "0") !== "0",
    session: sessionRequestOf(params),
  };
}

/**
 * `interactive_delay` (µs) is how often the engine looks at a running query's progress. At 0
 * the embedded engine spins and never finishes even `SELECT 1` (a server just reports
 * progress as often as it can), so it is raised to 1 ms. Progress formats get 10 ms unless
 * the query says otherwise: at the default 100 ms, the engine drops the progress of a block
 * that took about that long, and a server would have written it.
 */
function withInteractiveDelay(
  settings: ReadonlyMap<string, string>,
  progressRows: boolean,
): ReadonlyMap<string, string> {
  const given = settings.get("interactive_delay");
  if (given === undefined) return progressRows ? new Map([...settings, ["interactive_delay", "10000"]]) : settings;
  const delay = Number(given);
  if (!Number.isFinite(delay) || delay >= 1000) return settings;
  return new Map([...settings, ["interactive_delay", "1000"]]);
}

/** The format of the result: the last FORMAT clause of a query, else default_format; none for INSERTs. */
function outputFormat(request: EngineRequest): string | null {
  if (request.insert !== null || /^\s*INSERT\b/i.test(request.sql)) return null;
  const clauses = [...request.sql.matchAll(/\bFORMAT\s+([A-Za-z][A-Za-z0-9_]*)/gi)];
  return clauses.at(-1)?.[1] ?? request.defaultFormat;
}

function sendText(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, {
    "Content-Type": "text/plain; charset=UTF-8",
    "Content-Length": String(Buffer.byteLength(text)),
  });
  response.end(text);
}

function sendException(
  response: ServerResponse,
  exception: ServerException,
  version: string,
  encoding: ResponseEncoding | null = null,
): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const text = Buffer.from(exception.body(version));
  const body = encoding === null ? text : compressWhole(encoding, text);
  response.writeHead(exception.httpStatus, {
    "Content-Type": "text/plain; charset=UTF-8",
    ...(encoding === null ? {} : { "Content-Encoding": encoding }),
    "Content-Length": String(body.byteLength),
    "X-ClickHouse-Exception-Code": String(exception.code),
    // A refused body may still be arriving; do not reuse a connection in that state.
    ...(exception.httpStatus === 413 ? { Connection: "close" } : {}),
  });
  response.end(body);
}

async function main(): Promise<void> {
  const port = Number(process.env.CLICKHOUSE_PORT ?? 8123);
  const dataDir = process.env.CLICKHOUSE_DATA_DIR ?? ".data/clickhouse";
  const server = await startLocalClickHouse({ port, dataDir });
  console.log(`local ClickHouse (chdb) listening on ${server.url} — data in ${resolve(dataDir)}`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping local ClickHouse`);
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
