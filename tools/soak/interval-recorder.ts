/**
 * The soak's per-interval bookkeeping (one interval = one minute by default): what was sent
 * and answered, ingest and event → live latency, and the gauges read at the interval's end.
 * Pure: the soak feeds it answers and gauge readings, tests feed it numbers.
 */
import { LatencyHistogram } from "../latency-histogram";

/** Readings taken at the end of an interval; null where a source could not be read. */
export interface SoakGauges {
  /** Resident memory of every workerd process, bytes. */
  workerdRssBytes: number | null;
  /** SQLite database files of the IngestShard objects, bytes. */
  shardStorageBytes: number | null;
  /** Their write-ahead logs (-wal, -shm): up to a few MB per object between checkpoints. */
  shardWalBytes: number | null;
  /** SQLite files (WAL included) of every other Durable Object (LiveHub, registries), bytes. */
  otherStorageBytes: number | null;
  /** Active parts in the collector's ClickHouse database. */
  clickhouseParts: number | null;
  /** CPU time used by workerd since it started, ms (a counter; the recorder takes differences). */
  workerdCpuMs: number;
}

export interface SoakSample {
  /** 1-based interval number. */
  index: number;
  /** Time since the load started at the interval's end, ms. */
  elapsedMs: number;
  /** Interval length, ms. */
  durationMs: number;
  sentBatches: number;
  sentEvents: number;
  acceptedBatches: number;
  acceptedEvents: number;
  /** Final answers other than 202 (0 = network error), after retries. */
  errors: number;
  /** Attempts after the first (429/503/5xx/network answers retried with the same batch id). */
  retries: number;
  sentEventsPerSecond: number;
  acceptedEventsPerSecond: number;
  /** Request latency of the answers in the interval (null when none came). */
  ingestP50Ms: number | null;
  ingestP99Ms: number | null;
  /** Event → live WebSocket update, from the probes in the interval (null when none landed). */
  liveP99Ms: number | null;
  liveProbes: number;
  /** workerd CPU ms per answered batch over the interval. */
  cpuMsPerBatch: number | null;
  workerdRssBytes: number | null;
  shardStorageBytes: number | null;
  shardWalBytes: number | null;
  otherStorageBytes: number | null;
  clickhouseParts: number | null;
}

export interface AnswerFigures {
  status: number;
  /** Events in the batch. */
  events: number;
  latencyMs: number;
  attempts: number;
}

export class IntervalRecorder {
  private index = 0;
  private startedAtMs = 0;
  private lastCpuMs: number;
  private sentBatches = 0;
  private sentEvents = 0;
  private acceptedBatches = 0;
  private acceptedEvents = 0;
  private answeredBatches = 0;
  private errors = 0;
  private retries = 0;
  private ingest = new LatencyHistogram();
  private live = new LatencyHistogram();

  /** `initialCpuMs`: workerd's CPU counter when the load starts. */
  constructor(initialCpuMs: number) {
    this.lastCpuMs = initialCpuMs;
  }

  recordSent(events: number): void {
    this.sentBatches++;
    this.sentEvents += events;
  }

  recordAnswer(answer: AnswerFigures): void {
    this.answeredBatches++;
    this.retries += answer.attempts - 1;
    this.ingest.record(answer.latencyMs);
    if (answer.status === 202) {
      this.acceptedBatches++;
      this.acceptedEvents += answer.events;
    } else {
      this.errors++;
    }
  }

  recordLiveProbe(latencyMs: number): void {
    this.live.record(latencyMs);
  }

  /** Ends the interval at `elapsedMs` (since the load started) and starts the next one. */
  close(elapsedMs: number, gauges: SoakGauges): SoakSample {
    const durationMs = Math.max(1, elapsedMs - this.startedAtMs);
    const seconds = durationMs / 1000;
    const ingest = this.ingest.summary();
    const live = this.live.summary();
    const cpuMs = gauges.workerdCpuMs - this.lastCpuMs;
    const sample: SoakSample = {
      index: ++this.index,
      elapsedMs,
      durationMs,
      sentBatches: this.sentBatches,
      sentEvents: this.sentEvents,
      acceptedBatches: this.acceptedBatches,
      acceptedEvents: this.acceptedEvents,
      errors: this.errors,
      retries: this.retries,
      sentEventsPerSecond: this.sentEvents / seconds,
      acceptedEventsPerSecond: this.acceptedEvents / seconds,
      ingestP50Ms: ingest.count === 0 ? null : ingest.p50,
      ingestP99Ms: ingest.count === 0 ? null : ingest.p99,
      liveP99Ms: live.count === 0 ? null : live.p99,
      liveProbes: live.count,
      cpuMsPerBatch: this.answeredBatches === 0 ? null : cpuMs / this.answeredBatches,
      workerdRssBytes: gauges.workerdRssBytes,
      shardStorageBytes: gauges.shardStorageBytes,
      shardWalBytes: gauges.shardWalBytes,
      otherStorageBytes: gauges.otherStorageBytes,
      clickhouseParts: gauges.clickhouseParts,
    };
    this.startedAtMs = elapsedMs;
    this.lastCpuMs = gauges.workerdCpuMs;
    this.sentBatches = 0;
    this.sentEvents = 0;
    this.acceptedBatches = 0;
    this.acceptedEvents = 0;
    this.answeredBatches = 0;
    this.errors = 0;
    this.retries = 0;
    this.ingest = new LatencyHistogram();
    this.live = new LatencyHistogram();
    return sample;
  }
}
