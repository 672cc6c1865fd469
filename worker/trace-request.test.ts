/**
 * The route span, exported for real to the webhook receiver the test setup runs (standing in
 * for an OTLP collector: it records each POST's body), from the request's waitUntil.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { app } from "./app";

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  status: { code: number };
}

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT = "00f067aa0ba902b7";
let hooks = 0;

/** Sends one request with tracing to a hook of its own and answers the response and the spans exported. */
async function traced(
  path: string,
  headers: Record<string, string>,
  sampler: Record<string, string> = {},
): Promise<{ status: number; spans: ExportedSpan[] }> {
  const hook = `otel-${Date.now()}-${hooks++}`;
  const receiver = inject("webhookReceiverUrl");
  const tracingEnv = {
    ...env,
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver}/hook/${hook}`,
    OTEL_TRACES_SAMPLER_ARG: "0",
    ...sampler,
  };
  const ctx = createExecutionContext();
  const response = await app.fetch(new Request(`http://collector.test${path}`, { headers }), tracingEnv, ctx);
  await response.body?.cancel();
  await waitOnExecutionContext(ctx);
  const received: { body: string }[] = await (await fetch(`${receiver}/received/${hook}`)).json();
  const spans = received.flatMap((webhook) =>
    (
      JSON.parse(webhook.body) as { resourceSpans: { scopeSpans: { spans: ExportedSpan[] }[] }[] }
    ).resourceSpans.flatMap((resource) => resource.scopeSpans.flatMap((scope) => scope.spans)),
  );
  return { status: response.status, spans };
}

describe("traceRequest", () => {
  it("records a sampled caller's request as a child span named after its route", async () => {
    const { status, spans } = await traced("/healthz", { traceparent: `00-${TRACE}-${PARENT}-01` });
    expect(status).toBe(200);
    expect(spans).toHaveLength(1);
    expect(spans[0]).toMatchObject({ traceId: TRACE, parentSpanId: PARENT, name: "GET /healthz" });
    expect(spans[0]?.spanId).toMatch(/^[0-9a-f]{16}$/);
  });

  it("records nothing when the caller's flag says unsampled", async () => {
    const { status, spans } = await traced("/healthz", { traceparent: `00-${TRACE}-${PARENT}-00` });
    expect(status).toBe(200);
    expect(spans).toEqual([]);
  });

  it("ignores a malformed traceparent: a new trace, never an error", async () => {
    const { status, spans } = await traced(
      "/healthz",
      { traceparent: `00-${TRACE}-nothex!!nothex!!-01` },
      { OTEL_TRACES_SAMPLER_ARG: "1" },
    );
    expect(status).toBe(200);
    expect(spans).toHaveLength(1);
    expect(spans[0]?.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(spans[0]?.traceId).not.toBe(TRACE);
    expect(spans[0]?.parentSpanId).toBeUndefined();
  });

  it("names an unrouted request by its method and marks a 5xx as an error", async () => {
    const notFound = await traced("/v1/nothing-here", {}, { OTEL_TRACES_SAMPLER: "always_on" });
    expect(notFound.status).toBe(404);
    expect(notFound.spans[0]).toMatchObject({ name: "GET", status: { code: 0 } });
  });

  it("answers as usual when the OTLP endpoint refuses the export", async () => {
    const receiver = inject("webhookReceiverUrl");
    const ctx = createExecutionContext();
    const response = await app.fetch(
      new Request("http://collector.test/healthz"),
      {
        ...env,
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver}/hook/otel-refusing?status=503`,
        OTEL_TRACES_SAMPLER: "always_on",
      },
      ctx,
    );
    expect(response.status).toBe(200);
    await waitOnExecutionContext(ctx);
  });
});
