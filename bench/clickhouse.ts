/**
 * The local ClickHouse (embedded engine behind its HTTP endpoint) in a child process of its
 * own, with the schema applied. A child and not in-process: the engine's work would otherwise
 * share the event loop with the benchmark's load client and slow both.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { applyMigrations } from "../clickhouse/migrate";
import { freePort, PROJECT_ROOT } from "../tools/wrangler-dev";

export interface ClickHouseProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export const BENCH_DATABASE = "edgepulse";

export async function startClickHouseProcess(dataDir: string): Promise<ClickHouseProcess> {
  const port = await freePort();
  const tsx = join(PROJECT_ROOT, "node_modules/tsx/dist/cli.mjs");
  const child = spawn(process.execPath, [tsx, join(PROJECT_ROOT, "clickhouse/local-server.ts")], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, CLICKHOUSE_PORT: String(port), CLICKHOUSE_DATA_DIR: dataDir },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  let output = "";
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString("utf8")).slice(-4000);
      if (output.includes("listening on")) resolve();
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`local ClickHouse exited (${code}) before listening:\n${output}`)));
  });
  const timeout = setTimeout(() => child.kill("SIGKILL"), 60_000);
  try {
    await ready;
  } finally {
    clearTimeout(timeout);
  }
  const url = `http://127.0.0.1:${port}`;
  await applyMigrations({ url, username: "default", password: "", database: BENCH_DATABASE });
  return {
    url,
    pid: child.pid ?? 0,
    async stop() {
      process.removeListener("exit", killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const force = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(force);
      }
    },
  };
}
