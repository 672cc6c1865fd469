/**
 * Telemetry: the one object that adds up what stateless Worker isolates observe — today the
 * requests refused, by error code — so `/metrics` can report them across isolates. Counters
 * live in SQLite and only ever grow, as Prometheus counters must (a scraper handles a reset,
 * not a decrease). The table is bounded by the closed set of error codes.
 */
import { DurableObject } from "cloudflare:workers";
import { errorCodeSchema, type ErrorCode } from "../protocol";

export type RejectionCounts = Partial<Record<ErrorCode, number>>;

export class Telemetry extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS rejections (code TEXT PRIMARY KEY, count INTEGER NOT NULL)");
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

  async rejections(): Promise<RejectionCounts> {
    const counts: RejectionCounts = {};
    for (const row of this.ctx.storage.sql.exec<{ code: string; count: number }>("SELECT code, count FROM rejections")) {
      const code = errorCodeSchema.safeParse(row.code);
      if (code.success) counts[code.data] = row.count;
    }
    return counts;
  }
}
