/**
 * `npm run dev`: the whole collector on this machine, offline.
 *
 * 1. a local ClickHouse on 127.0.0.1:8123 (CLICKHOUSE_PORT) backed by the embedded engine,
 *    data in .data/clickhouse, unless CLICKHOUSE_URL points at a real server;
 * 2. the schema migrations;
 * 3. the SDK and dashboard builds, if they are missing (the Worker serves /ep.js, / and /demo/);
 * 4. `wrangler dev` on 127.0.0.1:8787 (PORT) with LOCAL_DEV=1 and every configuration
 *    variable found in the environment passed through, Durable Object data in .data/wrangler.
 *
 * Ctrl-C (or SIGTERM) stops wrangler with its workerd and the ClickHouse server.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { startLocalClickHouse } from "../clickhouse/local-server";
import { applyMigrations } from "../clickhouse/migrate";
import { PROJECT_ROOT, startWranglerDev, type WranglerDev } from "./wrangler-dev";

/** Worker configuration variables (README's table) taken over from the process environment. */
export const PASSED_THROUGH_VARS = [
  "WINDOW_SECONDS",
  "ALLOWED_LATENESS_SECONDS",
  "SESSION_IDLE_MINUTES",
  "SHARDS",
  "SHARD_MAX_PENDING_EVENTS",
  "CLICKHOUSE_URL",
  "CLICKHOUSE_USER",
  "CLICKHOUSE_PASSWORD",
  "CLICKHOUSE_DATABASE",
  "ADMIN_TOKEN",
  "SITES",
  "VISITOR_SECRET",
  "RATE_LIMIT_SITE_PER_SECOND",
  "RATE_LIMIT_SITE_BURST",
  "RATE_LIMIT_CLIENT_PER_SECOND",
] as const;

function log(message: string): void {
  process.stdout.write(`[dev] ${message}\n`);
}

function portFrom(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`${name} must be a port number, not "${raw}"`);
  return port;
}

function buildSdkIfMissing(): void {
  const built =
    existsSync(join(PROJECT_ROOT, "sdk/dist/ep.js")) && existsSync(join(PROJECT_ROOT, "dashboard/public/ep.js"));
  if (built) return;
  if (!existsSync(join(PROJECT_ROOT, "sdk/rollup.config.js"))) {
    log("no SDK yet (sdk/rollup.config.js is missing): /ep.js will answer 404");
    return;
  }
  log("building the SDK (npm run build:sdk) …");
  // npm sets npm_execpath when it runs this script; use the same npm.
  const npmCli = process.env.npm_execpath;
  const result = npmCli
    ? spawnSync(process.execPath, [npmCli, "run", "build:sdk"], { cwd: PROJECT_ROOT, stdio: "inherit" })
    : spawnSync("npm", ["run", "build:sdk"], { cwd: PROJECT_ROOT, stdio: "inherit" });
  if (result.status !== 0) log("the SDK build failed; /ep.js will answer 404 until `npm run build:sdk` succeeds");
}

/** The dashboard page and the demo shop's script are build output too (dashboard/public/app/). */
function buildDashboardIfMissing(): void {
  if (
    existsSync(join(PROJECT_ROOT, "dashboard/public/app/main.js")) &&
    existsSync(join(PROJECT_ROOT, "dashboard/public/app/demo-shop.js"))
  )
    return;
  log("building the dashboard (npm run build:dashboard) …");
  const npmCli = process.env.npm_execpath;
  const result = npmCli
    ? spawnSync(process.execPath, [npmCli, "run", "build:dashboard"], { cwd: PROJECT_ROOT, stdio: "inherit" })
    : spawnSync("npm", ["run", "build:dashboard"], { cwd: PROJECT_ROOT, stdio: "inherit" });
  if (result.status !== 0)
    log("the dashboard build failed; / will show an empty page until `npm run build:dashboard` succeeds");
}

/** Our process group (Linux /proc), or null where that cannot be read. */
function processGroupId(): number | null {
  try {
    // /proc/self/stat: "pid (comm) state ppid pgrp …"; comm may contain spaces, so split after ")".
    const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1]?.split(" ");
    const group = Number(fields?.[2]);
    return Number.isInteger(group) && group > 0 ? group : null;
  } catch {
    return null;
  }
}

/**
 * Calls `onGone` when the leader of our process group (npm, in a terminal or under a process
 * manager) has exited. A SIGTERM sent to npm alone kills npm and its `sh`, but not tsx and
 * this process below them; without this watch, they and wrangler would be left running.
 */
function watchProcessGroupLeader(onGone: () => void): void {
  const group = processGroupId();
  if (group === null || group === process.pid) return;
  const timer = setInterval(() => {
    try {
      process.kill(group, 0);
    } catch {
      clearInterval(timer);
      onGone();
    }
  }, 1_000);
  timer.unref();
}

async function main(): Promise<void> {
  const database = process.env.CLICKHOUSE_DATABASE || "edgepulse";
  const username = process.env.CLICKHOUSE_USER || "default";
  const password = process.env.CLICKHOUSE_PASSWORD ?? "";
  const workerPort = portFrom("PORT", 8787);
  const cleanups: (() => Promise<void>)[] = [];
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log("stopping …");
    for (const step of cleanups.splice(0).reverse()) {
      await step().catch((error: unknown) => log(`while stopping: ${String(error)}`));
    }
    process.exit(code);
  };
  process.on("SIGINT", () => void shutdown(0));
  process.on("SIGTERM", () => void shutdown(0));
  watchProcessGroupLeader(() => void shutdown(0));

  let clickhouseUrl = process.env.CLICKHOUSE_URL?.trim() ?? "";
  if (clickhouseUrl === "") {
    const dataDir = join(PROJECT_ROOT, ".data/clickhouse");
    mkdirSync(dataDir, { recursive: true });
    const server = await startLocalClickHouse({ port: portFrom("CLICKHOUSE_PORT", 8123), dataDir });
    cleanups.push(() => server.close());
    clickhouseUrl = server.url;
    log(`local ClickHouse (embedded engine) on ${clickhouseUrl}, data in .data/clickhouse`);
  } else {
    log(`using the ClickHouse at ${clickhouseUrl}`);
  }
  await applyMigrations({ url: clickhouseUrl, username, password, database }, (line) => log(line));

  buildSdkIfMissing();
  buildDashboardIfMissing();

  const vars: Record<string, string> = { LOCAL_DEV: "1" };
  for (const name of PASSED_THROUGH_VARS) {
    const value = process.env[name];
    if (value !== undefined && value !== "") vars[name] = value;
  }
  vars.CLICKHOUSE_URL = clickhouseUrl;
  const persistTo = join(PROJECT_ROOT, ".data/wrangler");
  mkdirSync(persistTo, { recursive: true });
  log(`starting wrangler dev on 127.0.0.1:${workerPort} …`);
  const worker: WranglerDev = await startWranglerDev({
    port: workerPort,
    vars,
    persistTo,
    onOutput: (line) => process.stdout.write(`[wrangler] ${line}\n`),
  });
  cleanups.push(() => worker.stop("SIGTERM"));
  worker.process.once("exit", (code, signal) => {
    if (stopping) return;
    log(`wrangler dev exited (${code ?? signal}); stopping`);
    void shutdown(1);
  });

  const adminToken = vars.ADMIN_TOKEN ?? "dev-admin-token";
  process.stdout.write(
    [
      "",
      "EdgePulse is running:",
      `  collector   ${worker.url}/v1/events   (site "demo" accepts any origin)`,
      `  dashboard   ${worker.url}/            admin token: ${adminToken}`,
      `  demo shop   ${worker.url}/demo/`,
      `  SDK         ${worker.url}/ep.js`,
      `  health      ${worker.url}/healthz  ${worker.url}/readyz`,
      `  ClickHouse  ${clickhouseUrl}   database ${database}`,
      `  windows     ${vars.WINDOW_SECONDS ?? "10"} s + ${vars.ALLOWED_LATENESS_SECONDS ?? "5"} s lateness`,
      "Press Ctrl-C to stop.",
      "",
    ].join("\n"),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`[dev] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
