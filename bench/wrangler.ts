/**
 * The same Workers as miniflare.ts, served by `wrangler dev` (what `npm run dev` runs):
 * requests then pass wrangler's dev proxy before reaching workerd, so the two together show
 * what the proxy costs.
 */
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { processTreeCpuMs } from "./cpu";
import { HELLO_WORLD_SOURCE, type RunningWorker } from "./miniflare";
import { freePort, offlineWranglerEnv, PROJECT_ROOT, startWranglerDev } from "../tools/wrangler-dev";

const WRANGLER_BIN = join(PROJECT_ROOT, "node_modules/wrangler/bin/wrangler.js");

/** The collector from the project's wrangler.toml, with `vars` on top. */
export async function startCollectorOnWranglerDev(
  vars: Record<string, string>,
  persistDir: string,
): Promise<RunningWorker> {
  const dev = await startWranglerDev({
    port: await freePort(),
    inspectorPort: await freePort(),
    vars,
    persistTo: persistDir,
  });
  const pid = dev.process.pid ?? 0;
  return { url: dev.url, via: "wrangler dev (collector)", cpuMs: () => processTreeCpuMs(pid), stop: () => dev.stop() };
}

/** The hello-world Worker in a project of its own under `directory`. */
export async function startHelloWorldOnWranglerDev(directory: string): Promise<RunningWorker> {
  mkdirSync(directory, { recursive: true });
  writeFileSync(join(directory, "index.js"), HELLO_WORLD_SOURCE);
  writeFileSync(
    join(directory, "wrangler.toml"),
    'name = "hello"\nmain = "index.js"\ncompatibility_date = "2026-11-01"\n',
  );
  const port = await freePort();
  const args = [
    WRANGLER_BIN,
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--inspector-port",
    String(await freePort()),
    "--show-interactive-dev-session=false",
    "--log-level",
    "warn",
  ];
  const child = spawn(process.execPath, args, {
    cwd: directory,
    env: offlineWranglerEnv(),
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-4000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
  };
  const killOnExit = () => signalGroup("SIGKILL");
  process.once("exit", killOnExit);
  const stop = async () => {
    signalGroup("SIGTERM");
    const force = setTimeout(() => signalGroup("SIGKILL"), 5_000);
    await exited;
    clearTimeout(force);
    signalGroup("SIGKILL");
    process.removeListener("exit", killOnExit);
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev (hello world) exited:\n${output}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      if (response.status === 202) break;
    } catch {
      // Not up yet.
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`wrangler dev (hello world) did not answer within 60 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const pid = child.pid ?? 0;
  return { url, via: "wrangler dev (hello world)", cpuMs: () => processTreeCpuMs(pid), stop };
}
