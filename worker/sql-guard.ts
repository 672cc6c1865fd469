/**
 * The SQL console's guard: a user's query may read only its own site's rows of the EdgePulse
 * tables, and nothing else on the ClickHouse server.
 *
 * The isolation itself comes from where the query runs (layer 1); the checks around it keep
 * the query there:
 *  1. The query runs in the console database (`<database>_console`), whose `events`,
 *     `sessions` and `window_metrics` are views over the real tables with a LIMIT, and under
 *     `additional_table_filters`, which makes ClickHouse add `site = '<site>'` to the views'
 *     reads of the real tables. No filter can be moved below a LIMIT, so every expression of
 *     the user's query (WHERE, SELECT list, joins, throwIf …) runs on the site's own rows only:
 *     nothing it computes, throws or takes time over depends on another site's data. Settings:
 *     `readonly=1` (no writes, no DDL, no changing settings) and limits on rows, bytes, memory
 *     and time that throw instead of truncating.
 *  2. The parsed syntax tree (`EXPLAIN AST`, pure parsing, nothing runs): one SELECT, no
 *     SETTINGS / FORMAT / INTO OUTFILE, no table functions (url, file, remote, s3 …), only
 *     functions on the generated allow-list (sql-allowed-functions.ts), and no table named with
 *     a database, so the real tables behind the views cannot be named.
 *  3. The analysed query tree (`EXPLAIN QUERY TREE`): ClickHouse resolves every table the
 *     query reads, CTEs and `IN table` included, and each must be one of the console's views.
 *
 * ClickHouse parses the SQL, never a regular expression here, so quoting tricks and comments
 * cannot hide a table from the checks. The query-tree step runs only after the syntax step
 * passed, because analysis may already evaluate scalar subqueries.
 */

import { movedSyntaxErrorPlace } from "../clickhouse/syntax-error-place";
import { SQL_ALLOWED_FUNCTIONS } from "./sql-allowed-functions";

export const SQL_ALLOWED_TABLES = ["events", "sessions", "window_metrics"] as const;

/**
 * The database a console query runs in: it holds one view per allowed table (migration
 * 010_console_views.sql), so `FROM events` names the view, never the table behind it.
 */
export function consoleDatabase(database: string): string {
  return `${database}_console`;
}

/** Bound on the lines of an EXPLAIN's output (a query of 10,000 characters prints far fewer). */
const EXPLAIN_MAX_LINES = 100_000;

/** A query the guard refused; its message is safe to show the user. */
export class SqlRejectedError extends Error {
  override name = "SqlRejectedError";
}

export type ClickHouseSettings = Record<string, string | number>;

/** What the guard needs from ClickHouse: the lines an EXPLAIN statement prints. */
export interface ExplainRunner {
  explain(statement: string, settings: ClickHouseSettings): Promise<string[]>;
}

export interface SqlGuardOptions {
  /** The ClickHouse database holding the EdgePulse tables; queries run in its console database. */
  database: string;
  site: string;
  maxRows: number;
  maxExecutionSeconds: number;
  /** ClickHouse's memory limit for one query, in bytes. */
  maxMemoryBytes: number;
}

/** The statement to run and the settings it must run under. */
export interface GuardedQuery {
  sql: string;
  settings: ClickHouseSettings;
  /** For `DESCRIBE (query)`, which prints a row per column: the same, without the result-row limit. */
  describeSettings: ClickHouseSettings;
}

/** Suffixes ClickHouse stacks on an aggregate function (`countIf`, `sumArrayIf`, `uniqMerge` …). */
const AGGREGATE_COMBINATORS = [
  "If",
  "Array",
  "Map",
  "ForEach",
  "Distinct",
  "OrNull",
  "OrDefault",
  "Merge",
  "MergeState",
  "State",
  "SimpleState",
  "Resample",
  "ArgMin",
  "ArgMax",
  "Null",
  "Tuple",
];

/**
 * Whether the console may call `name`: it must be on the generated allow-list
 * (sql-allowed-functions.ts), itself or, for an aggregate, after its combinator suffixes.
 * Everything not listed is refused, so a function a new ClickHouse version adds is refused
 * until the list is generated again and reviewed.
 */
export function isAllowedFunction(name: string): boolean {
  let rest = name;
  for (;;) {
    if (SQL_ALLOWED_FUNCTIONS.has(rest.toLowerCase())) return true;
    const suffix = AGGREGATE_COMBINATORS.find(
      (combinator) => rest.length > combinator.length && rest.endsWith(combinator),
    );
    if (suffix === undefined) return false;
    rest = rest.slice(0, -suffix.length);
  }
}

/** The statement kinds a SELECT's syntax tree consists of; any other `…Query` node is another statement. */
const SELECT_NODE_KINDS = new Set([
  "SelectWithUnionQuery",
  "SelectQuery",
  "SelectIntersectExceptQuery",
  "TablesInSelectQuery",
]);

/** Databases whose tables are never readable, checked early for `IN system.tables` and the like. */
const DENIED_DATABASES = new Set(["system", "information_schema"]);

function quoteClickHouseString(value: string): string {
  return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/**
 * `additional_table_filters` for every allowed table, keyed by `database.table` (ClickHouse
 * matches that key whether the query names the table with or without its database).
 */
export function siteFilterSetting(database: string, site: string): string {
  const condition = `site = ${quoteClickHouseString(site)}`;
  // On a cluster (clickhouse/cluster-ddl.ts) each table is a Distributed one over `<table>_local`:
  // the local names let every shard filter before sending rows. A single node has none of them.
  const entries = SQL_ALLOWED_TABLES.flatMap((table) => [`${database}.${table}`, `${database}.${table}_local`]).map(
    (table) => `${quoteClickHouseString(table)}:${quoteClickHouseString(condition)}`,
  );
  return `{${entries.join(",")}}`;
}

/**
 * Settings for the EXPLAIN statements and the query itself. `readonly` comes last: ClickHouse
 * checks each change against the settings before the request, so the limits still apply.
 */
export function guardedSettings(options: SqlGuardOptions): ClickHouseSettings {
  return {
    max_result_rows: options.maxRows,
    result_overflow_mode: "throw",
    max_result_bytes: 32 * 1024 * 1024,
    max_execution_time: options.maxExecutionSeconds,
    timeout_overflow_mode: "throw",
    max_rows_to_read: 500_000_000,
    max_memory_usage: options.maxMemoryBytes,
    // The Worker aborts its request when the console's client goes away; the server then stops the query.
    cancel_http_readonly_queries_on_client_close: 1,
    additional_table_filters: siteFilterSetting(options.database, options.site),
    readonly: 1,
  };
}

interface TreeLine {
  depth: number;
  /** Node kind: `SelectQuery`, `Function`, `TableIdentifier`, … */
  kind: string;
  /** The rest of the line without `(children n)` / `(alias x)` decorations. */
  label: string;
  raw: string;
}

/** EXPLAIN AST indents one space per level: `  Function count (children 1)`. */
function parseSyntaxLines(lines: readonly string[]): TreeLine[] {
  return lines
    .filter((line) => line.trim() !== "")
    .map((raw) => {
      const depth = raw.length - raw.trimStart().length;
      const text = raw.trim();
      const space = text.indexOf(" ");
      const kind = space === -1 ? text : text.slice(0, space);
      const label = (space === -1 ? "" : text.slice(space + 1))
        .replace(/\s*\(children \d+\)\s*$/, "")
        .replace(/\s*\(alias [^)]*\)\s*$/, "")
        .trim();
      return { depth, kind, label, raw };
    });
}

function unquoteIdentifier(name: string): string {
  return name.replace(/^[`"]|[`"]$/g, "");
}

/** The one-row table a SELECT without FROM reads; ClickHouse writes it into the tree itself. */
const IMPLICIT_TABLE = "system.one";

/**
 * A table the syntax tree names: unqualified (resolved in the console database, where only the
 * views exist, or a CTE: decided by the query tree) or the implicit `system.one`. A database
 * name is refused outright, so the tables behind the views cannot be named.
 */
function isAllowedTableName(name: string): boolean {
  return name === IMPLICIT_TABLE || !name.includes(".");
}

/**
 * Layer 2: checks `EXPLAIN AST` output. Throws SqlRejectedError naming the first violation.
 * Exported for tests; `guardSqlQuery` is the entry point.
 */
export function checkSyntaxTree(lines: readonly string[]): void {
  const nodes = parseSyntaxLines(lines);
  const roots = nodes.filter((node) => node.depth === 0);
  const root = roots[0];
  if (roots.length !== 1 || root === undefined) throw new SqlRejectedError("send exactly one statement");
  if (root.kind !== "SelectWithUnionQuery")
    throw new SqlRejectedError("only SELECT (or WITH … SELECT) queries are allowed");
  // Children of the root beyond the select list are FORMAT, INTO OUTFILE or SETTINGS.
  if (nodes.filter((node) => node.depth === 1).length !== 1) {
    throw new SqlRejectedError("FORMAT, INTO OUTFILE and SETTINGS clauses are not allowed");
  }
  nodes.forEach((node, index) => {
    if (node.kind === "Set") throw new SqlRejectedError("a SETTINGS clause is not allowed");
    if (node.kind.endsWith("Query") && !SELECT_NODE_KINDS.has(node.kind)) {
      throw new SqlRejectedError(`${node.kind} is not allowed; only SELECT`);
    }
    if (node.kind === "TableExpression") {
      const child = nodes[index + 1];
      if (child !== undefined && child.depth === node.depth + 1 && child.kind === "Function") {
        throw new SqlRejectedError(`table functions are not allowed (${child.label.split(" ")[0] ?? ""})`);
      }
    }
    if (node.kind === "TableFunction") throw new SqlRejectedError("table functions are not allowed");
    if (node.kind === "TableIdentifier" && !isAllowedTableName(node.label)) {
      throw new SqlRejectedError(`only the tables ${SQL_ALLOWED_TABLES.join(", ")} may be read (not ${node.label})`);
    }
    if (node.kind === "Identifier" || node.kind === "TableIdentifier") {
      const first = unquoteIdentifier(node.label.split(".")[0] ?? "").toLowerCase();
      if (node.label.includes(".") && node.label !== IMPLICIT_TABLE && DENIED_DATABASES.has(first)) {
        throw new SqlRejectedError(`the ${first} database may not be read`);
      }
    }
    if (node.kind === "Function") {
      const name = node.label.split(" ")[0] ?? "";
      if (!isAllowedFunction(name)) throw new SqlRejectedError(`the function ${name} is not allowed in the console`);
    }
  });
}

/**
 * Layer 3: checks `EXPLAIN QUERY TREE` output, where every table the query reads appears as
 * `TABLE id: 3, alias: __table1, table_name: db.table` after CTEs and IN were resolved.
 * `system.one` is the implicit table of a SELECT without FROM.
 */
export function checkQueryTree(lines: readonly string[], database: string): void {
  const allowed = new Set([
    ...SQL_ALLOWED_TABLES.map((table) => `${consoleDatabase(database)}.${table}`),
    IMPLICIT_TABLE,
  ]);
  let sawTable = false;
  for (const raw of lines) {
    const line = raw.trim();
    if (line.startsWith("TABLE_FUNCTION")) throw new SqlRejectedError("table functions are not allowed");
    // `TABLE EXPRESSION` heads a join's side; the table itself follows as `TABLE id: …`.
    if (!line.startsWith("TABLE id:")) continue;
    const match = /table_name: ([^,\s]+)/.exec(line);
    const name = match?.[1];
    if (name === undefined) throw new SqlRejectedError("the query reads a table the console cannot identify");
    if (!allowed.has(name))
      throw new SqlRejectedError(`only the tables ${SQL_ALLOWED_TABLES.join(", ")} may be read (not ${name})`);
    sawTable = true;
  }
  if (!sawTable) throw new SqlRejectedError("the query reads no table the console can identify");
}

/** Removes one trailing `;` (a habit from other consoles); anything after it stays and fails the one-statement check. */
function withoutTrailingSemicolon(query: string): string {
  return query.trim().replace(/;\s*$/, "").trim();
}

/**
 * Layer 0, before ClickHouse sees anything: the statement must begin with SELECT or WITH
 * (after comments and opening parentheses). Only the first keyword is read here; the parser
 * decides the rest. It keeps other statements away even from EXPLAIN: the client appends
 * `FORMAT JSONEachRow`, which an INSERT would take as its own data format.
 */
export function startsAsSelect(sql: string): boolean {
  let rest = sql;
  for (;;) {
    const next = rest.replace(/^(\s+|--[^\n]*(\n|$)|#[^\n]*(\n|$)|\/\*[\s\S]*?\*\/|\()/, "");
    if (next === rest) break;
    rest = next;
  }
  return /^(select|with)\b/i.test(rest);
}

/**
 * `EXPLAIN …` as a subquery, so that a `FORMAT` the client appends belongs to the outer SELECT
 * and not to the explained statement. The newlines keep a trailing `--` comment from
 * swallowing the parenthesis. A query whose parentheses, quotes or comments do not balance
 * could end this subquery early, but then it cannot run on its own either.
 */
export function explainStatement(kind: "AST" | "QUERY TREE", sql: string): string {
  return `SELECT explain FROM (EXPLAIN ${kind}\n${sql}\n)`;
}

/** What precedes the query in the first statement ClickHouse parses: its syntax errors count from here. */
const PARSED_PREFIX_LENGTH = explainStatement("AST", "").indexOf("\n") + 1;

/**
 * A ClickHouse syntax error's place moved into `query` as the user typed it: the guard's
 * first statement (explainStatement "AST") wraps the query trimmed, one line and
 * PARSED_PREFIX_LENGTH characters further on, so the blank lines and indent the trim dropped
 * are added back (on the first line, to the column as well).
 */
export function syntaxErrorInQuery(message: string, query: string): ReturnType<typeof movedSyntaxErrorPlace> {
  const dropped = query.slice(0, query.length - query.trimStart().length);
  const droppedLines = dropped.split("\n").length - 1;
  const indent = dropped.length - (dropped.lastIndexOf("\n") + 1);
  return movedSyntaxErrorPlace(message, PARSED_PREFIX_LENGTH - dropped.length, 1 - droppedLines, {
    line: 1 + droppedLines,
    columns: indent,
  });
}

/**
 * Checks `query` with ClickHouse's own parser and analyser, and returns the statement and
 * settings to run it under. Throws SqlRejectedError for a refused query; a syntax error from
 * ClickHouse propagates from `runner` as its own error.
 */
export async function guardSqlQuery(
  query: string,
  options: SqlGuardOptions,
  runner: ExplainRunner,
): Promise<GuardedQuery> {
  const sql = withoutTrailingSemicolon(query);
  if (sql === "") throw new SqlRejectedError("the query is empty");
  if (!startsAsSelect(sql)) throw new SqlRejectedError("only SELECT (or WITH … SELECT) queries are allowed");
  const settings = guardedSettings(options);
  // An EXPLAIN prints a line per node, so the result-row limit meant for the query does not
  // apply to it. EXPLAIN as a subquery is the table function viewExplain, which readonly=1
  // forbids (as it forbids url(), file() … in the query itself); readonly=2 still forbids
  // every write. The syntax check runs first and refuses SETTINGS and table functions, so the
  // analysis step cannot be talked into changing settings or reading elsewhere.
  const explainSettings = { ...settings, max_result_rows: EXPLAIN_MAX_LINES, readonly: 2 };
  checkSyntaxTree(await runner.explain(explainStatement("AST", sql), explainSettings));
  checkQueryTree(await runner.explain(explainStatement("QUERY TREE", sql), explainSettings), options.database);
  return { sql, settings, describeSettings: { ...settings, max_result_rows: EXPLAIN_MAX_LINES } };
}
