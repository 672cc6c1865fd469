/**
 * `POST /v1/sql` `{ "site": "...", "query": "SELECT …", "max_rows"?: n }`: the SQL console.
 * The token must open the site (admin or the site's own token); the query runs only after
 * sql-guard.ts accepted it, read-only, limited to that site's rows and bounded in rows and
 * time. Answers `{ site, columns: [{name, type}], rows: [[…]], row_count, max_rows, elapsed_ms }`.
 *
 * Refusals: 403 `forbidden` for a query the guard or ClickHouse's read-only mode refuses,
 * 400 `query_failed` for a query ClickHouse cannot run (syntax, unknown column, over a limit).
 */
import { Hono } from "hono";
import { z } from "zod";
import { ClickHouseError, createClickHouse, type ClickHouse } from "../../clickhouse/client";
import { ErrorCode } from "../../clickhouse/error-codes";
import { DEFAULT_SQL_MAX_ROWS, MAX_SQL_QUERY_LENGTH, SQL_MAX_EXECUTION_SECONDS, type SqlCell, type SqlResponse, sqlRequestSchema } from "../../protocol/history";
import type { AppEnv } from "../app-env";
import { requestToken, requireReadAccess } from "../auth";
import { decodeUtf8, readBoundedBody } from "../bounded-body";
import { ApiError } from "../errors";
import { type ExplainRunner, type GuardedQuery, SqlRejectedError, guardSqlQuery } from "../sql-guard";
import { requireSite } from "../sites";

/** The JSON body holds the query plus a little; anything larger is refused unread. */
const MAX_SQL_BODY_BYTES = MAX_SQL_QUERY_LENGTH * 4 + 1024;
/** The HTTP request to ClickHouse may take a little longer than the query's own time limit. */
const CLICKHOUSE_TIMEOUT_MS = (SQL_MAX_EXECUTION_SECONDS + 5) * 1000;
/** ClickHouse codes that mean "this is not allowed" rather than "this is wrong". */
const FORBIDDEN_CODES = new Set<number>([ErrorCode.READONLY, 497 /* ACCESS_DENIED */]);

const describeRowSchema = z.object({ name: z.string(), type: z.string() });

/** ClickHouse's message without the server version and stack-trace noise. */
function clickhouseMessage(error: ClickHouseError): string {
  return error.message
    .replace(/^ClickHouse [A-Z_]+ \(\d+\): /, "")
    .replace(/\s*\(version [^)]*\)\s*$/, "")
    .replace(/^Code: \d+\. DB::Exception: /, "")
    .slice(0, 1000);
}

/** Turns what ClickHouse refused into the API's error shape. */
function refusal(error: unknown): unknown {
  if (error instanceof SqlRejectedError) return new ApiError(403, "forbidden", `query refused: ${error.message}`);
  if (!(error instanceof ClickHouseError)) return error;
  if (error.code === null) return new ApiError(503, "unavailable", "ClickHouse is not reachable; try again shortly", undefined, 5);
  if (FORBIDDEN_CODES.has(error.code)) return new ApiError(403, "forbidden", `query refused: ${clickhouseMessage(error)}`);
  return new ApiError(400, "query_failed", clickhouseMessage(error));
}

function explainRunner(clickhouse: ClickHouse): ExplainRunner {
  return {
    async explain(statement, settings) {
      const rows = await clickhouse.query<{ explain: string }>(statement, {}, settings);
      return rows.map((row) => row.explain);
    },
  };
}

async function runGuarded(clickhouse: ClickHouse, { sql, settings, describeSettings }: GuardedQuery) {
  // The output column list, even for an empty result; DESCRIBE analyses without running.
  const columns = z.array(describeRowSchema).parse(await clickhouse.query<unknown>(`DESCRIBE TABLE (\n${sql}\n)`, {}, describeSettings));
  // 64-bit integers as strings here: the console shows them exactly, whatever their size.
  const objects = await clickhouse.query<Record<string, SqlCell>>(sql, {}, { ...settings, output_format_json_quote_64bit_integers: 1 });
  const rows = objects.map((object) => columns.map((column) => object[column.name] ?? null));
  return { columns, rows };
}

export const sqlRoutes = new Hono<AppEnv>();

sqlRoutes.post("/", async (c) => {
  if (requestToken(c) === null) throw new ApiError(401, "unauthorized", "a read token is required (Authorization: Bearer <token>)");
  const text = decodeUtf8(await readBoundedBody(c.req.raw, MAX_SQL_BODY_BYTES));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw ApiError.invalidPayload("the body must be JSON: { \"site\": \"…\", \"query\": \"SELECT …\" }");
  }
  const request = sqlRequestSchema.safeParse(json);
  if (!request.success) throw ApiError.fromZod(request.error);
  const { site, query } = request.data;
  const maxRows = request.data.max_rows ?? DEFAULT_SQL_MAX_ROWS;
  await requireReadAccess(c, site);
  const config = c.get("config");
  requireSite(config, site);

  const clickhouse = createClickHouse(config.clickhouse, { timeoutMs: CLICKHOUSE_TIMEOUT_MS });
  const started = Date.now();
  try {
    const guarded = await guardSqlQuery(query, { database: config.clickhouse.database, site, maxRows, maxExecutionSeconds: SQL_MAX_EXECUTION_SECONDS }, explainRunner(clickhouse));
    const { columns, rows } = await runGuarded(clickhouse, guarded);
    const answer: SqlResponse = { site, columns, rows, row_count: rows.length, max_rows: maxRows, elapsed_ms: Date.now() - started };
    return c.json(answer);
  } catch (error) {
    throw refusal(error);
  }
});
