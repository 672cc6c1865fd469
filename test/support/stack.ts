/**
 * The real EdgePulse stack for end-to-end tests: a local ClickHouse (the embedded engine
 * behind its HTTP endpoint, on an ephemeral port with a temporary data directory) with the
 * schema applied, and the collector under `wrangler dev` (real workerd, real Durable Objects
 * with SQLite storage persisted to a temporary directory). wrangler dev rather than bare
 * miniflare: it is exactly what `npm run dev` runs (same bundling, assets and bindings from
 * wrangler.toml), and it starts in a few seconds.
 *
 * Small windows by default (WINDOW_SECONDS=1, ALLOWED_LATENESS_SECONDS=1) so rows reach
 * ClickHouse within seconds. `stopWorker`/`startWorker` restart only the Worker, on the same
 * port and storage, for fault tests.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClickHouse, type ClickHouse } from "../../clickhouse/client";
import { startLocalClickHouse } from "../../clickhouse/local-server";
import { applyMigrations } from "../../clickhouse/migrate";
import { freePort, startWranglerDev, type WranglerDev } from "../../tools/wrangler-dev";

export interface StackOptions {
  /** Worker vars on top of the defaults (LOCAL_DEV=1, WINDOW_SECONDS=1, ALLOWED_LATENESS_SECONDS=1, SHARDS=4). */
  vars?: Record<string, string>;
  /** Durable Object storage directory; a temporary one (deleted on stop) by default. */
  persistDir?: string;
  /** Use this ClickHouse instead of starting a local one (its `edgepulse` database is migrated). */
  clickhouseUrl?: string;
  /** Echo wrangler's output to stderr (also on with EDGEPULSE_STACK_VERBOSE=1). */
  verbose?: boolean;
}

export interface Stack {
  /** Base URL of the Worker, e.g. http://127.0.0.1:40123 (no trailing slash). */
  collectorUrl: string;
  clickhouseUrl: string;
  adminToken: string;
  clickhouse: ClickHouse;
  /**
   * Polls `sql` (one row, one numeric column, e.g. `SELECT count() FROM events WHERE site =
   * {site:String}`) until it answers `expected`; returns it, or throws with the last answer.
   */
  waitForRows(sql: string, params: Record<string, unknown>, expected: number, timeoutMs?: number): Promise<number>;
  /** Stops the Worker (whole process group); SIGKILL simulates a crash. */
  stopWorker(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the Worker again on the same port and storage. */
  startWorker(): Promise<void>;
  /** Stops everything and deletes the temporary directories. */
  stop(): Promise<void>;
}

const DATABASE = "edgepulse";
const DEFAULT_VARS: Record<string, string> = {
  LOCAL_DEV: "1",
  WINDOW_SECONDS: "1",
  ALLOWED_LATENESS_SECONDS: "1",
  SHARDS: "4",
};

async function firstNumber(clickhouse: ClickHouse, sql: string, params: Record<string, unknown>): Promise<number> {
  const rows = await clickhouse.query<Record<string, unknown>>(sql, params);
  const first = rows[0];
  const value = first === undefined ? 0 : Object.values(first)[0];
  const number = typeof value === "number" ? value : Number(value);
  if (!Number.isFinite(number)) throw new Error(`waitForRows: ${sql} answered ${JSON.stringify(first)}, not a number`);
  return number;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const cleanups: (() => Promise<void> | void)[] = [];
  const cleanup = async () => {
    for (const step of cleanups.splice(0).reverse()) await step();
  };
  try {
    let clickhouseUrl = options.clickhouseUrl;
    if (clickhouseUrl === undefined) {
      const dataDir = mkdtempSync(join(tmpdir(), "edgepulse-stack-ch-"));
      cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
      const server = await startLocalClickHouse({ port: 0, dataDir });
      cleanups.push(() => server.close());
      clickhouseUrl = server.url;
    }
    const clickhouseConfig = { url: clickhouseUrl, username: "default", password: "", database: DATABASE };
    await applyMigrations(clickhouseConfig);
    const clickhouse = createClickHouse(clickhouseConfig);

    let persistDir = options.persistDir;
    if (persistDir === undefined) {
      const temporary = mkdtempSync(join(tmpdir(), "edgepulse-stack-do-"));
      cleanups.push(() => rmSync(temporary, { recursive: true, force: true }));
      persistDir = temporary;
    }
    const vars: Record<string, string> = {
      ...DEFAULT_VARS,
      CLICKHOUSE_URL: clickhouseUrl,
      CLICKHOUSE_DATABASE: DATABASE,
      ...options.vars,
    };
    const adminToken = vars.ADMIN_TOKEN ?? "dev-admin-token";
    const port = await freePort();
    const verbose = options.verbose ?? process.env.EDGEPULSE_STACK_VERBOSE === "1";

    let worker: WranglerDev | null = null;
    const startWorker = async () => {
      if (worker !== null) throw new Error("the worker is already running");
      worker = await startWranglerDev({
        port,
        inspectorPort: await freePort(),
        vars,
        persistTo: persistDir,
        onOutput: verbose ? (line) => process.stderr.write(`[wrangler] ${line}\n`) : undefined,
      });
    };
    const stopWorker = async (signal: NodeJS.Signals = "SIGTERM") => {
      const running = worker;
      worker = null;
      await running?.stop(signal);
    };
    await startWorker();
    cleanups.push(() => stopWorker());

    const waitForRows = async (sql: string, params: Record<string, unknown>, expected: number, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      let last: number | string = "no answer";
      for (;;) {
        try {
          last = await firstNumber(clickhouse, sql, params);
          if (last === expected) return last;
        } catch (error) {
          last = error instanceof Error ? error.message : String(error);
        }
        if (Date.now() >= deadline)
          throw new Error(`waitForRows: expected ${expected}, last answer ${last} after ${timeoutMs} ms for ${sql}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    };

    return {
      collectorUrl: `http://127.0.0.1:${port}`,
      clickhouseUrl,
      adminToken,
      clickhouse,
      waitForRows,
      stopWorker,
      startWorker,
      stop: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
