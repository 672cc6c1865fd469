/**
 * The span model: what one timed operation records. Only sampled operations create a Span;
 * an unsampled request allocates none, which is what keeps tracing at 1 % cheap.
 */
import type { TraceContext } from "./trace-context";

/** OpenTelemetry span kinds (their OTLP numbers are in otlp-json.ts). */
export type SpanKind = "internal" | "server" | "client";
export type AttributeValue = string | number | boolean;

/** A span once ended: plain data, ready to encode. */
export interface FinishedSpan {
  name: string;
  kind: SpanKind;
  context: TraceContext;
  /** null for a trace's root span. */
  parentSpanId: string | null;
  /** Other spans this one acts for (a flush links the batches it carries). */
  links: readonly TraceContext[];
  startMs: number;
  endMs: number;
  attributes: Readonly<Record<string, AttributeValue>>;
  /** An error message, or null when the operation succeeded. */
  error: string | null;
}

export class Span {
  private readonly attributes: Record<string, AttributeValue> = {};
  private error: string | null = null;
  private ended = false;

  constructor(
    private name: string,
    readonly kind: SpanKind,
    readonly context: TraceContext,
    readonly parentSpanId: string | null,
    /** Receives the span when it ends (the exporter's queue). */
    private readonly onEnd: (span: FinishedSpan) => void,
    private readonly links: readonly TraceContext[] = [],
    private readonly startMs: number = Date.now(),
  ) {}

  /** For a name known only at the end (a request's route, once routed). */
  rename(name: string): this {
    this.name = name;
    return this;
  }

  setAttribute(key: string, value: AttributeValue): this {
    this.attributes[key] = value;
    return this;
  }

  setError(error: unknown): this {
    this.error = error instanceof Error ? error.message : String(error);
    return this;
  }

  /** Ends the span once; a second call does nothing. */
  end(endMs: number = Date.now()): void {
    if (this.ended) return;
    this.ended = true;
    this.onEnd({
      name: this.name,
      kind: this.kind,
      context: this.context,
      parentSpanId: this.parentSpanId,
      links: this.links,
      startMs: this.startMs,
      endMs: Math.max(endMs, this.startMs),
      attributes: this.attributes,
      error: this.error,
    });
  }
}
