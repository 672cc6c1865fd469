/**
 * Sends finished spans to an OTLP/HTTP endpoint, bounded so that tracing can never hurt
 * ingest: spans wait in a per-isolate queue of at most MAX_QUEUED_SPANS (beyond it new spans
 * are dropped and counted), at most one export is in flight per isolate (a flush that finds
 * one under way leaves its spans for the next), each export is cut after the timeout, and a
 * failed export is dropped and counted, never retried. Callers run `flush()` from
 * `waitUntil`, after the answer: nothing here is awaited on a request's path, nothing throws.
 */
import { encodeSpans } from "./otlp-json";
import type { AttributeValue, FinishedSpan } from "./span";

/** Spans an isolate holds while the endpoint is slow or down (a few hundred bytes each). */
export const MAX_QUEUED_SPANS = 2_048;
/** Spans per OTLP request. */
export const MAX_SPANS_PER_EXPORT = 512;
/** Requests one flush sends at most; the rest waits for the next flush. */
const MAX_EXPORTS_PER_FLUSH = 4;

export interface ExporterSettings {
  /** The full traces URL, e.g. https://collector:4318/v1/traces. */
  url: string;
  headers: Readonly<Record<string, string>>;
  timeoutMs: number;
  resource: Readonly<Record<string, AttributeValue>>;
}

export interface ExporterCounts {
  exported: number;
  /** Dropped because the queue was full or the export failed. */
  dropped: number;
  failedExports: number;
}

export type Fetcher = (url: string, init: RequestInit) => Promise<Response>;

export class SpanExporter {
  private queue: FinishedSpan[] = [];
  /** When the export under way started; an export older than its timeout (its request context ended) no longer blocks. */
  private exportingSince: number | null = null;
  readonly counts: ExporterCounts = { exported: 0, dropped: 0, failedExports: 0 };

  constructor(
    private readonly settings: ExporterSettings,
    private readonly fetcher: Fetcher = (url, init) => fetch(url, init),
  ) {}

  get queued(): number {
    return this.queue.length;
  }

  add(span: FinishedSpan): void {
    if (this.queue.length >= MAX_QUEUED_SPANS) this.drop(1, "queue full");
    else this.queue.push(span);
  }

  /** Exports what is queued. Never throws; run it from waitUntil. */
  async flush(): Promise<void> {
    const now = Date.now();
    if (this.queue.length === 0) return;
    if (this.exportingSince !== null && now - this.exportingSince < this.settings.timeoutMs + 1_000) return;
    const startedAt = now;
    this.exportingSince = startedAt;
    try {
      for (let sent = 0; sent < MAX_EXPORTS_PER_FLUSH && this.queue.length > 0; sent++) {
        await this.exportOnce(this.queue.splice(0, MAX_SPANS_PER_EXPORT));
      }
    } finally {
      if (this.exportingSince === startedAt) this.exportingSince = null;
    }
  }

  private async exportOnce(spans: FinishedSpan[]): Promise<void> {
    try {
      const response = await this.fetcher(this.settings.url, {
        method: "POST",
        headers: { ...this.settings.headers, "Content-Type": "application/json" },
        body: JSON.stringify(encodeSpans(spans, this.settings.resource)),
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
      // The answer (an ExportTraceServiceResponse, maybe with partial_success) is not needed.
      await response.body?.cancel();
      if (!response.ok) {
        this.failed(spans.length, `HTTP ${response.status}`);
        return;
      }
      this.counts.exported += spans.length;
    } catch (error) {
      this.failed(spans.length, error instanceof Error ? error.message : String(error));
    }
  }

  private failed(spans: number, reason: string): void {
    this.counts.failedExports += 1;
    this.drop(spans, `export failed: ${reason}`);
  }

  private drop(spans: number, reason: string): void {
    const before = this.counts.dropped;
    this.counts.dropped += spans;
    // One line per 1,000 dropped spans at most, so a dead endpoint does not flood the logs.
    if (Math.floor(before / 1_000) !== Math.floor(this.counts.dropped / 1_000) || before === 0) {
      console.warn(`tracing: ${this.counts.dropped} spans dropped so far (${reason})`);
    }
  }
}
