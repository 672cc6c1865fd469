/**
 * Starting spans: the sampling decision at a trace's entry, children inside it, and the one
 * exporter per isolate (per settings object) their ends go to.
 */
import { shouldSample } from "./sampler";
import { Span, type SpanKind } from "./span";
import { SpanExporter, type Fetcher } from "./span-exporter";
import { childOf, newSpanId, newTraceId, type TraceContext } from "./trace-context";
import type { TracingSettings } from "./tracing-config";

export class Tracer {
  readonly exporter: SpanExporter;

  constructor(
    private readonly settings: TracingSettings,
    fetcher?: Fetcher,
  ) {
    this.exporter = new SpanExporter(settings.exporter, fetcher);
  }

  /** The sampler's decision for an operation entering the system with this (possibly null) parent. */
  sample(parent: TraceContext | null): boolean {
    return shouldSample(this.settings.sampler, parent);
  }

  /**
   * The span of an operation entering the system (a request, an alarm), child of `parent`
   * when the caller sent one; null when it is not recorded (`sampled` defaults to the sampler's
   * decision; a flush carrying recorded batches passes true).
   */
  startEntrySpan(
    name: string,
    kind: SpanKind,
    parent: TraceContext | null,
    options: { links?: readonly TraceContext[]; sampled?: boolean } = {},
  ): Span | null {
    if (!(options.sampled ?? this.sample(parent))) return null;
    const context = { traceId: parent?.traceId ?? newTraceId(), spanId: newSpanId(), sampled: true };
    return this.start(name, kind, context, parent, options.links ?? []);
  }

  /** A span inside a recorded trace; null when `parent` is not recorded. */
  startChildSpan(name: string, kind: SpanKind, parent: TraceContext): Span | null {
    if (!parent.sampled) return null;
    return this.start(name, kind, childOf(parent), parent, []);
  }

  private start(
    name: string,
    kind: SpanKind,
    context: TraceContext,
    parent: TraceContext | null,
    links: readonly TraceContext[],
  ): Span {
    return new Span(name, kind, context, parent?.spanId ?? null, (span) => this.exporter.add(span), links);
  }

  flush(): Promise<void> {
    return this.exporter.flush();
  }
}

const tracers = new WeakMap<TracingSettings, Tracer>();

/** The isolate's tracer for these settings (one queue, one export at a time), or null when tracing is off. */
export function tracerFor(settings: TracingSettings | null): Tracer | null {
  if (settings === null) return null;
  let tracer = tracers.get(settings);
  if (tracer === undefined) {
    tracer = new Tracer(settings);
    tracers.set(settings, tracer);
  }
  return tracer;
}
