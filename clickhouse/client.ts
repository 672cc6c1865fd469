/**
 * The one way EdgePulse talks to ClickHouse, from the Worker, the Durable Objects (workerd)
 * and Node tools alike: a thin wrapper over `@clickhouse/client-web` (fetch only, no `node:`).
 *
 * Every failure becomes a `ClickHouseError` that says whether sending the same request again
 * can succeed (`retryable`) — the IngestShard backs off and retries on those, and quarantines
 * rows only when ClickHouse blamed the rows themselves.
 */
import {
  createClient,
  ClickHouseError as ServerError,
  type ClickHouseClient,
  type ClickHouseSettings,
} from "@clickhouse/client-web";
import type { ClickHouseConfig } from "../common/config";
import { REQUEST_AT_FAULT_CODES } from "./error-codes";
import type { RowOf, TableName } from "./rows";

export const DEFAULT_TIMEOUT_MS = 10_000;

export class ClickHouseError extends Error {
  override name = "ClickHouseError";
  constructor(
    message: string,
    /** ClickHouse exception code, or null when the server never answered with one (network, timeout). */
    readonly code: number | null,
    /** False only when the request's content is at fault (rows, types, SQL); see error-codes.ts. */
    readonly retryable: boolean,
    /** ClickHouse exception name, e.g. `UNKNOWN_TABLE`. */
    readonly type: string | null = null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface QueryOptions {
  /** Aborts the HTTP request; with `cancel_http_readonly_queries_on_client_close` the server stops the query too. */
  signal?: AbortSignal;
  /** Sent as the query's `query_id`. */
  queryId?: string;
}

/**
 * The trace an insert belongs to (durable-objects/ingest-shard/shard-tracing.ts): sent as the query's
 * `query_id`, as its `log_comment` (so `system.query_log` shows the traceparent) and as the
 * `traceparent` header ClickHouse's own OpenTelemetry support reads.
 */
export interface InsertTrace {
  queryId: string;
  traceparent: string;
}

export interface ClickHouse {
  /** One INSERT … FORMAT JSONEachRow; a retry with the same dedupToken never doubles rows. */
  insert<T extends TableName>(table: T, rows: RowOf[T][], dedupToken: string, trace?: InsertTrace): Promise<void>;
  /** Parameterised read: SQL with {name:Type} placeholders; settings e.g. { readonly: "1", max_result_rows: "10000" }. */
  query<T>(
    sql: string,
    params?: Record<string, unknown>,
    settings?: Record<string, string | number>,
    options?: QueryOptions,
  ): Promise<T[]>;
  /** A statement without a result (DELETE, ALTER): parameterised like `query`. */
  command(sql: string, params?: Record<string, unknown>, settings?: Record<string, string | number>): Promise<void>;
  /** The raw answer of `sql` (which names its FORMAT) as a stream, for exports that must not be held in memory. */
  stream(
    sql: string,
    params?: Record<string, unknown>,
    settings?: Record<string, string | number>,
    options?: QueryOptions,
  ): Promise<ReadableStream<Uint8Array>>;
  ping(): Promise<boolean>;
  /** Current schema version from schema_migrations, or null when unreachable/missing. */
  schemaVersion(): Promise<number | null>;
}

/** Maps whatever the client library threw to a classified ClickHouseError. */
export function toClickHouseError(error: unknown): ClickHouseError {
  if (error instanceof ClickHouseError) return error;
  if (error instanceof ServerError) {
    const code = Number(error.code);
    const known = Number.isInteger(code) ? code : null;
    return new ClickHouseError(
      `ClickHouse ${error.type} (${error.code}): ${error.message.trim()}`,
      known,
      known === null || !REQUEST_AT_FAULT_CODES.has(known),
      error.type,
      {
        cause: error,
      },
    );
  }
  // No exception code: the network, a timeout, a proxy's answer. Worth another try later.
  const message = error instanceof Error ? error.message : String(error);
  return new ClickHouseError(`ClickHouse unreachable: ${message}`, null, true, null, { cause: error });
}

export function createClickHouse(config: ClickHouseConfig, options: { timeoutMs?: number } = {}): ClickHouse {
  let client: ClickHouseClient | null = null;
  // Created on first use so an unset URL fails each call (retryably) instead of the constructor.
  const connect = (): ClickHouseClient => {
    if (config.url === "") throw new ClickHouseError("CLICKHOUSE_URL is not configured", null, true);
    client ??= createClient({
      url: config.url,
      username: config.username,
      password: config.password,
      database: config.database,
      request_timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      // workerd has no use for fetch's keepalive flag (it keeps a request alive past page unload).
      keep_alive: { enabled: false },
    });
    return client;
  };

  const run = async <R>(operation: (client: ClickHouseClient) => Promise<R>): Promise<R> => {
    try {
      return await operation(connect());
    } catch (error) {
      throw toClickHouseError(error);
    }
  };

  const clickhouse: ClickHouse = {
    async insert(table, rows, dedupToken, trace) {
      if (rows.length === 0) return;
      await run((client) =>
        client.insert({
          table,
          values: rows,
          format: "JSONEachRow",
          ...(trace === undefined ? {} : { query_id: trace.queryId, http_headers: { traceparent: trace.traceparent } }),
          clickhouse_settings: {
            ...(trace === undefined ? {} : { log_comment: trace.traceparent }),
            insert_deduplication_token: dedupToken,
            // Explicit, so a server whose defaults differ (e.g. async inserts on) still deduplicates synchronously.
            insert_deduplicate: 1,
            async_insert: 0,
            // The rollup views (migrations/002_rollups.sql) drop a retried block too, not only the source table
            // (the default only since ClickHouse 25.x).
            deduplicate_blocks_in_dependent_materialized_views: 1,
            // On a cluster (CLICKHOUSE_CLUSTER) the tables are Distributed: answer only once every shard has
            // its rows, under the same token, so an acknowledged flush is stored and a retry is deduplicated.
            insert_distributed_sync: 1,
          },
        }),
      );
    },

    async query<T>(
      sql: string,
      params: Record<string, unknown> = {},
      settings: Record<string, string | number> = {},
      options: QueryOptions = {},
    ): Promise<T[]> {
      return run(async (client) => {
        const result = await client.query({
          query: sql,
          query_params: params,
          ...(options.signal === undefined ? {} : { abort_signal: options.signal }),
          ...(options.queryId === undefined ? {} : { query_id: options.queryId }),
          // 64-bit integers as JSON numbers whatever the server's default (it changed across versions), so
          // callers see one shape; counts and sums stay far below 2^53.
          clickhouse_settings: { output_format_json_quote_64bit_integers: 0, ...settings } as ClickHouseSettings,
          format: "JSONEachRow",
        });
        return result.json<T>();
      });
    },

    async command(
      sql: string,
      params: Record<string, unknown> = {},
      settings: Record<string, string | number> = {},
    ): Promise<void> {
      await run((client) =>
        client.command({ query: sql, query_params: params, clickhouse_settings: settings as ClickHouseSettings }),
      );
    },

    async stream(
      sql: string,
      params: Record<string, unknown> = {},
      settings: Record<string, string | number> = {},
      options: QueryOptions = {},
    ) {
      return run(async (client) => {
        const result = await client.exec({
          query: sql,
          query_params: params,
          clickhouse_settings: settings as ClickHouseSettings,
          ...(options.signal === undefined ? {} : { abort_signal: options.signal }),
        });
        return result.stream as ReadableStream<Uint8Array>;
      });
    },

    async ping() {
      try {
        return (await connect().ping()).success;
      } catch {
        return false;
      }
    },

    async schemaVersion() {
      try {
        const rows = await clickhouse.query<{ version: number }>(
          "SELECT version FROM schema_migrations ORDER BY version DESC LIMIT 1",
        );
        return rows[0]?.version ?? null;
      } catch {
        return null;
      }
    },
  };
  return clickhouse;
}
