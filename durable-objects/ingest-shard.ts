/**
 * IngestShard: one Durable Object per (site, shard index), keyed `${site}:${shard}`. The
 * Worker routes each batch to the shard of its visitor; the shard keeps windows, sessions and
 * pending rows in SQLite and flushes them to ClickHouse from its alarm.
 *
 * Transport only: the work is in ShardEngine (shard-engine.ts) and the pure modules it uses.
 * RPC surface: `ingest(batch)`, `stats()` for /metrics, `liveState()` for a LiveHub that
 * rebuilds itself.
 */
import { DurableObject } from "cloudflare:workers";
import { createClickHouse } from "../clickhouse/client";
import type { EnrichedBatch, IngestOutcome } from "../protocol";
import { loadConfig } from "../worker/config";
import type { ShardLiveState } from "./live-delta";
import { ShardEngine } from "./shard-engine";
import type { ShardStats } from "./shard-stats";

export type { ShardStats } from "./shard-stats";

/** `${site}:${shard}` → identity; site keys never contain ':' (siteKeySchema). */
export function parseShardName(name: string | undefined): { site: string; shard: number } | null {
  if (name === undefined) return null;
  const colon = name.lastIndexOf(":");
  const shard = Number(name.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(shard) || shard < 0) return null;
  return { site: name.slice(0, colon), shard };
}

export class IngestShard extends DurableObject<Env> {
  private readonly engine: ShardEngine;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const config = loadConfig(env);
    const hubs = env.LIVE_HUB;
    // Synchronous (SQLite), so the schema is in place before any request is delivered.
    this.engine = new ShardEngine({
      storage: ctx.storage,
      settings: config,
      clickhouse: createClickHouse(config.clickhouse),
      sendToHub: (state) => hubs.get(hubs.idFromName(state.site)).applyShardState(state),
      identity: parseShardName(ctx.id.name),
    });
  }

  async ingest(batch: EnrichedBatch): Promise<IngestOutcome> {
    return this.engine.ingest(batch);
  }

  async stats(): Promise<ShardStats> {
    return this.engine.stats();
  }

  async liveState(): Promise<ShardLiveState> {
    return this.engine.liveState();
  }

  override async alarm(): Promise<void> {
    await this.engine.alarm();
  }
}
