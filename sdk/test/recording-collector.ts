/**
 * A stand-in collector for the SDK's browser tests, on its own origin (127.0.0.1, ephemeral
 * port) like the real one: it serves ep.js and ep.vitals.js from sdk/dist (so the script tag
 * derives the collector from its own origin, as in production), validates every POST
 * /v1/events body with the protocol's batchSchema, records it, and answers as scripted
 * (e.g. 503 with Retry-After, then 202), counting a resent batch id once like the Worker.
 */
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { batchSchema, type BatchInput } from "../../protocol";

export interface RecordedRequest {
  path: string;
  /** The parsed body, exactly as sent (before the schema normalises anything). */
  body: BatchInput;
  /** `cors` for fetch, `no-cors` for sendBeacon. */
  fetchMode: string | undefined;
  contentType: string | undefined;
  status: number;
  receivedAt: number;
}

export interface ScriptedAnswer {
  status: number;
  retryAfter?: string;
}

export interface RecordingCollector {
  origin: string;
  requests: RecordedRequest[];
  /** Bodies the schema rejected; every test expects none. */
  invalid: { body: string; issues: string }[];
  /** Other POSTs (the web-vitals reference beacons), by path. */
  beacons: { path: string; body: string }[];
  /** Answers for the next event POSTs, in order; after them, 202. */
  script(answers: ScriptedAnswer[]): void;
  /** Events counted once per (batch, id), like the collector's dedup. */
  counted(): BatchInput["events"];
  close(): Promise<void>;
}

const dist = new URL("../dist/", import.meta.url);
const SCRIPTS: Record<string, string> = {
  "/ep.js": "ep.js",
  "/ep.vitals.js": "ep.vitals.js",
  "/ep.outbound.js": "ep.outbound.js",
};

const readBody = async (request: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
};

export async function startRecordingCollector(): Promise<RecordingCollector> {
  const requests: RecordedRequest[] = [];
  const invalid: RecordingCollector["invalid"] = [];
  const beacons: RecordingCollector["beacons"] = [];
  let answers: ScriptedAnswer[] = [];
  const seenBatches = new Set<string>();

  const respond = (response: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
    response.writeHead(status, {
      "access-control-allow-origin": "*",
      "access-control-expose-headers": "Retry-After",
      ...headers,
    });
    response.end(body);
  };

  const server = createServer(async (request, response) => {
    const path = new URL(request.url ?? "/", "http://collector").pathname;
    if (request.method === "GET" && SCRIPTS[path]) {
      const script = await readFile(new URL(SCRIPTS[path], dist));
      return respond(response, 200, script.toString("utf8"), {
        "content-type": "text/javascript",
        "cache-control": "max-age=3600",
      });
    }
    if (request.method === "OPTIONS")
      return respond(response, 204, "", {
        "access-control-allow-methods": "POST",
        "access-control-allow-headers": "content-type",
      });
    if (request.method !== "POST") return respond(response, 404, "{}");
    const text = await readBody(request);
    if (path !== "/v1/events") {
      beacons.push({ path, body: text });
      return respond(response, 204, "");
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      invalid.push({ body: text, issues: "not JSON" });
      return respond(response, 400, '{"error":{"code":"invalid_payload","message":"not JSON"}}');
    }
    const parsed = batchSchema.safeParse(body);
    if (!parsed.success) {
      invalid.push({ body: text, issues: JSON.stringify(parsed.error.issues) });
      return respond(response, 400, '{"error":{"code":"invalid_payload","message":"invalid"}}');
    }
    const answer = answers.shift() ?? { status: 202 };
    requests.push({
      path,
      body: body as BatchInput,
      fetchMode: request.headers["sec-fetch-mode"] as string | undefined,
      contentType: request.headers["content-type"],
      status: answer.status,
      receivedAt: Date.now(),
    });
    if (answer.status !== 202)
      return respond(
        response,
        answer.status,
        '{"error":{"code":"overloaded","message":"scripted"}}',
        answer.retryAfter ? { "retry-after": answer.retryAfter } : {},
      );
    const duplicate = seenBatches.has(parsed.data.batch);
    seenBatches.add(parsed.data.batch);
    respond(response, 202, JSON.stringify({ accepted: duplicate ? 0 : parsed.data.events.length, duplicate }), {
      "content-type": "application/json",
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    invalid,
    beacons,
    script(next) {
      answers = [...next];
    },
    counted() {
      const seen = new Set<string>();
      const events: BatchInput["events"] = [];
      for (const { body, status } of requests) {
        if (status !== 202) continue;
        for (const event of body.events) {
          const key = `${body.batch}/${event.id}`;
          if (!seen.has(key)) seen.add(key), events.push(event);
        }
      }
      return events;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
