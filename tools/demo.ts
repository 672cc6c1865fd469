/**
 * `npm run demo` — a few minutes of realistic shop traffic for the `demo` site of a local
 * collector (default http://127.0.0.1:8787, i.e. `npm run dev`), so the dashboard has
 * something to show: visitors arrive as a Poisson process, browse, view products, fill carts,
 * check out and buy, and report Web Vitals (tools/session-generator.ts). Sessions overlap like
 * real visits; time inside a session runs `--speedup` times faster than the clock.
 *
 * Bounded: it stops after `--duration` (at most 30 minutes) or `--max-batches`, whichever
 * comes first, with at most 8 requests in flight. Prints a progress line every few seconds.
 */
import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { acceptedResponseSchema } from "../protocol";
import { clientIpOf } from "./batch-stream";
import { parseDuration, parseInteger } from "./cli-values";
import { CollectorClient } from "./collector-client";
import { type ScheduledBatch, batchAt, scheduleSession } from "./demo-schedule";
import { SessionGenerator } from "./session-generator";

const USAGE = `usage: npm run demo -- [options]
  --url URL               collector (default http://127.0.0.1:8787, as npm run dev prints)
  --duration D            how long: 30s, 3m … at most 30m (default 3m)
  --sessions-per-second N new visits per second (default 1)
  --speedup N             how much faster than real time a visit runs (default 4)
  --max-batches N         stop after N batches (default 20000)
  --seed N                traffic seed (default: random)`;

export const MAX_DEMO_DURATION_MS = 30 * 60_000;
const MAX_IN_FLIGHT = 8;
const TICK_MS = 100;

export interface DemoOptions {
  url: string;
  durationMs: number;
  sessionsPerSecond: number;
  speedup: number;
  maxBatches: number;
  seed?: number;
  onProgress?: (line: string) => void;
  progressEveryMs?: number;
  signal?: AbortSignal;
}

export interface DemoReport {
  sessions: number;
  batches: number;
  events: number;
  acceptedEvents: number;
  /** Final answers other than 202, by status (0 = network error). */
  rejected: Record<string, number>;
}

export async function runDemo(options: DemoOptions): Promise<DemoReport> {
  const durationMs = Math.min(options.durationMs, MAX_DEMO_DURATION_MS);
  const generator = new SessionGenerator({
    seed: options.seed ?? randomBytes(4).readUInt32BE(0),
    runId: `demo${Date.now().toString(36)}${randomBytes(2).toString("hex")}`,
    sites: ["demo"],
    visitorsPerSite: 2000,
    products: 40,
    sessionsPerSecond: options.sessionsPerSecond,
    currency: "EUR",
  });
  const client = new CollectorClient(options.url, MAX_IN_FLIGHT);
  const report: DemoReport = { sessions: 0, batches: 0, events: 0, acceptedEvents: 0, rejected: {} };
  /** Batches waiting for their time, kept sorted by due time (a few hundred at most at demo rates). */
  let due: ScheduledBatch[] = [];
  const inFlight = new Set<Promise<void>>();
  const started = Date.now();
  const endsAt = started + durationMs;
  let nextArrival = started;
  let lastProgress = started;
  const progressEveryMs = options.progressEveryMs ?? 5000;

  const send = async (item: ScheduledBatch): Promise<void> => {
    const batch = batchAt(item.batch, Date.now(), options.speedup);
    let status = 0;
    let body = "";
    try {
      ({ status, body } = await client.post("/v1/events", JSON.stringify(batch), item.headers));
    } catch {
      status = 0;
    }
    if (status === 202) {
      const answer = acceptedResponseSchema.safeParse(JSON.parse(body));
      report.acceptedEvents += answer.success ? answer.data.accepted : 0;
    } else {
      report.rejected[String(status)] = (report.rejected[String(status)] ?? 0) + 1;
    }
  };

  try {
    while (Date.now() < endsAt && report.batches < options.maxBatches && !options.signal?.aborted) {
      const now = Date.now();
      while (nextArrival <= now) {
        const session = generator.nextSession(nextArrival);
        const headers = {
          "user-agent": session.userAgent,
          origin: "https://demo.example",
          "cf-connecting-ip": clientIpOf(session.visitor),
        };
        due.push(...scheduleSession(session, nextArrival, options.speedup, headers));
        report.sessions++;
        nextArrival += generator.nextArrivalGapMs();
      }
      due.sort((left, right) => left.dueAt - right.dueAt);
      const ready = due.filter((item) => item.dueAt <= now);
      due = due.filter((item) => item.dueAt > now);
      for (const item of ready) {
        if (report.batches >= options.maxBatches) break;
        while (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
        report.batches++;
        report.events += item.batch.events.length;
        const request = send(item).finally(() => inFlight.delete(request));
        inFlight.add(request);
      }
      if (now - lastProgress >= progressEveryMs) {
        lastProgress = now;
        options.onProgress?.(progressLine(report, now - started, durationMs));
      }
      await sleep(TICK_MS);
    }
    await Promise.all(inFlight);
  } finally {
    client.close();
  }
  return report;
}

function progressLine(report: DemoReport, elapsedMs: number, durationMs: number): string {
  const rejected = Object.values(report.rejected).reduce((sum, count) => sum + count, 0);
  return `demo: ${Math.round(elapsedMs / 1000)} s of ${Math.round(durationMs / 1000)} s · ${report.sessions} visits · ${report.batches} batches · ${report.acceptedEvents} events accepted · ${rejected} refused`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: "string", default: "http://127.0.0.1:8787" },
      duration: { type: "string", default: "3m" },
      "sessions-per-second": { type: "string", default: "1" },
      speedup: { type: "string", default: "4" },
      "max-batches": { type: "string", default: "20000" },
      seed: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const durationMs = parseDuration(values.duration);
  if (durationMs > MAX_DEMO_DURATION_MS) throw new RangeError("--duration may be at most 30m");
  const sessionsPerSecond = Number(values["sessions-per-second"]);
  if (!Number.isFinite(sessionsPerSecond) || sessionsPerSecond <= 0 || sessionsPerSecond > 100)
    throw new RangeError("--sessions-per-second must be in (0, 100]");
  const health = await fetch(new URL("/healthz", values.url)).catch(() => null);
  if (health === null || !health.ok)
    throw new Error(`no collector answers at ${values.url}; start it with \`npm run dev\` first`);
  const abort = new AbortController();
  process.once("SIGINT", () => abort.abort());
  const interactive = process.stderr.isTTY === true;
  console.error(
    `sending demo traffic to ${values.url} (site demo) for ${values.duration}; open ${new URL("/", values.url)} to watch. Ctrl-C stops.`,
  );
  const report = await runDemo({
    url: values.url,
    durationMs,
    sessionsPerSecond,
    speedup: parseInteger(values.speedup, "speedup", 1, 1000),
    maxBatches: parseInteger(values["max-batches"], "max-batches", 1, 1_000_000),
    ...(values.seed === undefined ? {} : { seed: parseInteger(values.seed, "seed", 0, 2 ** 32 - 1) }),
    progressEveryMs: interactive ? 1000 : 5000,
    onProgress: (line) => process.stderr.write(interactive ? `\r\x1b[2K${line}` : `${line}\n`),
    signal: abort.signal,
  });
  if (interactive) process.stderr.write("\n");
  const refused = Object.entries(report.rejected).map(
    ([status, count]) => `${status === "0" ? "network" : status}: ${count}`,
  );
  console.log(
    `done: ${report.sessions} visits, ${report.batches} batches, ${report.acceptedEvents} of ${report.events} events accepted${refused.length > 0 ? `; refused ${refused.join(", ")}` : ""}`,
  );
  process.exitCode = refused.length > 0 ? 1 : 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    console.error(USAGE);
    process.exit(2);
  });
}
