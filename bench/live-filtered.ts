/**
 * Staleness of the filtered Live tab: the time from an event's 202 to the first answer of
 * `GET /v1/live/filtered` that counts it. Each probe posts one page view on a page of its own
 * (a visitor of its own, so a Direct session) and asks for `page:is:<that page>` AND
 * `channel:is:Direct` (an event and a session attribute, the latter the costlier subquery),
 * in two ways:
 *
 * - `tight`: asking again as soon as an answer arrives: the floor, what the shards' flush
 *   (≤ 2 s after the 202, 1 s after traffic pauses) plus one answer's time allows;
 * - `dashboard`: as the dashboard does, every 2 s from a phase that is random relative to the
 *   event: what a user looking at the filtered Live tab sees.
 *
 * - `stored` (when it starts its own stack): asking ClickHouse for the row itself, the part of
 *   the staleness that is the shards' flush and not the route.
 *
 * Also records how long each answer took (its 9 ClickHouse queries). Run:
 *   npx tsx bench/live-filtered.ts                       # starts its own stack (wrangler dev +
 *                                                        # local ClickHouse, 10 s windows)
 *   npx tsx bench/live-filtered.ts --url http://127.0.0.1:8787 --site demo --token dev-admin-token
 *   npx tsx bench/live-filtered.ts --background 50     # while 50 batches/s of generated visits
 *                                                        # reach the same site (busy shards flush
 *                                                        # by age, queries scan more rows)
 */
import { parseArgs } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import type { BatchInput } from "../protocol";
import { liveFilteredAnswerSchema } from "../protocol/live-filtered";
import { BatchStream } from "../tools/batch-stream";
import { LatencyHistogram, type LatencySummary } from "../tools/latency-histogram";
import { runLoad } from "../tools/run-load";
import { SeededRandom } from "../tools/seeded-random";
import { BROWSER_USER_AGENT } from "../tools/session-generator";

/** The dashboard's poll period (dashboard/src/live-filtered.ts POLL_MS). */
export const DASHBOARD_POLL_MS = 2_000;

export interface FilteredProbeOptions {
  collectorUrl: string;
  site: string;
  token: string;
  probes: number;
  /** `stored`: ask ClickHouse itself (`storedCount`), to split the staleness into flush and answer. */
  mode: "tight" | "dashboard" | "stored";
  /** Rows of the probe's page in `events`; needed for mode `stored`. */
  storedCount?: (site: string, path: string) => Promise<number>;
  /** Give up on one probe after this long (and on the run after two such misses). */
  timeoutMs: number;
  runId: string;
}

export interface FilteredProbeResult {
  mode: FilteredProbeOptions["mode"];
  /** 202 → the first answer counting the event has arrived. */
  staleness: LatencySummary;
  /** Request → answer of every `/v1/live/filtered` call. */
  answer: LatencySummary;
  probes: number;
  missed: number;
  error: string | null;
}

export async function probeFilteredLiveStaleness(options: FilteredProbeOptions): Promise<FilteredProbeResult> {
  const staleness = new LatencyHistogram();
  const answers = new LatencyHistogram();
  const random = new SeededRandom(23);
  let missed = 0;
  const result = (probes: number, error: string | null): FilteredProbeResult => ({
    mode: options.mode,
    staleness: staleness.summary(),
    answer: answers.summary(),
    probes,
    missed,
    error,
  });

  /** Page views the filtered answer counts for `path`, and when the answer arrived. */
  const ask = async (path: string): Promise<{ count: number; at: number }> => {
    const stored = options.storedCount;
    if (options.mode === "stored" && stored !== undefined) {
      const began = performance.now();
      const count = await stored(options.site, path);
      const at = performance.now();
      answers.record(at - began);
      return { count, at };
    }
    const url = new URL("/v1/live/filtered", options.collectorUrl);
    url.searchParams.set("site", options.site);
    url.searchParams.append("filter", `page:is:${path}`);
    url.searchParams.append("filter", "channel:is:Direct");
    const began = performance.now();
    const response = await fetch(url, { headers: { Authorization: `Bearer ${options.token}` } });
    const body: unknown = await response.json();
    const at = performance.now();
    if (response.status !== 200)
      throw new Error(`/v1/live/filtered answered ${response.status}: ${JSON.stringify(body)}`);
    answers.record(at - began);
    return { count: liveFilteredAnswerSchema.parse(body).totals.page_views, at };
  };

  for (let probe = 0; probe < options.probes; probe++) {
    await sleep(200 + random.next() * 300);
    const path = `/live-filtered-probe/${options.runId}/${probe}`;
    const now = Date.now();
    const batch: BatchInput = {
      v: 1,
      site: options.site,
      batch: `live-filtered-${options.runId}-${probe}`,
      sent_at: now,
      visitor: `v-live-filtered-${options.runId}-${probe}`,
      events: [{ type: "page_view", id: "e0", ts: now, url: `https://${options.site}.example${path}` }],
    };
    const response = await fetch(`${options.collectorUrl}/v1/events`, {
      method: "POST",
      headers: { "content-type": "text/plain;charset=UTF-8", "user-agent": BROWSER_USER_AGENT },
      body: JSON.stringify(batch),
    });
    await response.arrayBuffer();
    const accepted = performance.now();
    if (response.status !== 202) return result(probe, `probe POST answered ${response.status}`);
    // The dashboard's poller runs independently of the event: its next poll is at a random phase.
    if (options.mode === "dashboard") await sleep(random.next() * DASHBOARD_POLL_MS);
    let seenAt: number | null = null;
    while (seenAt === null && performance.now() - accepted < options.timeoutMs) {
      const asked = performance.now();
      const answer = await ask(path);
      if (answer.count >= 1) seenAt = answer.at;
      else if (options.mode === "dashboard") await sleep(Math.max(0, DASHBOARD_POLL_MS - (performance.now() - asked)));
    }
    // The first probe is a warm-up (objects created, ClickHouse caches filled).
    if (probe === 0) continue;
    if (seenAt === null) {
      missed++;
      if (missed >= 2) return result(probe, `not visible within ${options.timeoutMs} ms, twice`);
    } else staleness.record(seenAt - accepted);
  }
  return result(Math.max(0, options.probes - 1), null);
}

const format = (summary: LatencySummary) =>
  `p50 ${Math.round(summary.p50)} ms, p90 ${Math.round(summary.p90)} ms, p99 ${Math.round(summary.p99)} ms, max ${Math.round(summary.max)} ms (${summary.count})`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: "string" },
      site: { type: "string", default: "demo" },
      token: { type: "string", default: "dev-admin-token" },
      probes: { type: "string", default: "31" },
      background: { type: "string", default: "0" },
    },
  });
  const probes = Number(values.probes);
  const backgroundRate = Number(values.background);
  let stop = async () => {};
  let collectorUrl = values.url;
  let storedCount: FilteredProbeOptions["storedCount"];
  if (collectorUrl === undefined) {
    // The defaults of a deployment (10 s windows), not the test stack's 1 s ones: the flush age
    // bound is min(window, 2 s).
    const { startStack } = await import("../test/support/stack");
    const stack = await startStack({ vars: { WINDOW_SECONDS: "10", ALLOWED_LATENESS_SECONDS: "5", SHARDS: "8" } });
    storedCount = async (site, path) => {
      const rows = await stack.clickhouse.query<{ rows: number }>(
        "SELECT count() AS rows FROM events WHERE site = {site:String} AND path = {path:String}",
        { site, path },
      );
      return Number(rows[0]?.rows ?? 0);
    };
    collectorUrl = stack.collectorUrl;
    stop = () => stack.stop();
  }
  try {
    const runId = Date.now().toString(36);
    // `stored` only when this script started the stack (it reads that ClickHouse directly).
    const modes =
      storedCount === undefined ? (["tight", "dashboard"] as const) : (["stored", "tight", "dashboard"] as const);
    for (const mode of modes) {
      const abort = new AbortController();
      const background =
        backgroundRate > 0
          ? runLoad({
              url: collectorUrl,
              rate: backgroundRate,
              rateUnit: "batches",
              durationMs: 10 * 60_000,
              maxBatches: Number.MAX_SAFE_INTEGER,
              concurrency: 64,
              maxRetries: 0,
              nextBatch: (() => {
                const stream = new BatchStream({ seed: 11, sites: [values.site], runId: `${runId}-${mode}-bg` });
                return () => stream.next();
              })(),
              signal: abort.signal,
              drainTimeoutMs: 5_000,
            })
          : null;
      if (background !== null) await sleep(3_000);
      const outcome = await probeFilteredLiveStaleness({
        collectorUrl,
        site: values.site,
        token: values.token,
        probes,
        mode,
        ...(storedCount === undefined ? {} : { storedCount }),
        timeoutMs: 20_000,
        runId: `${runId}-${mode}`,
      }).finally(() => abort.abort());
      const load = await background;
      if (load !== null)
        process.stdout.write(
          `${mode}: background ${load.batchesPerSecond.toFixed(1)} batches/s, ${load.eventsPerSecond.toFixed(0)} events/s, ${load.accepted} accepted\n`,
        );
      process.stdout.write(
        `${mode}: 202 → visible ${mode === "stored" ? "in ClickHouse events" : "in the filtered answer"}: ${format(outcome.staleness)}; answer time ${format(outcome.answer)}${outcome.missed > 0 ? `; ${outcome.missed} missed` : ""}${outcome.error ? `; ${outcome.error}` : ""}\n`,
      );
    }
  } finally {
    await stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
