/**
 * Benchmark 3: event → live. The time from POSTing a page view to the first WebSocket update
 * on `/v1/live` whose totals include it: Worker → IngestShard → (coalesced, ≤ 10/s) LiveHub →
 * (coalesced, ≤ 4/s) every socket. Probes are spaced at random so they land at random
 * points of both coalescing periods, as real events do.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { type BatchInput, liveMessageSchema, type LiveMessage } from "../protocol";
import { LatencyHistogram, type LatencySummary } from "../tools/latency-histogram";
import { SeededRandom } from "../tools/seeded-random";
import { BROWSER_USER_AGENT } from "../tools/session-generator";

export interface LiveProbeOptions {
  collectorUrl: string;
  site: string;
  token: string;
  probes: number;
  /** Gap between probes is uniform in [min, max] ms. */
  gapMs: readonly [number, number];
  /** Give up on one probe after this long (and on the whole run after two such misses). */
  timeoutMs: number;
  runId: string;
  /** Called with each probe's latency (ms) as it is measured, for callers that bucket them in time. */
  onSample?: (latencyMs: number) => void;
  /** Stop early (between probes) when aborted. */
  signal?: AbortSignal;
}

export interface LiveProbeResult {
  /** POST sent → WebSocket update carrying it. */
  latency: LatencySummary;
  /** POST sent → its 202: the part of `latency` before the shard has the event. */
  postLatency: LatencySummary;
  probes: number;
  missed: number;
  /** Why the run stopped early, if it did. */
  error: string | null;
}

/** Resolves with the time of the first message matching `predicate`, or null after `timeoutMs`. */
function waitForMessage(
  socket: WebSocket,
  predicate: (message: LiveMessage) => boolean,
  timeoutMs: number,
): Promise<number | null> {
  return new Promise((resolve) => {
    const onMessage = (event: MessageEvent) => {
      const parsed = liveMessageSchema.safeParse(JSON.parse(String(event.data)));
      if (!parsed.success || !predicate(parsed.data)) return;
      finish(performance.now());
    };
    const finish = (at: number | null) => {
      clearTimeout(timer);
      socket.removeEventListener("message", onMessage);
      resolve(at);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    socket.addEventListener("message", onMessage);
  });
}

export async function probeLiveLatency(options: LiveProbeOptions): Promise<LiveProbeResult> {
  const histogram = new LatencyHistogram();
  const posts = new LatencyHistogram();
  const result = (probes: number, missed: number, error: string | null): LiveProbeResult => ({
    latency: histogram.summary(),
    postLatency: posts.summary(),
    probes,
    missed,
    error,
  });
  const random = new SeededRandom(17);
  const url = `${options.collectorUrl.replace(/^http/, "ws")}/v1/live?site=${encodeURIComponent(options.site)}&token=${encodeURIComponent(options.token)}`;
  const socket = new WebSocket(url);
  let missed = 0;
  try {
    const snapshot = waitForMessage(socket, (message) => message.type === "snapshot", options.timeoutMs);
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener("open", () => resolve(), { once: true });
      socket.addEventListener("error", () => reject(new Error(`WebSocket ${url} failed to open`)), { once: true });
    });
    const first = await snapshot;
    if (first === null) return result(0, 0, "no snapshot on /v1/live");

    // Only the probes post to this site, so its page views rise by exactly one per probe.
    let firstCount: number | null = null;
    for (let probe = 0; probe < options.probes && options.signal?.aborted !== true; probe++) {
      await sleep(options.gapMs[0] + random.next() * (options.gapMs[1] - options.gapMs[0]));
      // A visitor of its own each time, so the page view also moves `visitors` and `online`.
      const now = Date.now();
      const batch: BatchInput = {
        v: 1,
        site: options.site,
        batch: `live-${options.runId}-${probe}`,
        sent_at: now,
        visitor: `v-live-${options.runId}-${probe}`,
        events: [{ type: "page_view", id: "e0", ts: now, url: `https://${options.site}.example/live-probe` }],
      };
      const expected = firstCount === null ? 1 : firstCount + probe;
      let seenCount = 0;
      const counted = (message: LiveMessage): boolean => {
        if (message.type !== "update" || message.totals.page_views < expected) return false;
        seenCount = message.totals.page_views;
        return true;
      };
      // Listen before posting: the update can beat the POST's own answer.
      const began = performance.now();
      const arrival = waitForMessage(socket, counted, options.timeoutMs);
      const response = await fetch(`${options.collectorUrl}/v1/events`, {
        method: "POST",
        headers: { "content-type": "text/plain;charset=UTF-8", "user-agent": BROWSER_USER_AGENT },
        body: JSON.stringify(batch),
      });
      await response.arrayBuffer();
      const answered = performance.now();
      if (response.status !== 202) return result(probe, missed, `probe POST answered ${response.status}`);
      const at = await arrival;
      if (firstCount === null) {
        // The first probe is a warm-up (it creates the shard and hub objects) and finds the count.
        if (at === null)
          return result(0, 1, "no live update after a page view (are the shards sending to the LiveHub?)");
        firstCount = seenCount;
        continue;
      }
      if (at === null) {
        missed++;
        if (missed >= 2) return result(probe, missed, `no update within ${options.timeoutMs} ms, twice`);
      } else {
        histogram.record(at - began);
        posts.record(answered - began);
        options.onSample?.(at - began);
      }
    }
    return result(Math.max(0, options.probes - 1), missed, null);
  } finally {
    socket.close(1000, "benchmark done");
  }
}
