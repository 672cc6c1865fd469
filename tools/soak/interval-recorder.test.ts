import { describe, expect, it } from "vitest";
import { IntervalRecorder, type SoakGauges } from "./interval-recorder";

const gauges = (workerdCpuMs: number, overrides: Partial<SoakGauges> = {}): SoakGauges => ({
  workerdRssBytes: 100 * 1024 * 1024,
  shardStorageBytes: 5 * 1024 * 1024,
  shardWalBytes: 4 * 1024 * 1024,
  otherStorageBytes: 1024 * 1024,
  clickhouseParts: 12,
  workerdCpuMs,
  ...overrides,
});

describe("IntervalRecorder", () => {
  it("turns one interval's answers into rates, errors, retries, latency and CPU per batch", () => {
    const recorder = new IntervalRecorder(1_000);
    for (let index = 0; index < 10; index++) recorder.recordSent(20);
    for (let index = 0; index < 8; index++)
      recorder.recordAnswer({ status: 202, events: 20, latencyMs: 10 + index, attempts: 1 });
    recorder.recordAnswer({ status: 202, events: 20, latencyMs: 200, attempts: 3 });
    recorder.recordAnswer({ status: 503, events: 0, latencyMs: 5, attempts: 6 });
    recorder.recordLiveProbe(40);
    recorder.recordLiveProbe(60);

    const sample = recorder.close(10_000, gauges(1_500));
    expect(sample).toMatchObject({
      index: 1,
      elapsedMs: 10_000,
      durationMs: 10_000,
      sentBatches: 10,
      sentEvents: 200,
      acceptedBatches: 9,
      acceptedEvents: 180,
      errors: 1,
      retries: 7,
      sentEventsPerSecond: 20,
      acceptedEventsPerSecond: 18,
      liveProbes: 2,
      cpuMsPerBatch: 50,
      clickhouseParts: 12,
    });
    // The histogram is exact to < 1 %: p99 of ten answers is the slowest one.
    expect(sample.ingestP99Ms).toBeCloseTo(200, -1);
    expect(sample.liveP99Ms).toBeCloseTo(60, 0);
  });

  it("starts every interval from zero and takes CPU as a difference of the counter", () => {
    const recorder = new IntervalRecorder(0);
    recorder.recordSent(5);
    recorder.recordAnswer({ status: 202, events: 5, latencyMs: 3, attempts: 1 });
    recorder.close(60_000, gauges(600));

    recorder.recordSent(4);
    recorder.recordSent(4);
    recorder.recordAnswer({ status: 202, events: 4, latencyMs: 3, attempts: 1 });
    recorder.recordAnswer({ status: 202, events: 4, latencyMs: 3, attempts: 1 });
    const second = recorder.close(90_000, gauges(700, { clickhouseParts: null }));
    expect(second).toMatchObject({
      index: 2,
      durationMs: 30_000,
      sentBatches: 2,
      acceptedEvents: 8,
      errors: 0,
      retries: 0,
      cpuMsPerBatch: 50,
      clickhouseParts: null,
      liveProbes: 0,
      liveP99Ms: null,
    });
  });

  it("reports no latency and no CPU per batch for an interval without answers", () => {
    const recorder = new IntervalRecorder(0);
    const sample = recorder.close(60_000, gauges(10));
    expect(sample.ingestP99Ms).toBeNull();
    expect(sample.cpuMsPerBatch).toBeNull();
    expect(sample.acceptedEventsPerSecond).toBe(0);
  });
});
