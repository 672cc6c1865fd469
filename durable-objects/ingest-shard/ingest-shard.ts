/**
 * IngestShard: one Durable Object per (site, shard index), keyed `${site}:${shard}`. The
 * Worker routes each batch to the shard of its visitor; the shard keeps windows, sessions and
 * pending rows in SQLite and flushes them to ClickHouse from its alarm.
 *
 * Transport only: the work is in ShardEngine (shard-engine.ts) and the pure modules it uses.
 * RPC surface: `ingest(batch, admission, traceparent, dedup)`, `probeBatch(id, digest)` for a
 * resend (worker/routes/events.ts), `stats()` for /metrics, `liveState()` for a LiveHub that
 * rebuilds itself, `purge()` when its site is deleted. A shard learns its (site, shard) from its first batch and refuses a batch
 * for another one (a routing bug), since its rows and dedup tokens are named after it.
 */
import { DurableObject } from "cloudflare:workers";
import { createClickHouse } from "../../clickhouse/client";
import type { BatchProbe, EnrichedBatch, IngestAdmission, IngestDedup, IngestOutcome } from "../../protocol";
import { loadConfig } from "../../common/config";
import { tracerFor } from "../../tracing/tracer";
import type { ShardLiveState } from "../shard-to-hub/shard-live-state";
import { ShardEngine } from "./shard-engine";
import { ShardTracing } from "./shard-tracing";
import type { ShardStats } from "./shard-stats";

export type { ShardStats } from "./shard-stats";

export class IngestShard extends DurableObject<Env> {
  private engine: ShardEngine;
  /** null when tracing is off (no OTLP endpoint). */
  private readonly tracing: ShardTracing | null;
  /** The (site, shard) of the last batch, for the flush span's attributes. */
  private identity: { site: string | null; shard: number | null } = { site: null, shard: null };

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const tracer = tracerFor(loadConfig(env).tracing);
    this.tracing = tracer === null ? null : new ShardTracing(tracer, (promise) => ctx.waitUntil(promise));
    this.engine = this.createEngine();
  }

  private createEngine(): ShardEngine {
    const { ctx, env } = this;
    const config = loadConfig(env);
    const hubs = env.LIVE_HUB;
    return new ShardEngine({
      storage: ctx.storage,
      settings: config,
      clickhouse: this.tracing?.wrap(createClickHouse(config.clickhouse)) ?? createClickHouse(config.clickhouse),
      sendToHub: (state) => hubs.get(hubs.idFromName(state.site)).applyShardState(state),
      ...(config.shardMaxPendingEvents === null ? {} : { maxPendingEvents: config.shardMaxPendingEvents }),
    });
  }

  /** `traceparent`: the Worker's route span when its trace is recorded (shard-tracing.ts). */
  async ingest(
    batch: EnrichedBatch,
    admission: IngestAdmission | null = null,
    traceparent: string | null = null,
    dedup: IngestDedup | null = null,
  ): Promise<IngestOutcome> {
    if (this.tracing === null) return this.engine.ingest(batch, admission, dedup);
    this.identity = { site: batch.site, shard: batch.shard };
    const where = { site: batch.site, shard: batch.shard, events: batch.events.length };
    return this.tracing.ingest(traceparent, where, () => this.engine.ingest(batch, admission, dedup));
  }

  async probeBatch(batchId: string, digest: string): Promise<BatchProbe> {
    return this.engine.probeBatch(batchId, digest);
  }

  async stats(): Promise<ShardStats> {
    return this.engine.stats();
  }

  async liveState(): Promise<ShardLiveState | null> {
    return this.engine.liveState();
  }

  override async alarm(): Promise<void> {
    if (this.tracing === null) return this.engine.alarm();
    await this.tracing.alarm(this.identity, () => this.engine.alarm());
  }

  /** The site was deleted: drop every stored row and the alarm, and start over empty. */
  async purge(): Promise<void> {
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.engine = this.createEngine();
  }
}
