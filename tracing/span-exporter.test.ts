/**
 * The exporter's bounds, with the endpoint played by a function (an answer, an error, a
 * request that never ends), so the cases where a real collector is slow or down are exact.
 */
import { describe, expect, it } from "vitest";
import type { FinishedSpan } from "./span";
import { MAX_QUEUED_SPANS, MAX_SPANS_PER_EXPORT, SpanExporter, type Fetcher } from "./span-exporter";

const SETTINGS = {
  url: "http://collector.test/v1/traces",
  headers: { "x-key": "k" },
  timeoutMs: 50,
  resource: { "service.name": "edgepulse" },
};

function span(i: number): FinishedSpan {
  return {
    name: `span ${i}`,
    kind: "server",
    context: { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: i.toString(16).padStart(16, "0"), sampled: true },
    parentSpanId: null,
    links: [],
    startMs: 1_700_000_000_000,
    endMs: 1_700_000_000_005,
    attributes: { i },
    error: null,
  };
}

interface Sent {
  url: string;
  headers: Headers;
  spans: number;
}

function recording(answer: (call: number) => Promise<Response>): { fetcher: Fetcher; sent: Sent[] } {
  const sent: Sent[] = [];
  const fetcher: Fetcher = async (url, init) => {
    const body = JSON.parse(String(init.body)) as { resourceSpans: { scopeSpans: { spans: unknown[] }[] }[] };
    sent.push({
      url,
      headers: new Headers(init.headers),
      spans: body.resourceSpans[0]?.scopeSpans[0]?.spans.length ?? 0,
    });
    return answer(sent.length);
  };
  return { fetcher, sent };
}

describe("SpanExporter", () => {
  it("sends the queue as OTLP/JSON in requests of at most MAX_SPANS_PER_EXPORT spans", async () => {
    const { fetcher, sent } = recording(async () => new Response("{}"));
    const exporter = new SpanExporter(SETTINGS, fetcher);
    for (let i = 1; i <= MAX_SPANS_PER_EXPORT + 3; i++) exporter.add(span(i));
    await exporter.flush();
    expect(sent.map((request) => request.spans)).toEqual([MAX_SPANS_PER_EXPORT, 3]);
    expect(sent[0]?.url).toBe(SETTINGS.url);
    expect(sent[0]?.headers.get("content-type")).toBe("application/json");
    expect(sent[0]?.headers.get("x-key")).toBe("k");
    expect(exporter.counts).toEqual({ exported: MAX_SPANS_PER_EXPORT + 3, dropped: 0, failedExports: 0 });
    expect(exporter.queued).toBe(0);
  });

  it("drops and counts what a failing endpoint refused, without throwing or retrying", async () => {
    let calls = 0;
    const exporter = new SpanExporter(SETTINGS, async () => {
      calls++;
      if (calls === 1) return new Response("busy", { status: 503 });
      throw new TypeError("connection refused");
    });
    exporter.add(span(1));
    await exporter.flush();
    exporter.add(span(2));
    exporter.add(span(3));
    await exporter.flush();
    expect(calls).toBe(2);
    expect(exporter.counts).toEqual({ exported: 0, dropped: 3, failedExports: 2 });
  });

  it("cuts an export that hangs at the timeout", async () => {
    const exporter = new SpanExporter(SETTINGS, (_, init) => {
      return new Promise((_resolve, reject) =>
        init.signal?.addEventListener("abort", () => reject(init.signal?.reason)),
      );
    });
    exporter.add(span(1));
    await exporter.flush();
    expect(exporter.counts.dropped).toBe(1);
  });

  it("keeps at most MAX_QUEUED_SPANS while an export is in flight, dropping and counting the rest", async () => {
    let release: () => void = () => {};
    const firstAnswer = new Promise<void>((resolve) => {
      release = resolve;
    });
    let calls = 0;
    const exporter = new SpanExporter({ ...SETTINGS, timeoutMs: 60_000 }, async () => {
      // The first export hangs until released; the ones after it answer at once.
      if (++calls === 1) await firstAnswer;
      return new Response("{}");
    });
    exporter.add(span(0));
    const first = exporter.flush();
    for (let i = 1; i <= MAX_QUEUED_SPANS + 10; i++) exporter.add(span(i));
    // A second flush while one is in flight sends nothing: one export per isolate at a time.
    await exporter.flush();
    expect(exporter.queued).toBe(MAX_QUEUED_SPANS);
    expect(exporter.counts.dropped).toBe(10);
    release();
    await first;
    expect(exporter.counts.exported).toBeGreaterThan(1);
  });
});
