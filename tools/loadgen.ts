/**
 * `npm run loadgen -- --rate 200 --duration 30s --burst 5x` — realistic shop traffic against
 * a collector (default http://127.0.0.1:8787, i.e. `npm run dev`). Prints a progress line
 * once a second on stderr and a summary on stdout (`--json` for machines).
 */
import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { BatchStream } from "./batch-stream";
import { LOAD_SCENARIOS, withCheckoutOutage } from "./checkout-outage";
import { parseDuration, parseFactor, parseInteger, parseRate } from "./cli-values";
import { type LoadProgress, type LoadReport, runLoad } from "./run-load";

const USAGE = `usage: npm run loadgen -- [options]
  --url URL            collector base URL (default http://127.0.0.1:8787)
  --rate N|max         batches/s (or events/s with --unit events); max = as fast as --concurrency allows (default 50)
  --unit batches|events
  --duration D         how long to send: 500ms, 30s, 2m (default 10s)
  --max-batches N      stop after N batches (default 1000000)
  --concurrency N      requests in flight at most (default 64)
  --burst F            multiply the rate by F during bursts, e.g. 5x (default 1: none)
  --burst-every D      a burst starts every D (default 10s)
  --burst-for D        and lasts D (default 1s)
  --batch-size N       events per batch, like the SDK's count trigger (default 20, max 100)
  --full-batches       send only batches of exactly --batch-size events
  --page-batches       also flush at every page change (smaller, more realistic SDK batches)
  --no-session         leave session ids to the collector (the SDK default)
  --single-client      no per-visitor CF-Connecting-IP (by default each visitor has its own
                       address, as in production; Cloudflare's edge overwrites the header)
  --sites a,b          site keys (must be configured in the collector; default demo)
  --visitors N         visitors per site (default 50000)
  --seed N             traffic seed (default 1); ids get a fresh run id unless --run-id
  --run-id ID          prefix of batch/session ids (default random: a rerun is not a duplicate)
  --retries N          retries of 429/503/5xx/network errors, same batch id (default 5)
  --scenario S         normal, or checkout-outage: checkouts and purchases stop reaching the
                       collector after --outage-after (a broken payment page; default normal)
  --outage-after D     when the checkout outage starts (default half of --duration)
  --json               print the report as JSON

Against the collector bundle on Miniflare with its own ClickHouse, event → live probes and an
exactly-once check at the end (docs/soak.md):
  npm run soak -- --duration 60s --rate 10000 --interval 10s`;

function formatProgress(progress: LoadProgress): string {
  return (
    `t=${(progress.elapsedMs / 1000).toFixed(0)}s sent=${progress.sent} ok=${progress.accepted} rejected=${progress.rejected} ` +
    `retried=${progress.retried} in-flight=${progress.inFlight} ${progress.batchesPerSecond.toFixed(0)} batches/s ` +
    `${progress.eventsPerSecond.toFixed(0)} events/s p50=${progress.p50.toFixed(1)}ms p99=${progress.p99.toFixed(1)}ms`
  );
}

export function formatReport(report: LoadReport): string {
  const rejected = Object.entries(report.rejected)
    .map(([status, count]) => `${status === "0" ? "network" : status}: ${count}`)
    .join(", ");
  const ms = (value: number): string => `${value.toFixed(1)} ms`;
  return [
    `duration        ${(report.durationMs / 1000).toFixed(1)} s`,
    `sent            ${report.sent} batches, ${report.events} events (${(report.events / Math.max(1, report.sent)).toFixed(1)} events/batch)`,
    `accepted        ${report.accepted} batches, ${report.acceptedEvents} events, ${report.duplicates} duplicates`,
    `rejected        ${rejected === "" ? "none" : rejected}`,
    `retried         ${report.retried} attempts${report.abandoned > 0 ? `, ${report.abandoned} batches unanswered at the end` : ""}`,
    `throughput      ${report.batchesPerSecond.toFixed(1)} batches/s, ${report.eventsPerSecond.toFixed(0)} events/s`,
    `latency         p50 ${ms(report.latency.p50)}  p90 ${ms(report.latency.p90)}  p99 ${ms(report.latency.p99)}  max ${ms(report.latency.max)}  (per request)`,
    `from due time   p50 ${ms(report.latencyFromDue.p50)}  p99 ${ms(report.latencyFromDue.p99)}  max ${ms(report.latencyFromDue.max)}  (incl. waits and retries; schedule lag max ${ms(report.maxScheduleLagMs)})`,
  ].join("\n");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: "string", default: "http://127.0.0.1:8787" },
      rate: { type: "string", default: "50" },
      unit: { type: "string", default: "batches" },
      duration: { type: "string", default: "10s" },
      "max-batches": { type: "string", default: "1000000" },
      concurrency: { type: "string", default: "64" },
      burst: { type: "string", default: "1" },
      "burst-every": { type: "string", default: "10s" },
      "burst-for": { type: "string", default: "1s" },
      "batch-size": { type: "string", default: "20" },
      "full-batches": { type: "boolean", default: false },
      "page-batches": { type: "boolean", default: false },
      "no-session": { type: "boolean", default: false },
      "single-client": { type: "boolean", default: false },
      sites: { type: "string", default: "demo" },
      visitors: { type: "string", default: "50000" },
      seed: { type: "string", default: "1" },
      "run-id": { type: "string" },
      retries: { type: "string", default: "5" },
      scenario: { type: "string", default: "normal" },
      "outage-after": { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (values.unit !== "batches" && values.unit !== "events") throw new RangeError("--unit must be batches or events");
  const stream = new BatchStream({
    seed: parseInteger(values.seed, "seed", 0, 2 ** 32 - 1),
    runId: values["run-id"] ?? `lg${Date.now().toString(36)}${randomBytes(3).toString("hex")}`,
    sites: values.sites
      .split(",")
      .map((site) => site.trim())
      .filter((site) => site !== ""),
    visitorsPerSite: parseInteger(values.visitors, "visitors", 1, 100_000_000),
    maxEvents: parseInteger(values["batch-size"], "batch-size", 1, 100),
    fullBatchesOnly: values["full-batches"],
    flushOnPageHide: values["page-batches"],
    includeSession: !values["no-session"],
    clientIps: !values["single-client"],
  });
  const scenario = LOAD_SCENARIOS.find((name) => name === values.scenario);
  if (scenario === undefined) throw new RangeError(`--scenario must be one of ${LOAD_SCENARIOS.join(", ")}`);
  const durationMs = parseDuration(values.duration);
  const nextBatch =
    scenario === "checkout-outage"
      ? withCheckoutOutage(
          () => stream.next(),
          Date.now() + (values["outage-after"] === undefined ? durationMs / 2 : parseDuration(values["outage-after"])),
        )
      : () => stream.next();
  const abort = new AbortController();
  process.once("SIGINT", () => abort.abort());
  const interactive = process.stderr.isTTY === true;
  const report = await runLoad({
    url: values.url,
    rate: parseRate(values.rate),
    rateUnit: values.unit,
    durationMs,
    maxBatches: parseInteger(values["max-batches"], "max-batches", 1, 1e12),
    concurrency: parseInteger(values.concurrency, "concurrency", 1, 10_000),
    burstFactor: parseFactor(values.burst),
    burstEveryMs: parseDuration(values["burst-every"]),
    burstForMs: parseDuration(values["burst-for"]),
    maxRetries: parseInteger(values.retries, "retries", 0, 100),
    nextBatch,
    onProgress: (progress) =>
      process.stderr.write(interactive ? `\r\x1b[2K${formatProgress(progress)}` : `${formatProgress(progress)}\n`),
    signal: abort.signal,
  });
  if (interactive) process.stderr.write("\n");
  console.log(values.json ? JSON.stringify(report, null, 2) : formatReport(report));
  const failed = Object.keys(report.rejected).length > 0 || report.abandoned > 0;
  process.exitCode = failed ? 1 : 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    console.error(USAGE);
    process.exit(2);
  });
}
