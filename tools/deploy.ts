/**
 * `npm run deploy`: builds the tracker and the dashboard, then `wrangler deploy`.
 * `npm run deploy -- --dry-run` (CI): bundles exactly as a deploy would (`wrangler deploy
 * --dry-run --outdir`), and fails when the Worker bundle exceeds its size budget or its startup
 * exceeds its time budget. Startup is measured the way Cloudflare counts it, the evaluation of
 * the bundle's top level, by `wrangler check startup`, which loads the bundle in a local workerd
 * with the CPU profiler on; the busy (non-idle) time of the profile, median of 3 runs, is the
 * figure. The largest inputs of the bundle are printed, so growth has a name.
 *
 * Budgets (Cloudflare's limits are 3 MB gzip on the free plan, 10 MB paid, and 1 s startup):
 * ours are far tighter, to notice growth long before a limit.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { z } from "zod";
import { PROJECT_ROOT, offlineWranglerEnv } from "./wrangler-dev";

export const BUNDLE_BUDGET_BYTES = 850 * 1024;
export const BUNDLE_GZIP_BUDGET_BYTES = 190 * 1024;
export const STARTUP_BUDGET_MS = 150;
const STARTUP_RUNS = 3;

const WRANGLER = join(PROJECT_ROOT, "node_modules/wrangler/bin/wrangler.js");

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, {
    cwd: PROJECT_ROOT,
    env: offlineWranglerEnv(),
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (${result.status ?? result.signal})`);
}

function wrangler(args: string[], quiet = false): string {
  const result = spawnSync(process.execPath, [WRANGLER, ...args], {
    cwd: PROJECT_ROOT,
    env: offlineWranglerEnv(),
    encoding: "utf8",
  });
  if (result.status !== 0) throw new Error(`wrangler ${args.join(" ")} failed:\n${result.stdout}\n${result.stderr}`);
  if (!quiet) process.stdout.write(result.stdout);
  return result.stdout;
}

const metafileSchema = z.object({
  outputs: z.record(
    z.string(),
    z.object({
      entryPoint: z.string().optional(),
      inputs: z.record(z.string(), z.object({ bytesInOutput: z.number() })),
    }),
  ),
});

/** Bytes in the bundle per npm package or per top folder of ours. */
export function bundleComposition(metafileJson: string): [string, number][] {
  const meta = metafileSchema.parse(JSON.parse(metafileJson));
  const entry = Object.values(meta.outputs).find((output) => output.entryPoint !== undefined);
  if (entry === undefined) throw new Error("the metafile has no entry point output");
  const groups = new Map<string, number>();
  for (const [path, input] of Object.entries(entry.inputs)) {
    const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
    const name =
      inModules?.[1] !== undefined
        ? `npm ${inModules[1]}`
        : path
            .split("/")
            .slice(0, path.startsWith("worker/routes") ? 2 : 1)
            .join("/");
    groups.set(name, (groups.get(name) ?? 0) + input.bytesInOutput);
  }
  return [...groups].sort((a, b) => b[1] - a[1]);
}

const cpuProfileSchema = z.object({
  nodes: z.array(z.object({ id: z.number(), callFrame: z.object({ functionName: z.string() }) })),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
});

/** Milliseconds the profile spent outside `(idle)` and `(program)`: the script's own startup work. */
export function busyMilliseconds(profileJson: string): number {
  const profile = cpuProfileSchema.parse(JSON.parse(profileJson));
  const idle = new Set(
    profile.nodes
      .filter((node) => node.callFrame.functionName === "(idle)" || node.callFrame.functionName === "(program)")
      .map((node) => node.id),
  );
  let micros = 0;
  profile.samples.forEach((sample, index) => {
    if (!idle.has(sample)) micros += profile.timeDeltas[index] ?? 0;
  });
  return micros / 1000;
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

function dryRun(): boolean {
  const dir = mkdtempSync(join(tmpdir(), "edgepulse-deploy-"));
  try {
    wrangler(["deploy", "--dry-run", "--outdir", join(dir, "bundle"), "--metafile", join(dir, "meta.json")], true);
    const bundle = readFileSync(join(dir, "bundle/index.js"));
    const gzip = gzipSync(bundle, { level: 9 }).byteLength;
    console.log(
      `Worker bundle: ${kib(bundle.byteLength)} (budget ${kib(BUNDLE_BUDGET_BYTES)}), gzip ${kib(gzip)} (budget ${kib(BUNDLE_GZIP_BUDGET_BYTES)})`,
    );
    for (const [name, bytes] of bundleComposition(readFileSync(join(dir, "meta.json"), "utf8")).slice(0, 12))
      console.log(`  ${kib(bytes).padStart(10)}  ${name}`);

    const startups: number[] = [];
    for (let attempt = 0; attempt < STARTUP_RUNS; attempt++) {
      const profile = join(dir, `startup-${attempt}.cpuprofile`);
      wrangler(["check", "startup", "--outfile", profile], true);
      startups.push(busyMilliseconds(readFileSync(profile, "utf8")));
    }
    startups.sort((a, b) => a - b);
    const startup = startups[Math.floor(startups.length / 2)] ?? Number.NaN;
    console.log(
      `Startup (local workerd, CPU profile, median of ${STARTUP_RUNS}): ${startup.toFixed(1)} ms (budget ${STARTUP_BUDGET_MS} ms; runs ${startups.map((ms) => ms.toFixed(1)).join(", ")})`,
    );

    const failures = [
      bundle.byteLength > BUNDLE_BUDGET_BYTES ? `bundle ${kib(bundle.byteLength)} > ${kib(BUNDLE_BUDGET_BYTES)}` : null,
      gzip > BUNDLE_GZIP_BUDGET_BYTES ? `gzip ${kib(gzip)} > ${kib(BUNDLE_GZIP_BUDGET_BYTES)}` : null,
      startup > STARTUP_BUDGET_MS ? `startup ${startup.toFixed(1)} ms > ${STARTUP_BUDGET_MS} ms` : null,
    ].filter((failure) => failure !== null);
    if (failures.length > 0) {
      console.error(`over budget: ${failures.join("; ")}`);
      return false;
    }
    console.log("dry run: within budget (nothing was deployed)");
    return true;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  const args = process.argv.slice(2);
  run("npm", ["run", "build"]);
  if (args.includes("--dry-run")) {
    process.exitCode = dryRun() ? 0 : 1;
  } else {
    const result = spawnSync(process.execPath, [WRANGLER, "deploy", ...args], { cwd: PROJECT_ROOT, stdio: "inherit" });
    process.exitCode = result.status ?? 1;
  }
}
