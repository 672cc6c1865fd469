/**
 * `GET /metrics`: Prometheus text exposition 0.0.4 for the whole collector.
 *
 * Requires the admin token as `Authorization: Bearer <token>` (a Prometheus scrape config
 * sets it with `authorization: { credentials: … }`): the counters name every site.
 *
 * Sources, read on every scrape (nothing is cached, so two scrapes never disagree about
 * which one is newer):
 *  - the Telemetry object: requests refused, by error code (every code is listed, 0 when
 *    never seen, so rate() works from the first scrape);
 *  - every IngestShard of every configured site (`stats()`, persisted counters): events and
 *    batches ingested, duplicate batches, rows flushed per table, flush errors, quarantined
 *    rows, late events, batches refused as overloaded; and gauges: flush lag (age of the
 *    oldest row not yet in ClickHouse) and flush backoff (max over the site's shards), events
 *    waiting for ClickHouse (sum), and the consumer-lag pair an alert needs per site: the
 *    fullest shard's backlog beside the bound it is refused at (the bound is per shard, so a
 *    sum would hide one full shard among idle ones), and the oldest waiting event's age;
 *  - every site's LiveHub: WebSocket clients connected now, beside the per-hub cap.
 * A source that does not answer is counted in `edgepulse_metrics_source_errors` and left out,
 * rather than failing the scrape. A site with a silent shard is left out whole for that scrape:
 * a sum over the other shards would look like a counter reset to Prometheus.
 */
import { Hono } from "hono";
import { errorCodeSchema } from "../../protocol";
import type { AppEnv } from "../app-env";
import { requireAdminAccess } from "../auth";
import { allSites } from "../site-directory";
import {
  formatPrometheusText,
  PROMETHEUS_CONTENT_TYPE,
  type MetricFamily,
  type MetricSample,
} from "../prometheus-text";
import { ingestShardName } from "../../common/shard-routing";
import { botBatchCounts, rejectionCounts } from "../refusal-counter";
import { MAX_LIVE_CLIENTS } from "../../durable-objects/live-hub/live-hub";
import { COUNTER_NAMES, type CounterName } from "../../durable-objects/ingest-shard/shard-stats";
import type { BotBatchCounts, RejectionCounts } from "../../durable-objects/telemetry";

/** Shard calls in flight at once during a scrape (sites × SHARDS can be large). */
const SCRAPE_CONCURRENCY = 32;

/** The flushed-rows counters of ShardStats, by ClickHouse table. */
const FLUSHED_ROWS_BY_TABLE = {
  events: "flushed_rows_events",
  window_metrics: "flushed_rows_window_metrics",
  sessions: "flushed_rows_sessions",
} as const satisfies Record<string, CounterName>;

interface SiteShardTotals {
  counters: Record<CounterName, number>;
  /** Max over the site's shards. */
  flushLagSeconds: number;
  flushBackoffSeconds: number;
  unflushedEvents: number;
  /** Max over the site's shards: the shard closest to refusing batches decides. */
  shardBacklogEvents: number;
  shardBacklogLimitEvents: number;
  oldestPendingEventAgeSeconds: number;
}

/** Runs `task` over `items` with at most `limit` in flight; settles every item. */
async function settleAll<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      const item = items[index] as T;
      try {
        results[index] = { status: "fulfilled", value: await task(item) };
      } catch (reason) {
        results[index] = { status: "rejected", reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function counter(name: string, help: string, samples: MetricSample[]): MetricFamily {
  return { name, help, type: "counter", samples };
}

function gauge(name: string, help: string, samples: MetricSample[]): MetricFamily {
  return { name, help, type: "gauge", samples };
}

export const prometheusRoutes = new Hono<AppEnv>();

prometheusRoutes.get("/metrics", async (c) => {
  await requireAdminAccess(c);
  const config = c.get("config");
  const sites = (await allSites(c)).map((site) => site.key).sort();
  const sourceErrors = { telemetry: 0, shard: 0, live_hub: 0 };

  const shardTargets = sites.flatMap((site) => Array.from({ length: config.shards }, (_, shard) => ({ site, shard })));
  const [rejections, botBatches, shardStats, hubClients] = await Promise.all([
    rejectionCounts(c.env).catch((error: unknown): RejectionCounts => {
      console.error("metrics: telemetry unavailable", String(error));
      sourceErrors.telemetry += 1;
      return {};
    }),
    botBatchCounts(c.env).catch((error: unknown): BotBatchCounts => {
      console.error("metrics: telemetry unavailable", String(error));
      sourceErrors.telemetry += 1;
      return {};
    }),
    settleAll(shardTargets, SCRAPE_CONCURRENCY, ({ site, shard }) =>
      c.env.INGEST_SHARD.get(c.env.INGEST_SHARD.idFromName(ingestShardName(site, shard))).stats(),
    ),
    settleAll(sites, SCRAPE_CONCURRENCY, (site) => c.env.LIVE_HUB.get(c.env.LIVE_HUB.idFromName(site)).liveClients()),
  ]);

  const totals = new Map<string, SiteShardTotals>();
  const incompleteSites = new Set<string>();
  for (const site of sites) {
    const counters = Object.fromEntries(COUNTER_NAMES.map((name) => [name, 0])) as Record<CounterName, number>;
    totals.set(site, {
      counters,
      flushLagSeconds: 0,
      flushBackoffSeconds: 0,
      unflushedEvents: 0,
      shardBacklogEvents: 0,
      shardBacklogLimitEvents: 0,
      oldestPendingEventAgeSeconds: 0,
    });
  }
  shardStats.forEach((settled, index) => {
    const target = shardTargets[index];
    const site = target === undefined ? undefined : totals.get(target.site);
    if (site === undefined) return;
    if (settled.status === "rejected") {
      console.error("metrics: shard stats unavailable", { ...target, error: String(settled.reason) });
      sourceErrors.shard += 1;
      incompleteSites.add(target?.site ?? "");
      return;
    }
    const stats = settled.value;
    for (const name of COUNTER_NAMES) site.counters[name] += stats.counters[name];
    site.flushLagSeconds = Math.max(site.flushLagSeconds, stats.flush_lag_ms / 1000);
    site.flushBackoffSeconds = Math.max(site.flushBackoffSeconds, stats.backoff_ms / 1000);
    site.unflushedEvents += stats.pending.events;
    site.shardBacklogEvents = Math.max(site.shardBacklogEvents, stats.pending.events);
    site.shardBacklogLimitEvents = Math.max(site.shardBacklogLimitEvents, stats.max_pending_events);
    site.oldestPendingEventAgeSeconds = Math.max(
      site.oldestPendingEventAgeSeconds,
      stats.oldest_pending_event_age_ms / 1000,
    );
  });

  const clientSamples = hubClients.flatMap((settled, index): MetricSample[] => {
    const site = sites[index];
    if (settled.status === "rejected" || site === undefined) {
      sourceErrors.live_hub += 1;
      return [];
    }
    return [{ labels: { site }, value: settled.value }];
  });

  for (const site of incompleteSites) totals.delete(site);
  const perSite = (value: (site: SiteShardTotals) => number): MetricSample[] =>
    [...totals].map(([site, siteTotals]) => ({ labels: { site }, value: value(siteTotals) }));

  const families: MetricFamily[] = [
    counter(
      "edgepulse_ingested_events_total",
      "Events accepted and stored by the ingest shards.",
      perSite((site) => site.counters.ingested_events),
    ),
    counter(
      "edgepulse_ingested_batches_total",
      "Batches accepted and stored by the ingest shards.",
      perSite((site) => site.counters.ingested_batches),
    ),
    counter(
      "edgepulse_rejected_requests_total",
      "Requests refused, by error code (429 rate_limited, 503 overloaded, 400 invalid_payload, …).",
      errorCodeSchema.options.map((code) => ({ labels: { code }, value: rejections[code] ?? 0 })),
    ),
    counter(
      "edgepulse_bot_batches_total",
      "Batches whose User-Agent is a bot's (crawler, headless browser): answered 202, never stored.",
      sites.map((site) => ({ labels: { site }, value: botBatches[site] ?? 0 })),
    ),
    counter(
      "edgepulse_duplicate_batches_total",
      "Batches received again (same batch id) and counted once.",
      perSite((site) => site.counters.duplicate_batches),
    ),
    counter(
      "edgepulse_flushed_rows_total",
      "Rows the shards inserted into ClickHouse, per table.",
      [...totals].flatMap(([site, siteTotals]) =>
        Object.entries(FLUSHED_ROWS_BY_TABLE).map(([table, counterName]) => ({
          labels: { site, table },
          value: siteTotals.counters[counterName],
        })),
      ),
    ),
    counter(
      "edgepulse_flush_errors_total",
      "Flushes to ClickHouse that failed (retried with backoff).",
      perSite((site) => site.counters.flush_errors),
    ),
    counter(
      "edgepulse_quarantined_rows_total",
      "Rows ClickHouse refused, kept in the quarantine table.",
      perSite((site) => site.counters.quarantined_rows),
    ),
    counter(
      "edgepulse_late_events_total",
      "Events that arrived after their window was sealed (stored and flushed, never dropped).",
      perSite((site) => site.counters.late_events),
    ),
    counter(
      "edgepulse_overloaded_batches_total",
      "Batches a shard refused with 503 because its backlog was full (or nearly full, from a client holding much of it).",
      perSite((site) => site.counters.overloaded_batches),
    ),
    counter(
      "edgepulse_shard_rate_limited_batches_total",
      "Batches a shard refused with 429: over its share of the site's rate limit.",
      perSite((site) => site.counters.rate_limited_batches),
    ),
    gauge(
      "edgepulse_flush_lag_seconds",
      "Age of the oldest row (event, window part or session) not yet in ClickHouse (max over the site's shards).",
      perSite((site) => site.flushLagSeconds),
    ),
    gauge(
      "edgepulse_flush_backoff_seconds",
      "Current retry delay of failing flushes (max over the site's shards); 0 when healthy.",
      perSite((site) => site.flushBackoffSeconds),
    ),
    gauge(
      "edgepulse_unflushed_events",
      "Events held by the shards until ClickHouse acknowledges them.",
      perSite((site) => site.unflushedEvents),
    ),
    gauge(
      "edgepulse_shard_backlog_events",
      "Events waiting for ClickHouse in the site's fullest shard (max over the site's shards).",
      perSite((site) => site.shardBacklogEvents),
    ),
    gauge(
      "edgepulse_shard_backlog_limit_events",
      "Backlog at which a shard refuses batches with 503 overloaded (SHARD_MAX_PENDING_EVENTS).",
      perSite((site) => site.shardBacklogLimitEvents),
    ),
    gauge(
      "edgepulse_oldest_pending_event_age_seconds",
      "Age of the oldest event not yet in ClickHouse, the consumer lag (max over the site's shards); 0 when none waits.",
      perSite((site) => site.oldestPendingEventAgeSeconds),
    ),
    gauge("edgepulse_websocket_clients", "Live dashboard WebSockets connected now.", clientSamples),
    gauge(
      "edgepulse_websocket_clients_limit",
      "WebSockets one site's LiveHub accepts; beyond it a connect is refused with 503.",
      [{ labels: {}, value: MAX_LIVE_CLIENTS }],
    ),
    gauge(
      "edgepulse_metrics_source_errors",
      "Sources that did not answer this scrape (their numbers are missing above).",
      Object.entries(sourceErrors).map(([source, errors]) => ({ labels: { source }, value: errors })),
    ),
  ];
  return c.body(formatPrometheusText(families), 200, {
    "Content-Type": PROMETHEUS_CONTENT_TYPE,
    "Cache-Control": "no-store",
  });
});
