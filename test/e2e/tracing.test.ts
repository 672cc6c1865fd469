/**
 * OpenTelemetry traces end to end: the collector under wrangler dev exports to a local OTLP
 * receiver, and its ClickHouse traffic passes a recording proxy (the local engine has no
 * system.query_log, so what each insert carried is read off the wire). The sampler's ratio is
 * 0, so only what the caller marks sampled is recorded, and anything else exported would be a bug.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalClickHouse, type LocalClickHouse } from "../../clickhouse/local-server";
import type { BatchInput } from "../../protocol";
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "../support/otlp-receiver";
import { startRecordingProxy, type RecordingProxy } from "../support/recording-proxy";
import { startStack, type Stack } from "../support/stack";

const SITE = "traced";
const SITES = JSON.stringify([{ key: SITE, origins: ["*"] }]);
const DESKTOP =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const SPAN_KIND_SERVER = 2;
const SPAN_KIND_CLIENT = 3;
const ROWS_TIMEOUT_MS = 45_000;

let clickhouseDir: string;
let clickhouse: LocalClickHouse;
let proxy: RecordingProxy;
let receiver: OtlpReceiver;
let stack: Stack;
const runId = Date.now().toString(36);

function hex(length: number): string {
  return Array.from({ length }, () => Math.floor(Math.random() * 16).toString(16)).join("");
}

async function postBatch(label: string, traceparent: string | null): Promise<{ status: number; batch: string }> {
  const batch = `b-${runId}-${label}`;
  const body: BatchInput = {
    v: 1,
    site: SITE,
    batch,
    visitor: `v-${runId}-${label}`,
    sent_at: Date.now(),
    events: [{ type: "page_view", id: "e1", ts: Date.now() - 100, url: `https://shop.example/${label}` }],
  };
  const response = await fetch(`${stack.collectorUrl}/v1/events`, {
    method: "POST",
    headers: {
      "Content-Type": "text/plain",
      "User-Agent": DESKTOP,
      ...(traceparent === null ? {} : { traceparent }),
    },
    body: JSON.stringify(body),
  });
  await response.body?.cancel();
  return { status: response.status, batch };
}

function waitForBatchRows(batch: string): Promise<number> {
  return stack.waitForRows(
    "SELECT count() FROM events WHERE site = {site:String} AND batch_id = {batch:String}",
    { site: SITE, batch },
    1,
    ROWS_TIMEOUT_MS,
  );
}

beforeAll(async () => {
  clickhouseDir = mkdtempSync(join(tmpdir(), "edgepulse-tracing-ch-"));
  clickhouse = await startLocalClickHouse({ port: 0, dataDir: clickhouseDir });
  proxy = await startRecordingProxy(clickhouse.url);
  receiver = await startOtlpReceiver();
  stack = await startStack({
    clickhouseUrl: proxy.url,
    vars: { SITES, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_TRACES_SAMPLER_ARG: "0" },
  });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await receiver?.close();
  await proxy?.close();
  await clickhouse?.close();
  if (clickhouseDir !== undefined) rmSync(clickhouseDir, { recursive: true, force: true });
});

describe("tracing", () => {
  it("exports one batch's span tree: route → shard ingest, and the flush that inserted it, linked", async () => {
    const traceId = hex(32);
    const callerSpan = hex(16);
    const { status, batch } = await postBatch("sampled", `00-${traceId}-${callerSpan}-01`);
    expect(status).toBe(202);
    await waitForBatchRows(batch);

    const find = (spans: ReceivedSpan[]) => {
      const route = spans.find((span) => span.traceId === traceId && span.parentSpanId === callerSpan);
      const shard = spans.find((span) => span.traceId === traceId && span.parentSpanId === route?.spanId);
      const flush = spans.find((span) =>
        span.links.some((link) => link.traceId === traceId && link.spanId === shard?.spanId),
      );
      const insert = spans.find(
        (span) => span.parentSpanId === flush?.spanId && span.attributes["db.collection.name"] === "events",
      );
      return { route, shard, flush, insert };
    };
    const spans = await receiver.waitFor((all) => find(all).insert !== undefined, ROWS_TIMEOUT_MS);
    const { route, shard, flush, insert } = find(spans);

    expect(route).toMatchObject({
      name: "POST /v1/events",
      kind: SPAN_KIND_SERVER,
      service: "edgepulse",
      attributes: { "http.route": "/v1/events", "http.response.status_code": 202 },
    });
    expect(shard).toMatchObject({
      name: "IngestShard.ingest",
      kind: SPAN_KIND_SERVER,
      attributes: { "edgepulse.site": SITE, "edgepulse.events": 1, "edgepulse.outcome": "accepted" },
    });
    // The flush is a trace of its own (it carries many batches), linked to each recorded one.
    expect(flush?.name).toBe("IngestShard.flush");
    expect(flush?.parentSpanId).toBeNull();
    expect(flush?.traceId).not.toBe(traceId);
    expect(insert).toMatchObject({ name: "INSERT events", kind: SPAN_KIND_CLIENT, traceId: flush?.traceId });
    expect(BigInt(insert?.startTimeUnixNano ?? 0)).toBeGreaterThanOrEqual(BigInt(flush?.startTimeUnixNano ?? 0));

    // ClickHouse received the insert span's context: log_comment, query_id and the traceparent header.
    const insertTraceparent = `00-${insert?.traceId}-${insert?.spanId}-01`;
    const sent = proxy.requests().filter((request) => request.params.get("log_comment") === insertTraceparent);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.query).toMatch(/^INSERT INTO events\b/);
    expect(sent[0]?.params.get("query_id")).toBe(`${insert?.traceId}-${insert?.spanId}`);
    expect(sent[0]?.traceparent).toBe(insertTraceparent);
  });

  it("exports nothing for unsampled or malformed traceparents, and still answers 202", async () => {
    const before = receiver.spans().length;
    const unsampledTrace = hex(32);
    const results = [
      await postBatch("unsampled", `00-${unsampledTrace}-${hex(16)}-00`),
      await postBatch("malformed", "00-this-is-not-a-traceparent"),
      await postBatch("absent", null),
    ];
    expect(results.map((result) => result.status)).toEqual([202, 202, 202]);
    for (const { batch } of results) await waitForBatchRows(batch);
    // Give any export that would have followed those flushes time to arrive.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(receiver.spans().slice(before)).toEqual([]);
    // Unrecorded flushes still tag their inserts, with the sampled flag off.
    const unrecorded = proxy
      .requests()
      .filter((request) => /^INSERT INTO events\b/.test(request.query))
      .map((request) => request.params.get("log_comment") ?? "");
    expect(unrecorded.some((comment) => /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/.test(comment))).toBe(true);
  });
});
