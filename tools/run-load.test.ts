import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { batchSchema } from "../protocol";
import { BatchStream } from "./batch-stream";
import { parseRetryAfter } from "./collector-client";
import { type BatchAnswer, runLoad } from "./run-load";

interface Received {
  batch: string;
  body: string;
  at: number;
  headers: IncomingMessage["headers"];
}

let server: Server | null = null;

async function collector(
  answer: (received: Received, seen: number) => { status: number; headers?: Record<string, string>; body: string },
) {
  const received: Received[] = [];
  const seenCount = new Map<string, number>();
  server = createServer((request: IncomingMessage, response: ServerResponse) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
    request.on("end", () => {
      const batch = batchSchema.parse(JSON.parse(body));
      const item = { batch: batch.batch, body, at: performance.now(), headers: request.headers };
      received.push(item);
      const seen = (seenCount.get(batch.batch) ?? 0) + 1;
      seenCount.set(batch.batch, seen);
      const reply = answer(item, seen);
      response.writeHead(reply.status, { "content-type": "application/json", ...reply.headers });
      response.end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, received };
}

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = null;
});

const accepted = (events: number) => ({ status: 202, body: JSON.stringify({ accepted: events, duplicate: false }) });

describe("runLoad", () => {
  it("resends a batch refused with 429 after Retry-After, byte for byte, and counts it once", async () => {
    const { url, received } = await collector((item, seen) =>
      seen === 1
        ? {
            status: 429,
            headers: { "retry-after": "0.15" },
            body: '{"error":{"code":"rate_limited","message":"slow down"}}',
          }
        : accepted(batchSchema.parse(JSON.parse(item.body)).events.length),
    );
    const stream = new BatchStream({ seed: 1, runId: "t1" });
    const report = await runLoad({
      url,
      rate: 50,
      rateUnit: "batches",
      durationMs: 2000,
      maxBatches: 3,
      concurrency: 4,
      nextBatch: () => stream.next(),
    });
    expect(report.sent).toBe(3);
    expect(report.accepted).toBe(3);
    expect(report.retried).toBe(3);
    expect(report.rejected).toEqual({});
    expect(report.acceptedEvents).toBe(report.events);
    for (const batch of new Set(received.map((item) => item.batch))) {
      const attempts = received.filter((item) => item.batch === batch);
      expect(attempts).toHaveLength(2);
      expect(attempts[1]?.body).toBe(attempts[0]?.body);
      expect((attempts[1]?.at ?? 0) - (attempts[0]?.at ?? 0)).toBeGreaterThanOrEqual(140);
    }
    expect(received[0]?.headers["content-type"]).toMatch(/^text\/plain/);
    expect(received[0]?.headers.origin).toBe("https://demo.example");
    expect(received[0]?.headers["user-agent"]).toMatch(/Mozilla/);
    // One address per visitor, so per-client limits see many clients.
    expect(received[0]?.headers["cf-connecting-ip"]).toMatch(/^10\.\d+\.\d+\.\d+$/);
  });

  it("does not retry a 400, gives up on a 503 after maxRetries, and reports both by status", async () => {
    let calls = 0;
    const { url } = await collector(() => {
      calls++;
      return calls === 1
        ? { status: 400, body: '{"error":{"code":"invalid_payload","message":"no"}}' }
        : { status: 503, headers: { "retry-after": "0" }, body: '{"error":{"code":"overloaded","message":"busy"}}' };
    });
    const stream = new BatchStream({ seed: 2, runId: "t2" });
    const report = await runLoad({
      url,
      rate: 100,
      rateUnit: "batches",
      durationMs: 2000,
      maxBatches: 2,
      concurrency: 1,
      maxRetries: 2,
      nextBatch: () => stream.next(),
    });
    expect(report.rejected).toEqual({ "400": 1, "503": 1 });
    expect(report.retried).toBe(2);
    expect(calls).toBe(4);
  });

  it("keeps to the offered rate within the time bound", async () => {
    const { url, received } = await collector((item) =>
      accepted(batchSchema.parse(JSON.parse(item.body)).events.length),
    );
    const stream = new BatchStream({ seed: 3, runId: "t3" });
    const progress: number[] = [];
    const report = await runLoad({
      url,
      rate: 200,
      rateUnit: "batches",
      durationMs: 1200,
      maxBatches: 1_000_000,
      concurrency: 16,
      nextBatch: () => stream.next(),
      onProgress: (line) => progress.push(line.sent),
    });
    // 1.2 s at 200/s: 240 due times in [0, 1200).
    expect(report.sent).toBe(240);
    expect(received).toHaveLength(240);
    expect(new Set(received.map((item) => item.batch)).size).toBe(240);
    expect(report.latency.count).toBe(240);
    expect(progress.length).toBeGreaterThanOrEqual(1);
  });

  it("reports every batch's final answer, with the statuses it retried", async () => {
    // The first attempt times out at the client's end in real life; a 503 stands in for it here,
    // and the resend finds the batch stored: a duplicate 202.
    const { url } = await collector((_item, seen) =>
      seen === 1
        ? { status: 503, headers: { "retry-after": "0" }, body: '{"error":{"code":"unavailable","message":"x"}}' }
        : { status: 202, body: JSON.stringify({ accepted: 0, duplicate: true }) },
    );
    const stream = new BatchStream({ seed: 5, runId: "t5" });
    const answers: BatchAnswer[] = [];
    await runLoad({
      url,
      rate: 100,
      rateUnit: "batches",
      durationMs: 2000,
      maxBatches: 2,
      concurrency: 2,
      nextBatch: () => stream.next(),
      onAnswer: (answer) => answers.push(answer),
    });
    expect(answers).toHaveLength(2);
    for (const answer of answers)
      expect(answer).toMatchObject({ status: 202, accepted: 0, duplicate: true, attempts: 2, retriedStatuses: [503] });
    expect(new Set(answers.map((answer) => answer.batch.batch.batch)).size).toBe(2);
  });

  it("stops sending at the duration's wall-clock end when behind schedule, if asked", async () => {
    // Answers take 200 ms and one request may be in flight: the schedule (100/s) falls behind at once.
    const received: string[] = [];
    server = createServer((request: IncomingMessage, response: ServerResponse) => {
      let body = "";
      request.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      request.on("end", () => {
        received.push(body);
        setTimeout(() => {
          response.writeHead(202, { "content-type": "application/json" });
          response.end(JSON.stringify({ accepted: 1, duplicate: false }));
        }, 200);
      });
    });
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const stream = new BatchStream({ seed: 6, runId: "t6" });
    const report = await runLoad({
      url: `http://127.0.0.1:${port}`,
      rate: 100,
      rateUnit: "batches",
      durationMs: 500,
      endOnWallClock: true,
      maxBatches: 1_000_000,
      concurrency: 1,
      nextBatch: () => stream.next(),
    });
    // 50 batches are due in 500 ms; one at a time at 200 ms each, only the first few go out.
    expect(report.sent).toBeLessThan(10);
    expect(received).toHaveLength(report.sent);
  });

  it("paces in events per second when asked", async () => {
    const { url } = await collector((item) => accepted(batchSchema.parse(JSON.parse(item.body)).events.length));
    const stream = new BatchStream({ seed: 4, runId: "t4", maxEvents: 10, fullBatchesOnly: true });
    const report = await runLoad({
      url,
      rate: 1000,
      rateUnit: "events",
      durationMs: 500,
      maxBatches: 1_000_000,
      concurrency: 8,
      nextBatch: () => stream.next(),
    });
    expect(report.events).toBe(500);
    expect(report.sent).toBe(50);
  });
});

describe("parseRetryAfter", () => {
  it("reads seconds and HTTP dates", () => {
    expect(parseRetryAfter("3")).toBe(3000);
    expect(parseRetryAfter(undefined)).toBeNull();
    expect(parseRetryAfter("soon")).toBeNull();
    const now = Date.UTC(2026, 0, 1, 0, 0, 0);
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:05 GMT", now)).toBe(5000);
  });
});
