/**
 * Telemetry: the one object that adds up what stateless Worker isolates observe — the
 * requests refused, by error code, and the batches refused as bots, by site — so `/metrics`
 * can report them across isolates. Counters live in SQLite and only ever grow, as Prometheus
 * counters must (a scraper handles a reset, not a decrease). The rejections table is bounded
 * by the closed set of error codes; the bot table by the configured sites (the Worker counts a
 * bot batch only after the site was found) and, against a bug, by MAX_BOT_SITES.
 */
import { DurableObject } from "cloudflare:workers";
import { errorCodeSchema, type ErrorCode } from "../protocol";

export type RejectionCounts = Partial<Record<ErrorCode, number>>;
/** Batches refused because their User-Agent is a bot's, by site key. */
export type BotBatchCounts = Record<string, number>;

/** Most sites the bot table holds; counts for further sites are dropped (a bound on a bug, not a plan). */
export const MAX_BOT_SITES = 10_000;

const isPositiveCount = (count: unknown): count is number =>
  typeof count === "number" && Number.isSafeInteger(count) && count > 0;

export class Telemetry extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS rejections (code TEXT PRIMARY KEY, count INTEGER NOT NULL)");
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS bot_batches (site TEXT PRIMARY KEY, count INTEGER NOT NULL)");
  }

  /** Adds counts; unknown codes and non-positive counts are ignored, so the table stays bounded. */
  async addRejections(counts: RejectionCounts): Promise<void> {
    for (const [code, count] of Object.entries(counts)) {
      if (!errorCodeSchema.safeParse(code).success || !Number.isSafeInteger(count) || count <= 0) continue;
      this.ctx.storage.sql.exec(
        "INSERT INTO rejections (code, count) VALUES (?, ?) ON CONFLICT (code) DO UPDATE SET count = count + excluded.count",
        code,
        count,
      );
    }
  }

  /** Adds bot batch counts per site; non-positive counts and sites past MAX_BOT_SITES are ignored. */
  async addBotBatches(counts: BotBatchCounts): Promise<void> {
    const sql = this.ctx.storage.sql;
    for (const [site, count] of Object.entries(counts)) {
      if (!isPositiveCount(count) || site.length > 200) continue;
      const known = sql.exec("SELECT 1 FROM bot_batches WHERE site = ?", site).toArray().length > 0;
      if (!known && sql.exec<{ n: number }>("SELECT count(*) AS n FROM bot_batches").one().n >= MAX_BOT_SITES) continue;
      sql.exec(
        "INSERT INTO bot_batches (site, count) VALUES (?, ?) ON CONFLICT (site) DO UPDATE SET count = count + excluded.count",
        site,
        count,
      );
    }
  }

  async botBatches(): Promise<BotBatchCounts> {
    // fromEntries defines own properties, whatever a key spells (no prototype setter).
    return Object.fromEntries(
      this.ctx.storage.sql
        .exec<{ site: string; count: number }>("SELECT site, count FROM bot_batches")
        .toArray()
        .map((row) => [row.site, row.count]),
    );
  }

  async rejections(): Promise<RejectionCounts> {
    const counts: RejectionCounts = {};
    for (const row of this.ctx.storage.sql.exec<{ code: string; count: number }>(
      "SELECT code, count FROM rejections",
    )) {
      const code = errorCodeSchema.safeParse(row.code);
      if (code.success) counts[code.data] = row.count;
    }
    return counts;
  }
}
