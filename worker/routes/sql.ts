/**
 * `POST /v1/sql` `{ "site": "...", "query": "SELECT …", "max_rows"?: n }`: the SQL console.
 * The token must open the site (admin or the site's own token); the query runs only after
 * sql-guard.ts accepted it, read-only, over that site's rows only, in the console database,
 * and bounded in rows, bytes, memory and time. Answers
 * `{ site, columns: [{name, type}], rows: [[…]], row_count, max_rows, elapsed_ms }`.
 *
 * Each token runs at most SQL_MAX_CONCURRENT_PER_TOKEN queries at once and
 * SQL_QUERIES_PER_MINUTE a minute (the SqlGate object of the token); beyond that 429 with
 * Retry-After. A client that goes away cancels its query on the ClickHouse server.
 *
 * Refusals: 403 `forbidden` for a query the guard or ClickHouse's read-only mode refuses,
 * 400 `query_failed` for a query ClickHouse cannot run, with ClickHouse's error code name in
 * `clickhouse_error`. A site token gets a message of ours: ClickHouse's own text can quote
 * row values. The admin token gets ClickHouse's text.
 */
import { Hono } from "hono";
import { z } from "zod";
import { ClickHouseError, createClickHouse, type ClickHouse } from "../../clickhouse/client";
import { ErrorCode } from "../../clickhouse/error-codes";
import type { SqlGateLimits } from "../../durable-objects/sql-gate";
import {
  DEFAULT_SQL_MAX_ROWS,
  MAX_SQL_QUERY_LENGTH,
  SQL_MAX_EXECUTION_SECONDS,
  type SqlCell,
  type SqlResponse,
  sqlRequestSchema,
} from "../../protocol/history";
import type { AppEnv } from "../app-env";
import { type ReadAccess, requestToken, requireReadAccess, tokenDigest } from "../auth";
import { decodeUtf8, readBoundedBody } from "../bounded-body";
import { ApiError } from "../errors";
import {
  type ExplainRunner,
  type GuardedQuery,
  SqlRejectedError,
  consoleDatabase,
  guardSqlQuery,
  syntaxErrorInQuery,
} from "../sql-guard";
import { requireClickHouse } from "../production-checks";
import { requireSite } from "../site-directory";

/** The JSON body holds the query plus a little; anything larger is refused unread. */
const MAX_SQL_BODY_BYTES = MAX_SQL_QUERY_LENGTH * 4 + 1024;
/** The HTTP request to ClickHouse may take a little longer than the query's own time limit. */
const CLICKHOUSE_TIMEOUT_MS = (SQL_MAX_EXECUTION_SECONDS + 5) * 1000;
/** A console slot is freed at the latest this long after it was taken (a Worker that died never releases it). */
const LEASE_MS = CLICKHOUSE_TIMEOUT_MS + 5_000;
/** ClickHouse codes that mean "this is not allowed" rather than "this is wrong". */
const FORBIDDEN_CODES = new Set<number>([ErrorCode.READONLY, 497 /* ACCESS_DENIED */]);
/** Control characters other than tab and line breaks: never part of a query someone typed (a NUL cut ClickHouse's request). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to find them
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** What a site token is told per ClickHouse error name; ClickHouse's own text can quote row values. */
const SITE_MESSAGES: Readonly<Record<string, string>> = {
  SYNTAX_ERROR: "the query has a syntax error",
  UNKNOWN_IDENTIFIER: "the query names a column or alias that does not exist",
  UNKNOWN_FUNCTION: "the query calls a function ClickHouse does not know",
  UNKNOWN_TABLE: "the query names a table that does not exist (the console has events, sessions and window_metrics)",
  UNKNOWN_AGGREGATE_FUNCTION: "the query calls an aggregate function ClickHouse does not know",
  TIMEOUT_EXCEEDED: `the query ran longer than the console's limit of ${SQL_MAX_EXECUTION_SECONDS} s`,
  TOO_MANY_ROWS_OR_BYTES: "the query reads or returns more than the console's limit (max_rows, 32 MiB of result)",
  MEMORY_LIMIT_EXCEEDED: "the query needs more memory than the console's limit",
  ILLEGAL_PREWHERE: "PREWHERE is not available in the console; use WHERE",
  TYPE_MISMATCH: "a value has the wrong type for where it is used",
  ILLEGAL_TYPE_OF_ARGUMENT: "a function got an argument of a type it does not take",
  NUMBER_OF_ARGUMENTS_DOESNT_MATCH: "a function got the wrong number of arguments",
  FUNCTION_THROW_IF_VALUE_IS_NON_ZERO: "throwIf fired on a row",
  NOT_AN_AGGREGATE: "a column is neither aggregated nor in GROUP BY",
  ILLEGAL_AGGREGATION: "an aggregate function is used where it is not allowed",
  DIVISION_BY_ZERO: "the query divides an integer by zero",
};

const describeRowSchema = z.object({ name: z.string(), type: z.string() });

/** ClickHouse's message without the server version and stack-trace noise (admin tokens only). */
function clickhouseMessage(error: ClickHouseError): string {
  return error.message
    .replace(/^ClickHouse [A-Z_]+ \(\d+\): /, "")
    .replace(/\s*\(version [^)]*\)\s*$/, "")
    .replace(/^Code: \d+\. DB::Exception: /, "")
    .slice(0, 1000);
}

/** Our words for what ClickHouse refused: depends only on the error's name, never on its text. */
function siteMessage(name: string): string {
  if (SITE_MESSAGES[name] !== undefined) return SITE_MESSAGES[name];
  if (name.startsWith("CANNOT_PARSE") || name.startsWith("CANNOT_CONVERT"))
    return "a value could not be converted to the type asked for";
  return "ClickHouse could not run the query";
}

/** Turns what ClickHouse refused into the API's error shape, with ClickHouse's text for the admin only. */
function refusal(error: unknown, access: ReadAccess, query: string): unknown {
  if (error instanceof SqlRejectedError) return new ApiError(403, "forbidden", `query refused: ${error.message}`);
  if (!(error instanceof ClickHouseError)) return error;
  if (error.code === null)
    return new ApiError(503, "unavailable", "ClickHouse is not reachable; try again shortly", undefined, 5);
  const name = error.type ?? `CODE_${error.code}`;
  let message = access === "admin" ? clickhouseMessage(error) : `${siteMessage(name)} (${name})`;
  if (name === "SYNTAX_ERROR") {
    // Where in the query as typed, not in the statement that wrapped it; a site token gets
    // the place only (numbers), never the quoted text around it.
    const moved = syntaxErrorInQuery(clickhouseMessage(error), query);
    if (access === "admin") message = moved.message;
    else if (moved.place !== null)
      message = `${siteMessage(name)} at line ${moved.place.line}, column ${moved.place.column} (${name})`;
  }
  if (FORBIDDEN_CODES.has(error.code))
    return new ApiError(403, "forbidden", `query refused: ${message}`, undefined, undefined, name);
  return new ApiError(400, "query_failed", message, undefined, undefined, name);
}

function explainRunner(clickhouse: ClickHouse, signal: AbortSignal): ExplainRunner {
  return {
    async explain(statement, settings) {
      const rows = await clickhouse.query<{ explain: string }>(statement, {}, settings, { signal });
      return rows.map((row) => row.explain);
    },
  };
}

async function runGuarded(
  clickhouse: ClickHouse,
  { sql, settings, describeSettings }: GuardedQuery,
  signal: AbortSignal,
  queryId: string,
) {
  // The output column list, even for an empty result; DESCRIBE analyses without running.
  const columns = z
    .array(describeRowSchema)
    .parse(await clickhouse.query<unknown>(`DESCRIBE TABLE (\n${sql}\n)`, {}, describeSettings, { signal }));
  // 64-bit integers as strings here: the console shows them exactly, whatever their size.
  const objects = await clickhouse.query<Record<string, SqlCell>>(
    sql,
    {},
    { ...settings, output_format_json_quote_64bit_integers: 1 },
    { signal, queryId },
  );
  const rows = objects.map((object) => columns.map((column) => object[column.name] ?? null));
  return { columns, rows };
}

export const sqlRoutes = new Hono<AppEnv>();

sqlRoutes.post("/", async (c) => {
  const token = requestToken(c);
  if (token === null)
    throw new ApiError(401, "unauthorized", "a read token is required (Authorization: Bearer <token>)");
  const text = decodeUtf8(await readBoundedBody(c.req.raw, MAX_SQL_BODY_BYTES));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw ApiError.invalidPayload('the body must be JSON: { "site": "…", "query": "SELECT …" }');
  }
  const request = sqlRequestSchema.safeParse(json);
  if (!request.success) throw ApiError.fromZod(request.error);
  const { site, query } = request.data;
  if (CONTROL_CHARACTERS.test(query))
    throw ApiError.invalidPayload("the query contains a control character (only tabs and line breaks are allowed)");
  const maxRows = request.data.max_rows ?? DEFAULT_SQL_MAX_ROWS;
  const access = await requireReadAccess(c, site, "header", "sql");
  const config = c.get("config");
  await requireSite(c, site);
  requireClickHouse(config);

  const gate = c.env.SQL_GATE.get(c.env.SQL_GATE.idFromName(await tokenDigest(token)));
  const limits: SqlGateLimits = {
    maxConcurrent: config.sqlConsole.maxConcurrentPerToken,
    perMinute: config.sqlConsole.queriesPerMinute,
    leaseMs: LEASE_MS,
  };
  const decision = await gate.admit(limits);
  if (!decision.admitted) {
    const why =
      decision.reason === "concurrency"
        ? `this token already runs ${limits.maxConcurrent} console queries; wait for one to finish`
        : `this token may run ${limits.perMinute} console queries a minute`;
    throw new ApiError(429, "rate_limited", why, undefined, decision.retryAfterSeconds);
  }
  const signal = c.req.raw.signal;
  const clickhouse = createClickHouse(
    { ...config.clickhouse, database: consoleDatabase(config.clickhouse.database) },
    { timeoutMs: CLICKHOUSE_TIMEOUT_MS },
  );
  const started = Date.now();
  try {
    const guarded = await guardSqlQuery(
      query,
      {
        database: config.clickhouse.database,
        site,
        maxRows,
        maxExecutionSeconds: SQL_MAX_EXECUTION_SECONDS,
        maxMemoryBytes: config.sqlConsole.maxMemoryBytes,
      },
      explainRunner(clickhouse, signal),
    );
    const { columns, rows } = await runGuarded(clickhouse, guarded, signal, `console-${decision.lease}`);
    const answer: SqlResponse = {
      site,
      columns,
      rows,
      row_count: rows.length,
      max_rows: maxRows,
      elapsed_ms: Date.now() - started,
    };
    return c.json(answer);
  } catch (error) {
    // The client went away: nobody reads the answer, and it is no fault of ours.
    if (signal.aborted) return c.body(null, 499 as never);
    throw refusal(error, access, query);
  } finally {
    await gate.release(decision.lease);
  }
});
