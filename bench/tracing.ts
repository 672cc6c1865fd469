/**
 * What OpenTelemetry tracing costs ingest: two collectors on the same bundle, one with
 * tracing off and one exporting at the default 1 % sampling (parent-based ratio; the load
 * sends no traceparent, so 1 % of requests start a recorded trace) to a local OTLP receiver,
 * measured in alternating closed-loop rounds at the same concurrency so that drift on a
 * shared machine hits both alike. Medians of throughput and server CPU per request, and
 * their ratios (on / off): the target is a CPU ratio ≤ 1.05.
 */
import { startOtlpReceiver } from "../test/support/otlp-receiver";
import { parseTraceparent } from "../tracing/trace-context";
import { Tracer } from "../tracing/tracer";
import { tracingSettingsFrom } from "../tracing/tracing-config";
import type { RunningWorker } from "./miniflare";
import { measureClosedLoop, type SweepOptions, type ThroughputLevel } from "./throughput";

export interface TracingSide {
  requestsPerSecond: number;
  serverCpuMsPerRequest: number;
  failures: number;
}

export interface TracingOverheadResult {
  samplingRatio: number;
  connections: number;
  rounds: number;
  secondsPerRound: number;
  off: TracingSide;
  on: TracingSide & { spansReceived: number; exportRequests: number };
  /** on / off: below 1 means tracing cost throughput. */
  throughputRatio: number;
  /** on / off: above 1 means tracing cost CPU per request. */
  cpuRatio: number;
  /**
   * The tracing code alone, in this process, per request at the sampling ratio: the sampler's
   * decision for every request, and for the recorded ones their four spans (route, shard
   * ingest, flush, insert), the OTLP/JSON encoding and an export answered at once. Unlike the
   * ratios above it does not move with the machine's load.
   */
  codeMicrosecondsPerRequest: number;
  /** codeMicrosecondsPerRequest over the collector's CPU per request with tracing off. */
  codeShareOfRequestCpu: number;
}

export interface TracingOverheadOptions {
  /** Starts a collector with these vars on top of the bench's. */
  startCollector(vars: Record<string, string>): Promise<RunningWorker>;
  load: Omit<SweepOptions, "url" | "serverCpuMs" | "runId" | "connectionLevels" | "durationSeconds">;
  runId: string;
  connections: number;
  rounds: number;
  secondsPerRound: number;
  samplingRatio: number;
  log(line: string): void;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

function side(levels: ThroughputLevel[]): TracingSide {
  return {
    requestsPerSecond: median(levels.map((level) => level.requestsPerSecond)),
    serverCpuMsPerRequest: median(levels.map((level) => level.serverCpuMsPerRequest)),
    failures: levels.reduce((sum, level) => sum + level.failures, 0),
  };
}

/** CPU µs the tracing code costs per request at `ratio`, over `requests` simulated requests. */
export async function tracingCodeCost(ratio: number, requests: number): Promise<number> {
  const settings = tracingSettingsFrom({
    OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318",
    OTEL_TRACES_SAMPLER_ARG: String(ratio),
  });
  if (settings === null) throw new Error("tracing settings did not parse");
  const tracer = new Tracer(settings, async () => new Response("{}"));
  const started = process.cpuUsage();
  for (let i = 0; i < requests; i++) {
    const route = tracer.startEntrySpan("POST", "server", parseTraceparent(undefined));
    if (route === null) continue;
    route.setAttribute("http.request.method", "POST").setAttribute("http.route", "/v1/events");
    route.setAttribute("http.response.status_code", 202).rename("POST /v1/events");
    const shard = tracer.startChildSpan("IngestShard.ingest", "server", route.context);
    shard?.setAttribute("edgepulse.site", "shop").setAttribute("edgepulse.events", 20).end();
    route.end();
    const flush = tracer.startEntrySpan("IngestShard.flush", "internal", null, {
      links: shard === null ? [] : [shard.context],
      sampled: true,
    });
    if (flush !== null) {
      tracer.startChildSpan("INSERT events", "client", flush.context)?.setAttribute("edgepulse.rows", 20).end();
      flush.end();
    }
    await tracer.flush();
  }
  const used = process.cpuUsage(started);
  return (used.user + used.system) / requests;
}

export async function measureTracingOverhead(options: TracingOverheadOptions): Promise<TracingOverheadResult> {
  const receiver = await startOtlpReceiver();
  const stops: RunningWorker[] = [];
  try {
    const off = await options.startCollector({});
    stops.push(off);
    const on = await options.startCollector({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_TRACES_SAMPLER_ARG: String(options.samplingRatio),
    });
    stops.push(on);
    const round = (worker: RunningWorker, runId: string, seconds: number) =>
      measureClosedLoop(
        {
          ...options.load,
          url: worker.url,
          serverCpuMs: () => worker.cpuMs(),
          connectionLevels: [],
          durationSeconds: seconds,
          runId,
        },
        options.connections,
      );
    // Warm-up: shard objects and their SQLite schema, the JIT.
    await round(off, `${options.runId}-warm-off`, 3);
    await round(on, `${options.runId}-warm-on`, 3);
    const spansBefore = receiver.spans().length;
    const requestsBefore = receiver.requests();
    const offLevels: ThroughputLevel[] = [];
    const onLevels: ThroughputLevel[] = [];
    for (let i = 0; i < options.rounds; i++) {
      // Alternate which goes first, so neither always runs right after the other's flushes.
      const order = i % 2 === 0 ? (["off", "on"] as const) : (["on", "off"] as const);
      for (const which of order) {
        const level = await round(
          which === "off" ? off : on,
          `${options.runId}-${which}-${i}`,
          options.secondsPerRound,
        );
        (which === "off" ? offLevels : onLevels).push(level);
        options.log(
          `  tracing ${which.padEnd(3)} round ${i + 1}: ${level.requestsPerSecond.toFixed(0)} req/s, server CPU ${level.serverCpuMsPerRequest.toFixed(3)} ms/req, ${level.failures} failed`,
        );
      }
    }
    // Exports leave from waitUntil after the answers; give the last ones a moment.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const offSide = side(offLevels);
    const onSide = side(onLevels);
    const result: TracingOverheadResult = {
      samplingRatio: options.samplingRatio,
      connections: options.connections,
      rounds: options.rounds,
      secondsPerRound: options.secondsPerRound,
      off: offSide,
      on: {
        ...onSide,
        spansReceived: receiver.spans().length - spansBefore,
        exportRequests: receiver.requests() - requestsBefore,
      },
      throughputRatio: onSide.requestsPerSecond / Math.max(1e-9, offSide.requestsPerSecond),
      cpuRatio: onSide.serverCpuMsPerRequest / Math.max(1e-9, offSide.serverCpuMsPerRequest),
      codeMicrosecondsPerRequest: 0,
      codeShareOfRequestCpu: 0,
    };
    result.codeMicrosecondsPerRequest = await tracingCodeCost(options.samplingRatio, 200_000);
    result.codeShareOfRequestCpu =
      result.codeMicrosecondsPerRequest / 1000 / Math.max(1e-9, offSide.serverCpuMsPerRequest);
    options.log(
      `  tracing code alone: ${result.codeMicrosecondsPerRequest.toFixed(2)} µs CPU per request at ${options.samplingRatio * 100} % (${(result.codeShareOfRequestCpu * 100).toFixed(2)} % of a request's CPU with tracing off)`,
    );
    options.log(
      `  tracing at ${options.samplingRatio * 100} %: throughput on/off ${result.throughputRatio.toFixed(3)}, CPU per request on/off ${result.cpuRatio.toFixed(3)} (${result.on.spansReceived} spans in ${result.on.exportRequests} exports)`,
    );
    return result;
  } finally {
    for (const worker of stops) await worker.stop();
    await receiver.close();
  }
}
