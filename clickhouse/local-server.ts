/**
 * Local ClickHouse: the embedded engine (npm `chdb`, data in a directory) behind a small
 * HTTP server that speaks the part of ClickHouse's HTTP interface `@clickhouse/client-web`
 * uses, so the Worker talks to it exactly as it talks to a real server:
 *
 * - `GET /ping` → `Ok.`; `GET /?query=…` (readonly, as on a real server); `POST /` with the
 *   SQL in the body, or `?query=INSERT … FORMAT X` in the URL and the data in the body;
 * - URL `database`, `query_id`, `default_format`, `param_<name>` (for `{name:Type}`), and every
 *   other URL parameter as a setting of that one query (e.g. `insert_deduplication_token`,
 *   `readonly`, `max_result_rows`);
 * - Basic auth or `X-ClickHouse-User`/`X-ClickHouse-Key`, checked against one configured user;
 * - errors as `Code: N. DB::Exception: …` with `X-ClickHouse-Exception-Code` and the HTTP status
 *   clickhouse-server picks for the code; bodies beyond the limit get 413 without being buffered.
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
import { ChdbEngine, type EngineRequest, type EngineSummary, toServerException } from "./chdb-engine";
import { ServerException } from "./server-exception";

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
  /** Queries waiting for the engine beyond which new ones are refused. Default 256. */
  maxPendingQueries?: number;
}

export interface LocalClickHouse {
  url: string;
  port: number;
  close(): Promise<void>;
}

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

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
  "session_timeout",
  "session_check",
  "close_session",
]);

export async function startLocalClickHouse(options: LocalClickHouseOptions): Promise<LocalClickHouse> {
  const host = options.host ?? "127.0.0.1";
  const user = options.user ?? "default";
  const passwordDigest = digest(options.password ?? "");
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  mkdirSync(options.dataDir, { recursive: true });
  const engine = await ChdbEngine.open(resolve(options.dataDir), options.maxPendingQueries);

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => sendException(response, toServerException(error), engine.version));
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://localhost");
    const method = request.method ?? "GET";
    if (url.pathname === "/ping" && (method === "GET" || method === "HEAD")) return sendText(response, 200, "Ok.\n");
    if (url.pathname !== "/") throw ServerException.of("BAD_ARGUMENTS", `There is no handle ${url.pathname}`, 404);
    if (method !== "GET" && method !== "POST") throw ServerException.of("BAD_ARGUMENTS", `HTTP method ${method} is not supported`, 405);

    authenticate(request, url.searchParams);
    const urlQuery = url.searchParams.get("query") ?? "";
    if (method === "GET" && urlQuery === "") return sendText(response, 200, "Ok.\n");

    const engineRequest = parseRequest(url.searchParams, method, request.headers);
    const encoding = request.headers["content-encoding"];
    if (encoding !== undefined && encoding !== "identity") {
      throw ServerException.of("NOT_IMPLEMENTED", `Content-Encoding ${encoding} is not supported by the local server; send the body uncompressed`);
    }
    if (request.headers["content-type"]?.startsWith("multipart/form-data")) {
      throw ServerException.of("NOT_IMPLEMENTED", "multipart/form-data requests are not supported by the local server; send query parameters in the URL");
    }
    const body = method === "POST" ? await readBody(request, maxBodyBytes) : Buffer.alloc(0);
    if (urlQuery !== "") {
      engineRequest.sql = urlQuery;
      engineRequest.data = body.length > 0 ? body : null;
    } else {
      engineRequest.sql = body.toString("utf8");
    }
    if (engineRequest.sql.trim() === "") throw ServerException.of("SYNTAX_ERROR", "Empty query");

    const queryId = url.searchParams.get("query_id") || randomUUID();
    const result = await engine.run(engineRequest);
    const format = outputFormat(engineRequest);
    response.writeHead(200, {
      "Content-Type": contentType(format),
      "X-ClickHouse-Query-Id": queryId,
      ...(format === null ? {} : { "X-ClickHouse-Format": format }),
      "X-ClickHouse-Summary": summaryHeader(result.summary, result.body.byteLength),
      "X-ClickHouse-Server-Display-Name": "edgepulse-local",
      "Content-Length": String(result.body.byteLength),
    });
    response.end(result.body);
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
      given = colon < 0 ? { user: decoded, password: "" } : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    } else if (params.has("user")) {
      given = { user: params.get("user") ?? "", password: params.get("password") ?? "" };
    }
    // Compare digests so the time taken says nothing about how much of the password matched.
    const passwordMatches = timingSafeEqual(digest(given.password), passwordDigest);
    if (given.user !== user || !passwordMatches) {
      throw ServerException.of("AUTHENTICATION_FAILED", `${given.user}: Authentication failed: password is incorrect, or there is no user with such name`);
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

function parseRequest(params: URLSearchParams, method: string, headers: IncomingHttpHeaders): EngineRequest {
  if (params.has("session_id")) throw ServerException.of("NOT_IMPLEMENTED", "HTTP sessions (session_id) are not supported by the local server");
  for (const name of ["compress", "decompress"]) {
    if (params.get(name) === "1") throw ServerException.of("NOT_IMPLEMENTED", `${name}=1 (ClickHouse native compression) is not supported by the local server`);
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
    data: null,
    database: params.get("database") || headerValue(headers, "x-clickhouse-database") || null,
    settings,
    params: queryParams,
    defaultFormat: params.get("default_format") || headerValue(headers, "x-clickhouse-format") || "TabSeparated",
  };
}

/** Reads the body up to `limit` bytes; beyond that answers 413 without buffering the rest. */
function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    // Let the rest arrive into the void so the client reads the 413 instead of a reset.
    request.resume();
    return Promise.reject(bodyTooLarge(limit));
  }
  return new Promise((resolveBody, rejectBody) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    request.on("data", (chunk: Buffer) => {
      if (refused) return;
      size += chunk.byteLength;
      if (size > limit) {
        refused = true;
        chunks.length = 0;
        rejectBody(bodyTooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => {
      if (!refused) resolveBody(Buffer.concat(chunks, size));
    });
    request.on("error", rejectBody);
  });
}

function bodyTooLarge(limit: number): ServerException {
  return ServerException.of("QUERY_IS_TOO_LARGE", `Request body is larger than the local server's limit of ${limit} bytes`, 413);
}

/** The format of the result: the last FORMAT clause of a query, else default_format; none for INSERTs. */
function outputFormat(request: EngineRequest): string | null {
  if (/^\s*INSERT\b/i.test(request.sql)) return null;
  const clauses = [...request.sql.matchAll(/\bFORMAT\s+([A-Za-z][A-Za-z0-9_]*)/gi)];
  return clauses.at(-1)?.[1] ?? request.defaultFormat;
}

function contentType(format: string | null): string {
  if (format === null) return "text/plain; charset=UTF-8";
  if (/EachRow/.test(format)) return "application/x-ndjson; charset=UTF-8";
  if (format.startsWith("JSON")) return "application/json; charset=UTF-8";
  if (format.startsWith("CSV")) return "text/csv; charset=UTF-8; header=absent";
  if (format.startsWith("TabSeparated") || format.startsWith("TSV")) return "text/tab-separated-values; charset=UTF-8";
  return "text/plain; charset=UTF-8";
}

/** Same keys as clickhouse-server's header; its values are strings too. */
function summaryHeader(summary: EngineSummary, resultBytes: number): string {
  return JSON.stringify({
    read_rows: String(summary.read_rows),
    read_bytes: String(summary.read_bytes),
    written_rows: String(summary.written_rows),
    written_bytes: String(summary.written_bytes),
    total_rows_to_read: String(summary.read_rows),
    result_rows: String(summary.written_rows),
    result_bytes: String(resultBytes),
    elapsed_ns: String(summary.elapsed_ns),
  });
}

function sendText(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { "Content-Type": "text/plain; charset=UTF-8", "Content-Length": String(Buffer.byteLength(text)) });
  response.end(text);
}

function sendException(response: ServerResponse, exception: ServerException, version: string): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const body = exception.body(version);
  response.writeHead(exception.httpStatus, {
    "Content-Type": "text/plain; charset=UTF-8",
    "Content-Length": String(Buffer.byteLength(body)),
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
