/**
 * Workers for the benchmarks on workerd through Miniflare directly, without wrangler dev's
 * proxy in front: the collector's real bundle (built by `wrangler deploy --dry-run`, the same
 * code `wrangler deploy` ships) with the bindings wrangler.toml declares, and a hello-world
 * Worker on the same runtime as the baseline.
 */
import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { z } from "zod";
import { descendantCpuMs } from "./cpu";
import { offlineWranglerEnv, PROJECT_ROOT } from "../tools/wrangler-dev";

const run = promisify(execFile);

export interface RunningWorker {
  /** Base URL without trailing slash. */
  url: string;
  /** Which runtime path requests take, for the report. */
  via: string;
  /** CPU ms used so far by every process serving it. */
  cpuMs(): number;
  stop(): Promise<void>;
}

/**
 * Miniflare's workerd is a child of this process. Only one Miniflare instance runs at a time
 * in the benchmarks, so all workerd children are its.
 */
const miniflareCpuMs = (): number => descendantCpuMs(/^workerd$/);

const COMPATIBILITY_DATE = "2026-11-01";

/** Bundles the collector as a deploy would, unminified; returns the entry module's path. */
export async function buildWorkerBundle(outDir: string): Promise<string> {
  const wrangler = join(PROJECT_ROOT, "node_modules/wrangler/bin/wrangler.js");
  // Unminified: the CPU profiles attribute time to phases by function name (profile.ts), which
  // minification erases; the minifier does not change what the code does per request.
  await run(process.execPath, [wrangler, "deploy", "--dry-run", "--minify=false", "--outdir", outDir], {
    cwd: PROJECT_ROOT,
    env: offlineWranglerEnv(),
    maxBuffer: 16 * 1024 * 1024,
  });
  return join(outDir, "index.js");
}

async function startMiniflare(
  options: ConstructorParameters<typeof Miniflare>[0],
  via: string,
): Promise<RunningWorker> {
  const miniflare = new Miniflare(options);
  const url = await miniflare.ready;
  return { url: url.origin, via, cpuMs: miniflareCpuMs, stop: () => miniflare.dispose() };
}

/**
 * The collector bundle on Miniflare with wrangler.toml's Durable Objects (SQLite-backed),
 * assets router and vars, `vars` on top.
 */
export async function startCollectorOnMiniflare(
  bundlePath: string,
  vars: Record<string, string>,
  options: {
    inspectorPort?: number;
    /** Keep Durable Object storage here (`<dir>/do/<object class>/<id>.sqlite`) instead of Miniflare's temp dir. */
    persistTo?: string;
  } = {},
): Promise<RunningWorker> {
  // modulesRules cannot be converted to Miniflare 5 options, and the bundle is one module anyway.
  const { modulesRules: _rules, ...workerOptions } = unstable_getMiniflareWorkerOptions(
    join(PROJECT_ROOT, "wrangler.toml"),
  ).workerOptions;
  // wrangler.toml declares only string vars; anything else would need handling here.
  const bindings = { ...z.record(z.string(), z.string()).parse(workerOptions.bindings ?? {}), ...vars };
  return startMiniflare(
    convertV4MiniflareOptions({
      host: "127.0.0.1",
      port: 0,
      ...(options.inspectorPort === undefined ? {} : { inspectorPort: options.inspectorPort }),
      ...(options.persistTo === undefined ? {} : { resourcePersistencePath: options.persistTo }),
      workers: [
        {
          ...workerOptions,
          name: "edgepulse",
          rootPath: PROJECT_ROOT,
          modules: true,
          modulesRoot: dirname(bundlePath),
          scriptPath: bundlePath,
          bindings,
        },
      ],
    }),
    "workerd via Miniflare (collector bundle)",
  );
}

/** The smallest Worker there is: answers every request with the collector's success shape. */
const HELLO_WORLD = `export default {
  async fetch(request) {
    // Read the body like any ingest endpoint must, then answer like the collector does.
    if (request.body) await request.arrayBuffer();
    return new Response('{"accepted":20,"duplicate":false}', { status: 202, headers: { "content-type": "application/json" } });
  },
};`;

export async function startHelloWorldOnMiniflare(): Promise<RunningWorker> {
  return startMiniflare(
    convertV4MiniflareOptions({
      host: "127.0.0.1",
      port: 0,
      workers: [{ name: "hello", modules: true, script: HELLO_WORLD, compatibilityDate: COMPATIBILITY_DATE }],
    }),
    "workerd via Miniflare (hello world)",
  );
}

export const HELLO_WORLD_SOURCE = HELLO_WORLD;
