/**
 * Runs `wrangler dev` for the collector as a child process in its own process group, so
 * stopping it also stops the workerd it spawns (no orphans). Used by `npm run dev` and by
 * the end-to-end test stack.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

export const PROJECT_ROOT = fileURLToPath(new URL("..", import.meta.url));
const WRANGLER_BIN = fileURLToPath(new URL("../node_modules/wrangler/bin/wrangler.js", import.meta.url));
/** Lines of wrangler output kept for error messages; older lines are dropped. */
const OUTPUT_LINES_KEPT = 200;

export interface WranglerDevOptions {
  ip?: string;
  port: number;
  /** Chrome devtools port; give a free one when several instances run at once. */
  inspectorPort?: number;
  /**
   * Worker vars, passed through a private env file (`--env-file`), never on the command line:
   * they include tokens and secrets, and a command line is on every user's process list.
   */
  vars: Record<string, string>;
  persistTo: string;
  /** Called with every line of output (stdout and stderr), e.g. to echo it. */
  onOutput?: (line: string) => void;
  /** How long to wait for /healthz to answer. */
  readyTimeoutMs?: number;
}

export interface WranglerDev {
  url: string;
  process: ChildProcess;
  /** The last lines of wrangler's output. */
  output(): string;
  /** Signals the whole process group and waits until it exited (SIGKILL after a grace period). */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** A port that was free a moment ago (bound to port 0, then released). */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/** The environment wrangler needs to run offline and quietly. */
export function offlineWranglerEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    ...base,
    WRANGLER_SEND_METRICS: "false",
    // Miniflare would otherwise download request.cf data from workers.cloudflare.com; with
    // this it uses its built-in placeholder (country "US").
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    // No update check, no telemetry banner.
    WRANGLER_HIDE_BANNER: "true",
    NO_UPDATE_NOTIFIER: "1",
    FORCE_COLOR: "0",
  };
}

/** Signals wrangler's whole process group (workerd included), even after wrangler itself exited. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is already gone.
  }
}

async function waitForHealthy(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`wrangler dev exited (${child.exitCode ?? child.signalCode}) before it answered`);
    try {
      const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
      await response.body?.cancel();
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`wrangler dev did not answer ${url}/healthz within ${timeoutMs} ms`);
}

/**
 * `NAME='value'` lines for wrangler's `--env-file` (dotenv syntax): each value in a quote it does
 * not contain, so it is read literally, JSON included.
 */
export function envFileText(vars: Record<string, string>): string {
  const lines = Object.entries(vars).map(([name, value]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`invalid variable name ${JSON.stringify(name)}`);
    const quote = ["'", '"', "`"].find((candidate) => !value.includes(candidate));
    if (quote === undefined || value.includes("\n"))
      throw new Error(`the value of ${name} cannot be written to an env file`);
    return `${name}=${quote}${value}${quote}`;
  });
  return `${lines.join("\n")}\n`;
}

export async function startWranglerDev(options: WranglerDevOptions): Promise<WranglerDev> {
  const ip = options.ip ?? "127.0.0.1";
  const args = [
    WRANGLER_BIN,
    "dev",
    "--ip",
    ip,
    "--port",
    String(options.port),
    "--persist-to",
    options.persistTo,
    "--show-interactive-dev-session=false",
    "--log-level",
    "log",
  ];
  if (options.inspectorPort !== undefined) args.push("--inspector-port", String(options.inspectorPort));
  const varsDir = mkdtempSync(join(tmpdir(), "edgepulse-vars-"));
  const varsFile = join(varsDir, "vars.env");
  writeFileSync(varsFile, envFileText(options.vars), { mode: 0o600 });
  args.push("--env-file", varsFile);

  // process.execPath is the Node that runs us (node_modules' Node 24 under npm scripts).
  const child = spawn(process.execPath, args, {
    cwd: PROJECT_ROOT,
    env: offlineWranglerEnv(),
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString("utf8").split(/\r?\n/)) {
      if (line.trim() === "") continue;
      lines.push(line);
      if (lines.length > OUTPUT_LINES_KEPT) lines.shift();
      options.onOutput?.(line);
    }
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // If our process dies without stopping us, take wrangler and workerd along.
  const killOnExit = () => signalGroup(child, "SIGKILL");
  process.once("exit", killOnExit);

  const stopGroup = async (signal: NodeJS.Signals) => {
    signalGroup(child, signal);
    const timer = setTimeout(() => signalGroup(child, "SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
    // wrangler may have exited before workerd; make sure the group is gone.
    signalGroup(child, "SIGKILL");
    rmSync(varsDir, { recursive: true, force: true });
    process.removeListener("exit", killOnExit);
  };
  // Stopping twice (a test's finally and Ctrl-C) waits for the same exit.
  let stopping: Promise<void> | null = null;
  const stop = (signal: NodeJS.Signals = "SIGTERM"): Promise<void> => {
    stopping ??= stopGroup(signal);
    return stopping;
  };

  const url = `http://${ip}:${options.port}`;
  try {
    await waitForHealthy(url, child, options.readyTimeoutMs ?? 60_000);
  } catch (error) {
    await stop("SIGKILL");
    throw new Error(
      `${error instanceof Error ? error.message : String(error)}\n--- wrangler output ---\n${lines.join("\n")}`,
    );
  }
  return { url, process: child, output: () => lines.join("\n"), stop };
}
