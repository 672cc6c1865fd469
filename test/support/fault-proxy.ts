/**
 * An HTTP proxy between the collector and ClickHouse that causes network faults for real:
 *
 * - `dropInsertAnswers(n)`: the next n INSERTs are forwarded and ClickHouse runs them, but the
 *   proxy closes the collector's connection instead of passing the answer on — the collector
 *   sees a lost connection after the rows landed, the case dedup tokens exist for;
 * - `stop()` / `start()`: stop listening (and cut open connections), then listen again on the
 *   same port — with the ClickHouse server stopped too, that is an unreachable ClickHouse.
 *
 * When ClickHouse itself does not answer, the proxy cuts the connection rather than inventing
 * an HTTP error, so the collector sees what it would see without the proxy.
 */
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** Larger bodies are refused; the collector's inserts are far smaller. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "content-length",
  "host",
  "upgrade",
  "proxy-connection",
]);

export interface FaultProxyStats {
  /** Requests forwarded to ClickHouse. */
  forwarded: number;
  /** Of those, INSERTs. */
  inserts: number;
  /** INSERTs ClickHouse answered whose answer the proxy dropped. */
  droppedAnswers: number;
  /** Requests cut because ClickHouse could not be reached. */
  upstreamFailures: number;
}

export interface FaultProxy {
  readonly url: string;
  readonly port: number;
  readonly stats: Readonly<FaultProxyStats>;
  /** ClickHouse's answers to the next `count` INSERTs are dropped (the INSERTs still run). */
  dropInsertAnswers(count: number): void;
  /** Stops listening and cuts every open connection. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    request.on("data", (chunk: Buffer) => {
      total += chunk.length;
      if (total > MAX_BODY_BYTES) {
        request.destroy();
        reject(new Error("request body too large for the fault proxy"));
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

function isInsert(url: string, body: Buffer): boolean {
  const query = new URL(url, "http://proxy").searchParams.get("query") ?? body.subarray(0, 64).toString("utf8");
  return /^\s*INSERT\b/i.test(query);
}

function forwardHeaders(headers: IncomingHttpHeaders, upstreamHost: string): Record<string, string | string[]> {
  const forwarded: Record<string, string | string[]> = { host: upstreamHost };
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name.toLowerCase())) forwarded[name] = value;
  }
  return forwarded;
}

export async function startFaultProxy(upstream: { host: string; port: number }, port = 0): Promise<FaultProxy> {
  const stats: FaultProxyStats = { forwarded: 0, inserts: 0, droppedAnswers: 0, upstreamFailures: 0 };
  let answersToDrop = 0;
  const sockets = new Set<Socket>();

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const insert = isInsert(request.url ?? "/", body);
    stats.forwarded += 1;
    if (insert) stats.inserts += 1;
    const upstreamRequest = httpRequest({
      host: upstream.host,
      port: upstream.port,
      method: request.method,
      path: request.url,
      headers: {
        ...forwardHeaders(request.headers, `${upstream.host}:${upstream.port}`),
        "content-length": String(body.length),
      },
      agent: false,
    });
    upstreamRequest.on("error", () => {
      stats.upstreamFailures += 1;
      request.socket.destroy();
    });
    upstreamRequest.on("response", (upstreamResponse) => {
      const chunks: Buffer[] = [];
      upstreamResponse.on("data", (chunk: Buffer) => chunks.push(chunk));
      upstreamResponse.on("error", () => request.socket.destroy());
      upstreamResponse.on("end", () => {
        // The whole answer is here, so ClickHouse has finished the INSERT: now lose the answer.
        if (insert && answersToDrop > 0) {
          answersToDrop -= 1;
          stats.droppedAnswers += 1;
          request.socket.destroy();
          return;
        }
        const answer = Buffer.concat(chunks);
        response.writeHead(upstreamResponse.statusCode ?? 502, {
          ...forwardHeaders(upstreamResponse.headers, ""),
          "content-length": String(answer.length),
        });
        response.end(answer);
      });
    });
    upstreamRequest.end(body);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch(() => request.socket.destroy());
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  const listen = (onPort: number) =>
    new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(onPort, "127.0.0.1", () => {
        server.off("error", reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  const boundPort = await listen(port);

  return {
    url: `http://127.0.0.1:${boundPort}`,
    port: boundPort,
    stats,
    dropInsertAnswers(count) {
      answersToDrop += count;
    },
    async stop() {
      if (!server.listening) return;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
    async start() {
      if (server.listening) return;
      await listen(boundPort);
    },
  };
}
