/**
 * CPU per batch as a day fills: one fresh site's shards take `totalBatches` batches of the
 * same day, sent as fast as `concurrency` connections allow, in chunks; each chunk's workerd
 * CPU divided by its batches says whether per-batch work grows with the state the shards hold
 * (today's sessions, windows, top lists, kept batch ids). Issue 12's target: the figure after
 * 50k batches within 15 % of the figure after 1k.
 *
 * Server CPU is read from the workerd process, so the load generator's own CPU is not in it;
 * on a machine shared with other work the figure moves by a few percent, not with the load.
 */
import { BatchStream } from "../tools/batch-stream";
import { runLoad } from "../tools/run-load";
import { startCpuMeter } from "./cpu";

export interface DayFillChunk {
  /** Batches the site had taken before this chunk. */
  batchesBefore: number;
  batches: number;
  serverCpuMsPerBatch: number;
  batchesPerSecond: number;
  /** Answers other than 202 (none expected: the rate limiter is off for this step). */
  failures: number;
}

export interface DayFillResult {
  chunks: DayFillChunk[];
  /** CPU per batch of the chunk starting at `chunkBatches` (the first chunk also creates the objects). */
  early: number;
  /** CPU per batch of the last chunk. */
  late: number;
  /** late ÷ early: 1.15 is issue 12's bound. */
  ratio: number;
}

export interface DayFillOptions {
  url: string;
  cpuMs: () => number;
  site: string;
  totalBatches: number;
  chunkBatches: number;
  concurrency: number;
  eventsPerBatch: number;
  runId: string;
  log: (line: string) => void;
}

export async function measureDayFill(options: DayFillOptions): Promise<DayFillResult> {
  if (options.totalBatches < 2 * options.chunkBatches)
    throw new Error("the day-fill step needs at least two chunks of batches");
  const stream = new BatchStream({
    seed: 11,
    sites: [options.site],
    maxEvents: options.eventsPerBatch,
    fullBatchesOnly: true,
    runId: options.runId,
  });
  const chunks: DayFillChunk[] = [];
  for (let before = 0; before < options.totalBatches; before += options.chunkBatches) {
    const meter = startCpuMeter({ server: options.cpuMs });
    const report = await runLoad({
      url: options.url,
      rate: Number.POSITIVE_INFINITY,
      rateUnit: "batches",
      durationMs: 10 * 60_000,
      maxBatches: options.chunkBatches,
      concurrency: options.concurrency,
      maxRetries: 0,
      nextBatch: () => stream.next(),
    });
    const cpu = meter.stop();
    const failures = Object.values(report.rejected).reduce((sum, count) => sum + count, 0);
    const chunk: DayFillChunk = {
      batchesBefore: before,
      batches: report.sent,
      serverCpuMsPerBatch: cpu.serverCpuMs / Math.max(1, report.sent),
      batchesPerSecond: report.batchesPerSecond,
      failures,
    };
    chunks.push(chunk);
    options.log(
      `  after ${before.toLocaleString("en-US")} batches: ${chunk.serverCpuMsPerBatch.toFixed(2)} ms CPU/batch, ` +
        `${chunk.batchesPerSecond.toFixed(0)} batches/s, failures ${failures}`,
    );
  }
  const early = chunks[1]?.serverCpuMsPerBatch ?? Number.NaN;
  const late = chunks.at(-1)?.serverCpuMsPerBatch ?? Number.NaN;
  return { chunks, early, late, ratio: late / early };
}
