/**
 * OTLP/JSON encoding of finished spans (an `ExportTraceServiceRequest`, as POSTed to
 * `/v1/traces`). The JSON mapping of OTLP differs from plain proto3 JSON in one place that
 * matters: trace and span ids are hex strings, not base64. 64-bit integers (times, int
 * attributes) are decimal strings.
 */
import type { AttributeValue, FinishedSpan, SpanKind } from "./span";

const KIND: Record<SpanKind, number> = { internal: 1, server: 2, client: 3 };
const STATUS_ERROR = 2;
const STATUS_UNSET = 0;

type OtlpAnyValue = { stringValue: string } | { boolValue: boolean } | { intValue: string } | { doubleValue: number };

export interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}

function anyValue(value: AttributeValue): OtlpAnyValue {
  if (typeof value === "string") return { stringValue: value };
  if (typeof value === "boolean") return { boolValue: value };
  return Number.isSafeInteger(value) ? { intValue: String(value) } : { doubleValue: value };
}

function keyValues(attributes: Readonly<Record<string, AttributeValue>>): OtlpKeyValue[] {
  return Object.entries(attributes).map(([key, value]) => ({ key, value: anyValue(value) }));
}

/** Milliseconds since the epoch as OTLP's nanoseconds (a string: beyond 2^53). */
function unixNano(ms: number): string {
  return `${Math.floor(ms)}000000`;
}

export function encodeSpans(
  spans: readonly FinishedSpan[],
  resource: Readonly<Record<string, AttributeValue>>,
): { resourceSpans: unknown[] } {
  return {
    resourceSpans: [
      {
        resource: { attributes: keyValues(resource) },
        scopeSpans: [
          {
            scope: { name: "edgepulse" },
            spans: spans.map((span) => ({
              traceId: span.context.traceId,
              spanId: span.context.spanId,
              ...(span.parentSpanId === null ? {} : { parentSpanId: span.parentSpanId }),
              name: span.name,
              kind: KIND[span.kind],
              startTimeUnixNano: unixNano(span.startMs),
              endTimeUnixNano: unixNano(span.endMs),
              attributes: keyValues(span.attributes),
              links: span.links.map((link) => ({ traceId: link.traceId, spanId: link.spanId })),
              status: span.error === null ? { code: STATUS_UNSET } : { code: STATUS_ERROR, message: span.error },
            })),
          },
        ],
      },
    ],
  };
}
