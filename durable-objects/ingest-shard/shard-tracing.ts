/**
 * Tracing for an IngestShard, kept out of the engine: the shard's span for each recorded
 * batch (child of the Worker's route span), and one span per flush that inserted something,
 * with a child span per ClickHouse insert.
 *
 * What an insert carries: a flush inserts many batches at once, so it cannot belong to any
 * one batch's trace. The flush is the root of a trace of its own, *linked* to the span of
 * every recorded batch that reached the shard since the previous flush, and recorded whenever
 * it has such a link (else by the sampler's ratio). Each insert is a child of the flush span
 * and carries its own context to ClickHouse as `log_comment` (its traceparent), as the
 * `traceparent` HTTP header (ClickHouse's own OpenTelemetry support) and in its `query_id`
 * (`<trace id>-<span id>`), so `system.query_log` finds the inserts of a trace; unrecorded
 * flushes carry a context too (flag 00), which costs nothing and still correlates logs.
 *
 * Links live in memory only, at most MAX_PENDING_LINKS: tracing is best effort and never in
 * storage; an evicted shard's next flush simply has fewer links.
 */
import type { ClickHouse, InsertTrace } from "../../clickhouse/client";
import type { IngestOutcome } from "../../protocol";
import type { Span } from "../../tracing/span";
import type { Tracer } from "../../tracing/tracer";
import {
  childOf,
  formatTraceparent,
  newSpanId,
  newTraceId,
  parseTraceparent,
  type TraceContext,
} from "../../tracing/trace-context";

/** Links one flush span keeps (OpenTelemetry's default span link limit is 128). */
export const MAX_PENDING_LINKS = 128;

interface FlushTrace {
  context: TraceContext;
  span: Span | null;
  inserts: number;
}

export class ShardTracing {
  private pendingLinks: TraceContext[] = [];
  private flushTrace: FlushTrace | null = null;

  constructor(
    private readonly tracer: Tracer,
    /** Keeps the object alive for the export after the call returned. */
    private readonly waitUntil: (promise: Promise<void>) => void,
  ) {}

  /** Runs one ingest inside a shard span when the Worker's span is recorded. */
  async ingest(
    traceparent: string | null,
    where: { site: string; shard: number; events: number },
    work: () => Promise<IngestOutcome>,
  ): Promise<IngestOutcome> {
    const parent = parseTraceparent(traceparent);
    const span = parent === null ? null : this.tracer.startChildSpan("IngestShard.ingest", "server", parent);
    if (span === null) return work();
    span.setAttribute("edgepulse.site", where.site).setAttribute("edgepulse.shard", where.shard);
    span.setAttribute("edgepulse.events", where.events);
    try {
      const outcome = await work();
      span.setAttribute("edgepulse.outcome", outcome.status);
      if (outcome.status === "accepted") this.link(span.context);
      return outcome;
    } catch (error) {
      span.setError(error);
      throw error;
    } finally {
      span.end();
      this.waitUntil(this.tracer.flush());
    }
  }

  private link(context: TraceContext): void {
    if (this.pendingLinks.length >= MAX_PENDING_LINKS) this.pendingLinks.shift();
    this.pendingLinks.push(context);
  }

  /** Runs an alarm as a flush trace; its span is kept only when the alarm inserted something. */
  async alarm(where: { site: string | null; shard: number | null }, work: () => Promise<void>): Promise<void> {
    const links = this.pendingLinks;
    this.pendingLinks = [];
    const sampled = links.length > 0 || this.tracer.sample(null);
    const span = this.tracer.startEntrySpan("IngestShard.flush", "internal", null, { links, sampled });
    const flush: FlushTrace = {
      context: span?.context ?? { traceId: newTraceId(), spanId: newSpanId(), sampled: false },
      span,
      inserts: 0,
    };
    this.flushTrace = flush;
    try {
      await work();
    } catch (error) {
      span?.setError(error);
      throw error;
    } finally {
      this.flushTrace = null;
      if (flush.inserts === 0) {
        // Nothing was inserted: the batches wait for the flush that carries them.
        this.pendingLinks = [...links, ...this.pendingLinks].slice(-MAX_PENDING_LINKS);
      } else if (span !== null) {
        if (where.site !== null) span.setAttribute("edgepulse.site", where.site);
        if (where.shard !== null) span.setAttribute("edgepulse.shard", where.shard);
        span.setAttribute("edgepulse.inserts", flush.inserts).end();
        this.waitUntil(this.tracer.flush());
      }
    }
  }

  /** `clickhouse` with every insert made during a flush traced and tagged with the flush's context. */
  wrap(clickhouse: ClickHouse): ClickHouse {
    return {
      ...clickhouse,
      insert: async (table, rows, dedupToken) => {
        const flush = this.flushTrace;
        if (flush === null) return clickhouse.insert(table, rows, dedupToken);
        flush.inserts += 1;
        const span = this.tracer.startChildSpan(`INSERT ${table}`, "client", flush.context);
        const context = span?.context ?? childOf(flush.context);
        const trace: InsertTrace = {
          queryId: `${context.traceId}-${context.spanId}`,
          traceparent: formatTraceparent(context),
        };
        span?.setAttribute("db.system", "clickhouse").setAttribute("db.operation.name", "INSERT");
        span?.setAttribute("db.collection.name", table).setAttribute("db.query.id", trace.queryId);
        span?.setAttribute("edgepulse.rows", rows.length);
        try {
          await clickhouse.insert(table, rows, dedupToken, trace);
        } catch (error) {
          span?.setError(error);
          throw error;
        } finally {
          span?.end();
        }
      },
    };
  }
}
