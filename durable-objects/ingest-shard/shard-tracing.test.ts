/**
 * ShardTracing over the real local ClickHouse, exporting for real to the webhook receiver the
 * test setup runs (standing in for an OTLP collector: it records each POST's body).
 */
import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { createClickHouse } from "../../clickhouse/client";
import type { QuarantineRow } from "../../clickhouse/rows";
import { Tracer } from "../../tracing/tracer";
import { tracingSettingsFrom } from "../../tracing/tracing-config";
import { loadConfig } from "../../common/config";
import { ShardTracing } from "./shard-tracing";

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  links: { traceId: string; spanId: string }[];
  attributes: { key: string; value: Record<string, unknown> }[];
}

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const ROUTE_SPAN = "00f067aa0ba902b7";
const WHERE = { site: "shop", shard: 3, events: 1 };

function setUp() {
  const hook = `otel-shard-${crypto.randomUUID()}`;
  const receiver = inject("webhookReceiverUrl");
  const settings = tracingSettingsFrom({
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver}/hook/${hook}`,
    OTEL_TRACES_SAMPLER_ARG: "0",
  });
  if (settings === null) throw new Error("settings");
  const exports: Promise<void>[] = [];
  const tracing = new ShardTracing(new Tracer(settings), (promise) => exports.push(promise));
  const clickhouse = tracing.wrap(createClickHouse(loadConfig(env).clickhouse));
  const exported = async (): Promise<ExportedSpan[]> => {
    await Promise.all(exports);
    const received: { body: string }[] = await (await fetch(`${receiver}/received/${hook}`)).json();
    return received.flatMap((webhook) =>
      (JSON.parse(webhook.body) as { resourceSpans: { scopeSpans: { spans: ExportedSpan[] }[] }[] }).resourceSpans
        .flatMap((resource) => resource.scopeSpans)
        .flatMap((scope) => scope.spans),
    );
  };
  return { tracing, clickhouse, exported };
}

function quarantineRow(site: string): QuarantineRow {
  return { site, target_table: "events", quarantined_at: "2026-12-06 05:00:00.000", error: "test", row: "{}" };
}

describe("ShardTracing", () => {
  it("links a recorded batch from the flush that inserts, not from an alarm that inserted nothing", async () => {
    const { tracing, clickhouse, exported } = setUp();
    await tracing.ingest(`00-${TRACE}-${ROUTE_SPAN}-01`, WHERE, async () => ({ status: "accepted", accepted: 1 }));
    // An alarm with nothing due: no flush span, and the link waits.
    await tracing.alarm({ site: "shop", shard: 3 }, async () => {});
    const site = `shard-tracing-${crypto.randomUUID()}`;
    await tracing.alarm({ site: "shop", shard: 3 }, async () => {
      await clickhouse.insert("quarantine", [quarantineRow(site)], `${site}-1`);
    });

    const spans = await exported();
    expect(spans.map((span) => span.name).sort()).toEqual([
      "INSERT quarantine",
      "IngestShard.flush",
      "IngestShard.ingest",
    ]);
    const ingest = spans.find((span) => span.name === "IngestShard.ingest");
    const flush = spans.find((span) => span.name === "IngestShard.flush");
    const insert = spans.find((span) => span.name === "INSERT quarantine");
    expect(ingest).toMatchObject({ traceId: TRACE, parentSpanId: ROUTE_SPAN });
    expect(flush?.links).toEqual([{ traceId: TRACE, spanId: ingest?.spanId }]);
    expect(flush?.parentSpanId).toBeUndefined();
    expect(insert).toMatchObject({ traceId: flush?.traceId, parentSpanId: flush?.spanId });
  });

  it("records nothing for an unsampled batch, and its flush's inserts still succeed", async () => {
    const { tracing, clickhouse, exported } = setUp();
    await tracing.ingest(`00-${TRACE}-${ROUTE_SPAN}-00`, WHERE, async () => ({ status: "accepted", accepted: 1 }));
    await tracing.ingest("garbage", WHERE, async () => ({ status: "accepted", accepted: 1 }));
    const site = `shard-tracing-${crypto.randomUUID()}`;
    await tracing.alarm({ site: "shop", shard: 3 }, async () => {
      await clickhouse.insert("quarantine", [quarantineRow(site)], `${site}-1`);
    });
    expect(await exported()).toEqual([]);
    const rows = await createClickHouse(loadConfig(env).clickhouse).query<{ n: number }>(
      "SELECT count() AS n FROM quarantine WHERE site = {site:String}",
      { site },
    );
    expect(rows[0]?.n).toBe(1);
  });
});
