/**
 * An HTTP proxy in front of ClickHouse that records what each request carried (URL
 * parameters and the `traceparent` header), for tests of what the collector sends with its
 * inserts: the local engine has no `system.query_log`, so the test looks at the wire instead.
 */
import { createServer, request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  /** The statement: the `query` URL parameter, else the start of the body. */
  query: string;
  params: URLSearchParams;
  traceparent: string | null;
}

export interface RecordingProxy {
  url: string;
  requests(): RecordedRequest[];
  close(): Promise<void>;
}

export async function startRecordingProxy(upstream: string): Promise<RecordingProxy> {
  const target = new URL(upstream);
  const recorded: RecordedRequest[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks);
      const url = new URL(request.url ?? "/", "http://proxy");
      const traceparent = request.headers.traceparent;
      recorded.push({
        query: url.searchParams.get("query") ?? body.subarray(0, 200).toString("utf8"),
        params: url.searchParams,
        traceparent: typeof traceparent === "string" ? traceparent : null,
      });
      const { host: _host, connection: _connection, ...headers } = request.headers;
      const forwarded = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method: request.method,
          path: request.url,
          headers: { ...headers, "content-length": String(body.byteLength) },
        },
        (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        },
      );
      forwarded.on("error", () => response.destroy());
      forwarded.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => [...recorded],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
