/**
 * An HTTP proxy in front of ClickHouse that can hold INSERTs back, for the flush benchmark.
 *
 * Why hold and not refuse: a refused insert makes each shard back off (1 s, 2 s, 4 s …), and
 * the staggered retries would then be measured instead of the flush. A held insert is simply
 * slow: when the gate opens every shard's pending insert goes through at once and the shard
 * carries on with the rest of its backlog in the same alarm. (The shards' ClickHouse client
 * times out after 10 s, so the gate must open within that of the first held insert.)
 *
 * Everything else (queries, pings) passes at once. Every insert is recorded with the rows
 * ClickHouse reports having written (X-ClickHouse-Summary), so the benchmark knows when the
 * last flushed row landed without polling.
 */
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";

export interface InsertRecord {
  table: string;
  /** The insert_deduplication_token (the shards' start with `site:shard:`), '' when none. */
  token: string;
  /** When it reached the proxy, when it was let through, when ClickHouse answered (performance.now()). */
  arrivedAt: number;
  forwardedAt: number;
  answeredAt: number;
  status: number;
  writtenRows: number;
}

const summarySchema = z.object({ written_rows: z.coerce.number() }).partial();
const INSERT_TABLE = /^\s*INSERT\s+INTO\s+`?([A-Za-z0-9_.]+)`?/i;

function insertTableOf(url: URL): string | null {
  const query = url.searchParams.get("query");
  if (query === null) return null;
  const table = INSERT_TABLE.exec(query)?.[1];
  // `db.table` → `table`.
  return table === undefined ? null : (table.split(".").pop() ?? table);
}

export class ClickHouseGate {
  readonly inserts: InsertRecord[] = [];
  private open = true;
  private held: (() => void)[] = [];
  private server: Server | null = null;
  private upstream: URL;
  private listeners = new Set<() => void>();

  private constructor(upstream: string) {
    this.upstream = new URL(upstream);
  }

  static async start(upstream: string): Promise<{ gate: ClickHouseGate; url: string }> {
    const gate = new ClickHouseGate(upstream);
    const server = createServer((request, response) => gate.handle(request, response));
    gate.server = server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return { gate, url: `http://127.0.0.1:${port}` };
  }

  /** From now on inserts wait. */
  close(): void {
    this.open = false;
  }

  /** Lets every held insert through, and all later ones at once. */
  release(): void {
    this.open = true;
    const waiting = this.held;
    this.held = [];
    for (const forward of waiting) forward();
  }

  get heldCount(): number {
    return this.held.length;
  }

  /** Resolves when `predicate` holds, checked after every answered insert. */
  until(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
    if (predicate()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => {
        if (!predicate()) return;
        done(true);
      };
      const done = (result: boolean) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve(result);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      this.listeners.add(check);
    });
  }

  async stop(): Promise<void> {
    this.release();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections();
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? "/", "http://gate");
    const table = insertTableOf(url);
    const arrivedAt = performance.now();
    const forward = () => {
      const forwardedAt = performance.now();
      const upstreamRequest = httpRequest(
        {
          host: this.upstream.hostname,
          port: this.upstream.port,
          method: request.method,
          path: request.url,
          headers: request.headers,
        },
        (upstreamResponse) => {
          response.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
          upstreamResponse.pipe(response);
          upstreamResponse.on("end", () => {
            if (table === null) return;
            const summaryHeader = upstreamResponse.headers["x-clickhouse-summary"];
            const summary = summarySchema.safeParse(typeof summaryHeader === "string" ? safeJson(summaryHeader) : {});
            this.inserts.push({
              table,
              token: url.searchParams.get("insert_deduplication_token") ?? "",
              arrivedAt,
              forwardedAt,
              answeredAt: performance.now(),
              status: upstreamResponse.statusCode ?? 0,
              writtenRows: summary.success ? (summary.data.written_rows ?? 0) : 0,
            });
            for (const listener of [...this.listeners]) listener();
          });
        },
      );
      upstreamRequest.on("error", () => {
        if (!response.headersSent) response.writeHead(502);
        response.end();
      });
      request.pipe(upstreamRequest);
    };
    if (table !== null && !this.open) {
      // Hold the request (its body stays unread in the socket until forwarded).
      request.pause();
      this.held.push(() => {
        request.resume();
        forward();
      });
      return;
    }
    forward();
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}
