/**
 * A local webhook receiver for alert tests: a Node http server on 127.0.0.1 that records
 * every POST to `/hook/<name>` (headers, raw body, arrival time) and answers the status given
 * as `?status=` (200 by default), so a test can make deliveries fail. `GET /received/<name>`
 * answers what `<name>` received, for tests that run inside workerd and cannot see this
 * process's memory.
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedWebhook {
  name: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Date.now() when the body had arrived. */
  receivedAt: number;
  status: number;
}

export interface WebhookReceiver {
  /** Base URL, e.g. http://127.0.0.1:40123; hooks are `${url}/hook/<name>`. */
  url: string;
  received(name: string): ReceivedWebhook[];
  /** Resolves with the first webhook to `name` (after those already seen, `skip`) that `match` accepts. */
  waitFor(name: string, match: (webhook: ReceivedWebhook) => boolean, timeoutMs?: number): Promise<ReceivedWebhook>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const waiters = new Set<() => void>();
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://receiver");
    const [, kind, name = ""] = url.pathname.split("/");
    if (request.method === "GET" && kind === "received") {
      response
        .writeHead(200, { "Content-Type": "application/json" })
        .end(JSON.stringify(received.filter((webhook) => webhook.name === name)));
      return;
    }
    if (request.method !== "POST" || kind !== "hook") {
      response.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const status = Number(url.searchParams.get("status") ?? "200");
      received.push({
        name,
        headers: request.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        receivedAt: Date.now(),
        status,
      });
      response.writeHead(status, { "Content-Type": "text/plain" }).end("ok");
      for (const wake of waiters) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received: (name) => received.filter((webhook) => webhook.name === name),
    waitFor: (name, match, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const found = received.find((webhook) => webhook.name === name && match(webhook));
          if (found === undefined) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `no matching webhook to ${name} within ${timeoutMs} ms (received ${received.filter((webhook) => webhook.name === name).length})`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
