/**
 * The load client's HTTP side: POSTs over a keep-alive connection pool, the way a browser
 * reuses connections to the collector. `node:http` rather than `fetch`, because undici's
 * per-request overhead would make the client, not the collector, the bottleneck at a few
 * thousand requests a second on two cores.
 */
import http from "node:http";
import https from "node:https";

export interface PostResult {
  status: number;
  /** Parsed `Retry-After`, ms; null when absent or unreadable. */
  retryAfterMs: number | null;
  body: string;
}

/** `Retry-After` is either delay-seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | null {
  if (value === undefined || value.trim() === "") return null;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/** Bodies of answers are read for the accepted count; anything longer is not ours and is cut. */
const MAX_RESPONSE_BYTES = 64 * 1024;

export class CollectorClient {
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof https;

  constructor(baseUrl: string, maxSockets: number) {
    this.base = new URL(baseUrl);
    this.transport = this.base.protocol === "https:" ? https : http;
    const AgentClass = this.base.protocol === "https:" ? https.Agent : http.Agent;
    this.agent = new AgentClass({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: "lifo" });
  }

  post(path: string, body: string, headers: Record<string, string>, timeoutMs = 30_000): Promise<PostResult> {
    const url = new URL(path, this.base);
    return new Promise<PostResult>((resolve, reject) => {
      const request = this.transport.request(
        url,
        {
          method: "POST",
          agent: this.agent,
          headers: {
            "content-type": "text/plain;charset=UTF-8",
            "content-length": Buffer.byteLength(body),
            ...headers,
          },
          timeout: timeoutMs,
        },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on("data", (chunk: Buffer) => {
            if (size < MAX_RESPONSE_BYTES) chunks.push(chunk);
            size += chunk.length;
          });
          response.on("end", () => {
            const retryAfter = response.headers["retry-after"];
            resolve({
              status: response.statusCode ?? 0,
              retryAfterMs: parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter),
              body: Buffer.concat(chunks).toString("utf8"),
            });
          });
          response.on("error", reject);
        },
      );
      request.on("timeout", () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      request.on("error", reject);
      request.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
