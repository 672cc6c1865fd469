import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { acceptedResponseSchema, errorCodeSchema, errorResponseSchema } from "../../protocol";
import { MAX_LIVE_CLIENTS } from "../../durable-objects/live-hub/live-hub";
import { MAX_PENDING_EVENTS } from "../../durable-objects/ingest-shard/shard-engine";
import { LOCAL_DEV_ADMIN_TOKEN } from "../../common/config";

async function scrape(token: string | null = LOCAL_DEV_ADMIN_TOKEN): Promise<Response> {
  return exports.default.fetch(
    new Request("http://collector.test/metrics", {
      headers: token === null ? {} : { Authorization: `Bearer ${token}` },
    }),
  );
}

/** The value of one sample line, e.g. `edgepulse_rejected_requests_total{code="rate_limited"}`. */
function sample(text: string, series: string): number | null {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? null : Number(line.slice(series.length + 1));
}

async function metricsText(): Promise<string> {
  const response = await scrape();
  expect(response.status).toBe(200);
  return response.text();
}

async function eventually(check: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("condition not met within 2.5 s");
}

describe("GET /metrics", () => {
  it("requires the admin token", async () => {
    const anonymous = await scrape(null);
    expect(anonymous.status).toBe(401);
    expect(errorResponseSchema.parse(await anonymous.json()).error.code).toBe("unauthorized");
    const wrong = await scrape("not-the-admin-token-at-all");
    expect(wrong.status).toBe(403);
  });

  it("answers Prometheus text 0.0.4 with every family and every error code", async () => {
    const response = await scrape();
    expect(response.headers.get("Content-Type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await response.text();
    for (const family of [
      "edgepulse_ingested_events_total counter",
      "edgepulse_rejected_requests_total counter",
      "edgepulse_duplicate_batches_total counter",
      "edgepulse_bot_batches_total counter",
      "edgepulse_flushed_rows_total counter",
      "edgepulse_flush_errors_total counter",
      "edgepulse_quarantined_rows_total counter",
      "edgepulse_flush_lag_seconds gauge",
      "edgepulse_unflushed_events gauge",
      "edgepulse_shard_backlog_events gauge",
      "edgepulse_shard_backlog_limit_events gauge",
      "edgepulse_oldest_pending_event_age_seconds gauge",
      "edgepulse_websocket_clients gauge",
      "edgepulse_websocket_clients_limit gauge",
    ]) {
      expect(text).toContain(`# TYPE ${family}\n`);
    }
    for (const code of errorCodeSchema.options)
      expect(sample(text, `edgepulse_rejected_requests_total{code="${code}"}`)).not.toBeNull();
    expect(sample(text, 'edgepulse_metrics_source_errors{source="shard"}')).toBe(0);
    // The caps the alerts compare against (ops/prometheus/edgepulse-rules.yml).
    expect(sample(text, 'edgepulse_shard_backlog_limit_events{site="demo"}')).toBe(MAX_PENDING_EVENTS);
    expect(sample(text, "edgepulse_websocket_clients_limit")).toBe(MAX_LIVE_CLIENTS);
    // Every line is a comment or `name{labels} value`.
    for (const line of text.trimEnd().split("\n"))
      expect(line).toMatch(/^(# (HELP|TYPE) \S+ .*|[a-z_]+(\{[^}]*\})? \S+)$/);
  });

  it("counts ingested events, duplicates and refusals by code", async () => {
    const before = await metricsText();
    const ingestedBefore = sample(before, 'edgepulse_ingested_events_total{site="demo"}') ?? 0;
    const duplicatesBefore = sample(before, 'edgepulse_duplicate_batches_total{site="demo"}') ?? 0;
    const invalidBefore = sample(before, 'edgepulse_rejected_requests_total{code="invalid_payload"}') ?? 0;
    const mediaBefore = sample(before, 'edgepulse_rejected_requests_total{code="unsupported_media_type"}') ?? 0;

    const now = Date.now();
    const body = JSON.stringify({
      v: 1,
      site: "demo",
      batch: `b-metrics-${now}`,
      sent_at: now,
      visitor: "v-metrics",
      events: [
        { type: "page_view", id: "e1", ts: now, url: "https://shop.example/" },
        { type: "page_view", id: "e2", ts: now, url: "https://shop.example/cart" },
      ],
    });
    const post = (text: string, contentType = "text/plain") =>
      exports.default.fetch(
        new Request("http://collector.test/v1/events", {
          method: "POST",
          body: text,
          headers: { "Content-Type": contentType },
        }),
      );
    expect((await post(body)).status).toBe(202);
    expect((await post(body)).status).toBe(202);
    expect((await post("{not json")).status).toBe(400);
    expect((await post("[]")).status).toBe(400);
    expect((await post(body, "application/xml")).status).toBe(415);

    // Refusals reach the Telemetry object in the background; shard counters are immediate.
    await eventually(async () => {
      const text = await metricsText();
      return (
        sample(text, 'edgepulse_rejected_requests_total{code="invalid_payload"}') === invalidBefore + 2 &&
        sample(text, 'edgepulse_rejected_requests_total{code="unsupported_media_type"}') === mediaBefore + 1
      );
    });
    const after = await metricsText();
    expect(sample(after, 'edgepulse_ingested_events_total{site="demo"}')).toBe(ingestedBefore + 2);
    expect(sample(after, 'edgepulse_duplicate_batches_total{site="demo"}')).toBe(duplicatesBefore + 1);
  });

  it("answers a bot's batch 202 without storing it, and counts it by site", async () => {
    const before = await metricsText();
    const ingestedBefore = sample(before, 'edgepulse_ingested_events_total{site="demo"}') ?? 0;
    const botsBefore = sample(before, 'edgepulse_bot_batches_total{site="demo"}') ?? 0;
    const now = Date.now();
    const post = (batch: string, userAgent: string) =>
      exports.default.fetch(
        new Request("http://collector.test/v1/events", {
          method: "POST",
          headers: { "Content-Type": "text/plain", "User-Agent": userAgent },
          body: JSON.stringify({
            v: 1,
            site: "demo",
            batch,
            sent_at: now,
            visitor: "v-bot",
            events: [{ type: "page_view", id: "e1", ts: now, url: "https://shop.example/" }],
          }),
        }),
      );
    for (const [index, userAgent] of [
      "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
    ].entries()) {
      const answer = await post(`b-bot-${now}-${index}`, userAgent);
      expect(answer.status).toBe(202);
      expect(acceptedResponseSchema.parse(await answer.json())).toEqual({
        accepted: 0,
        duplicate: false,
        ignored: "bot",
      });
    }
    const browser = await post(
      `b-browser-${now}`,
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    );
    expect(await browser.json()).toEqual({ accepted: 1, duplicate: false });

    await eventually(
      async () => sample(await metricsText(), 'edgepulse_bot_batches_total{site="demo"}') === botsBefore + 2,
    );
    // Only the browser's event was stored.
    expect(sample(await metricsText(), 'edgepulse_ingested_events_total{site="demo"}')).toBe(ingestedBefore + 1);
  });
});
