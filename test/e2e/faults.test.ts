/**
 * Exactly-once under faults, caused for real on the real stack: workerd under wrangler dev with
 * persisted Durable Objects, the embedded ClickHouse behind its HTTP server, and a proxy on the
 * wire between them (test/support/fault-proxy.ts). Each scenario uses its own site and a client
 * that resends like the SDK (test/support/resending-client.ts), then checks ClickHouse: every
 * acknowledged event exactly once in `events`, and `window_metrics` adding up to the same count.
 *
 *  1. concurrent resends of the same batch ids;
 *  2. a flush whose INSERT ran but whose answer was lost (the proxy drops it);
 *  3. ClickHouse stopped while load continues (EDGEPULSE_FAULT_OUTAGE_SECONDS, default 15 s;
 *     `npm run test:faults` uses 60 s), then restarted on the same port and data directory;
 *     the shards' backlog bound (SHARD_MAX_PENDING_EVENTS, small here) turns the excess away
 *     with 503 overloaded + Retry-After, and the client's resends land later, once;
 *  4. workerd killed with SIGKILL mid-load, restarted on the same storage.
 *
 * Each prints events sent / acknowledged / found.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalClickHouse, type LocalClickHouse } from "../../clickhouse/local-server";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy";
import { ResendingClient, type TrackedBatch } from "../support/resending-client";
import { startStack, type Stack } from "../support/stack";
import { shardIndexFor } from "../../common/shard-routing";
import { deriveVisitorId } from "../../worker/visitor-id";
import { BROWSER_USER_AGENT } from "../support/browser-user-agent";

const OUTAGE_SECONDS = Number(process.env.EDGEPULSE_FAULT_OUTAGE_SECONDS ?? 15);
/** Flush backoff doubles up to 60 s, so after an outage the next attempt may be that far off. */
const RECOVERY_TIMEOUT_MS = 120_000;
const ROWS_TIMEOUT_MS = 60_000;
const SITES = ["resend", "lost-answer", "outage", "crash"];
const SHARDS = 4;
const VISITOR_SECRET = "faults-test-visitor-secret";
/** Small, so the outage fills a shard's backlog within seconds; the other scenarios stay below it. */
const SHARD_MAX_PENDING_EVENTS = 300;

let stack: Stack;
let clickhouse: LocalClickHouse;
let clickhouseDataDir: string;
let proxy: FaultProxy;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function scalar(sql: string, params: Record<string, unknown> = {}): Promise<number> {
  const [row] = await stack.clickhouse.query<Record<string, unknown>>(sql, params);
  return Number(row === undefined ? 0 : Object.values(row)[0]);
}

async function metrics(): Promise<string> {
  const response = await fetch(`${stack.collectorUrl}/metrics`, {
    headers: { Authorization: `Bearer ${stack.adminToken}` },
  });
  expect(response.status).toBe(200);
  return response.text();
}

function sample(text: string, series: string): number {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? Number.NaN : Number(line.slice(series.length + 1));
}

/** Failed flushes over every site (a dropped answer may hit any shard that flushes then). */
function totalFlushErrors(text: string): number {
  let total = 0;
  for (const match of text.matchAll(/^edgepulse_flush_errors_total\{site="[^"]*"\} (\d+)$/gm))
    total += Number(match[1]);
  return total;
}

/**
 * Waits until ClickHouse holds `batches` for `site` — each exactly once, nothing else — and
 * the site's window_metrics add up to the same number of events. Returns the events found.
 */
async function expectExactlyOnce(
  site: string,
  batches: readonly TrackedBatch[],
  timeoutMs = ROWS_TIMEOUT_MS,
): Promise<number> {
  const expected = batches.reduce((sum, batch) => sum + batch.events, 0);
  await stack.waitForRows("SELECT count() FROM events WHERE site = {site:String}", { site }, expected, timeoutMs);
  const rows = await stack.clickhouse.query<{
    batch_id: string;
    rows: number | string;
    distinct_events: number | string;
  }>(
    "SELECT batch_id, count() AS rows, uniqExact(event_id) AS distinct_events FROM events WHERE site = {site:String} GROUP BY batch_id",
    { site },
  );
  const found = new Map(
    rows.map((row) => [row.batch_id, { rows: Number(row.rows), distinct: Number(row.distinct_events) }]),
  );
  const wrong: string[] = [];
  for (const batch of batches) {
    const got = found.get(batch.id);
    if (got === undefined || got.rows !== batch.events || got.distinct !== batch.events)
      wrong.push(`${batch.id}: ${JSON.stringify(got ?? null)} of ${batch.events}`);
    found.delete(batch.id);
  }
  expect(wrong, "batches not stored exactly once").toEqual([]);
  expect([...found.keys()], "rows of batches nobody sent").toEqual([]);
  // Window rows are flushed once too: their event counts add up to the events table's.
  await stack.waitForRows(
    "SELECT sum(events) FROM window_metrics WHERE site = {site:String}",
    { site },
    expected,
    timeoutMs,
  );
  return expected;
}

function report(scenario: string, client: ResendingClient, found: number, extra = ""): void {
  console.log(
    `faults/${scenario}: ${client.summary()}; found in ClickHouse ${found} (each exactly once)${extra ? `; ${extra}` : ""}`,
  );
}

beforeAll(async () => {
  clickhouseDataDir = mkdtempSync(join(tmpdir(), "edgepulse-faults-ch-"));
  clickhouse = await startLocalClickHouse({ port: 0, dataDir: clickhouseDataDir });
  proxy = await startFaultProxy({ host: "127.0.0.1", port: clickhouse.port });
  stack = await startStack({
    clickhouseUrl: clickhouse.url,
    vars: {
      // The collector reaches ClickHouse through the proxy; the test reads it directly.
      CLICKHOUSE_URL: proxy.url,
      SHARDS: String(SHARDS),
      SHARD_MAX_PENDING_EVENTS: String(SHARD_MAX_PENDING_EVENTS),
      VISITOR_SECRET,
      SITES: JSON.stringify(SITES.map((key) => ({ key, origins: ["*"] }))),
      RATE_LIMIT_SITE_PER_SECOND: "0",
      RATE_LIMIT_CLIENT_PER_SECOND: "0",
    },
  });
});

afterAll(async () => {
  await stack?.stop();
  await proxy?.stop();
  await clickhouse?.close();
  if (clickhouseDataDir !== undefined) rmSync(clickhouseDataDir, { recursive: true, force: true });
});

describe("exactly once under faults", () => {
  it("counts concurrent resends of the same batch once", async () => {
    const client = new ResendingClient({ collectorUrl: stack.collectorUrl, site: "resend", eventsPerBatch: 5 });
    const batches = Array.from({ length: 40 }, () => client.newBatch());
    // Six copies of every batch at once: the shard must accept exactly one of them.
    await Promise.all(batches.flatMap((batch) => Array.from({ length: 6 }, () => client.attempt(batch))));
    expect(client.tally.unexpected).toEqual([]);
    expect(client.tally.accepted, client.summary()).toBe(batches.length);
    expect(client.tally.duplicate, client.summary()).toBe(batches.length * 5);
    const found = await expectExactlyOnce("resend", batches);
    // Later resends (after the flush) are duplicates too.
    await Promise.all(batches.map((batch) => client.attempt(batch)));
    expect(client.tally.duplicate).toBe(batches.length * 6);
    expect(await scalar("SELECT count() FROM events WHERE site = 'resend'")).toBe(found);
    report("concurrent-resends", client, found, `${batches.length * 7} requests for ${batches.length} batches`);
  });

  it("does not double a flush whose INSERT ran but whose answer was lost", async () => {
    const client = new ResendingClient({ collectorUrl: stack.collectorUrl, site: "lost-answer", eventsPerBatch: 5 });
    const errorsBefore = totalFlushErrors(await metrics());
    const droppedBefore = proxy.stats.droppedAnswers;
    proxy.dropInsertAnswers(3);
    const batches = Array.from({ length: 30 }, () => client.newBatch());
    for (const batch of batches) await client.deliver(batch);
    const found = await expectExactlyOnce("lost-answer", batches);
    expect(proxy.stats.droppedAnswers - droppedBefore).toBe(3);
    // Each lost answer was a failed flush for some shard, retried with the same token.
    expect(totalFlushErrors(await metrics()) - errorsBefore).toBeGreaterThanOrEqual(3);
    report(
      "lost-insert-answer",
      client,
      found,
      `${proxy.stats.droppedAnswers - droppedBefore} INSERT answers dropped after ClickHouse ran them`,
    );
  });

  it(
    `keeps events in the shards while ClickHouse is down for ${OUTAGE_SECONDS} s, pushes back when full, and lands them once after`,
    async () => {
      // 120 events/s over 4 shards: each shard's backlog reaches its bound of 300 within seconds.
      const client = new ResendingClient({ collectorUrl: stack.collectorUrl, site: "outage", eventsPerBatch: 20 });
      let loading = true;
      const load = client.load(6, () => !loading);
      await sleep(2_000);

      await proxy.stop();
      await clickhouse.close();
      const downAt = Date.now();
      let notReady = 0;
      let readyChecks = 0;
      let maxBacklog = 0;
      while (Date.now() - downAt < OUTAGE_SECONDS * 1000) {
        const ready = await fetch(`${stack.collectorUrl}/readyz`);
        await ready.body?.cancel();
        readyChecks += 1;
        if (ready.status === 503) notReady += 1;
        maxBacklog = Math.max(maxBacklog, sample(await metrics(), 'edgepulse_unflushed_events{site="outage"}'));
        await sleep(1_000);
      }
      const duringOutage = await metrics();
      const ackedDuringOutage = client.ackedEvents;

      clickhouse = await startLocalClickHouse({ port: clickhouse.port, dataDir: clickhouseDataDir });
      await proxy.start();
      await sleep(2_000);
      loading = false;
      await load;
      await client.settle(30_000);
      const found = await expectExactlyOnce("outage", client.batches, RECOVERY_TIMEOUT_MS);
      const ready = await fetch(`${stack.collectorUrl}/readyz`);
      await ready.body?.cancel();

      expect(client.tally.unexpected).toEqual([]);
      // The collector kept accepting while ClickHouse was away, held the events, and said it was not ready.
      expect(ackedDuringOutage).toBeGreaterThan(0);
      expect(maxBacklog).toBeGreaterThan(0);
      // Bounded: no shard holds more than its bound; the excess was refused (503 overloaded) and resent.
      expect(maxBacklog).toBeLessThanOrEqual(SHARDS * SHARD_MAX_PENDING_EVENTS);
      expect(client.tally.overloaded).toBeGreaterThan(0);
      expect(sample(duringOutage, 'edgepulse_overloaded_batches_total{site="outage"}')).toBeGreaterThan(0);
      expect(sample(duringOutage, 'edgepulse_rejected_requests_total{code="overloaded"}')).toBeGreaterThan(0);
      expect(notReady).toBe(readyChecks);
      expect(sample(duringOutage, 'edgepulse_flush_errors_total{site="outage"}')).toBeGreaterThan(0);
      expect(sample(duringOutage, 'edgepulse_flush_backoff_seconds{site="outage"}')).toBeGreaterThan(0);
      expect(ready.status).toBe(200);
      report(
        "clickhouse-outage",
        client,
        found,
        `down ${OUTAGE_SECONDS} s: /readyz 503 in ${notReady}/${readyChecks} checks, backlog up to ${maxBacklog} events (bound ${SHARDS} × ${SHARD_MAX_PENDING_EVENTS}), ` +
          `${sample(duringOutage, 'edgepulse_flush_errors_total{site="outage"}')} failed flushes, backoff ${sample(duringOutage, 'edgepulse_flush_backoff_seconds{site="outage"}')} s`,
      );
    },
    OUTAGE_SECONDS * 1000 + RECOVERY_TIMEOUT_MS + 60_000,
  );

  it("keeps every acknowledged event when workerd is killed with SIGKILL mid-load", async () => {
    // 200 events/s: below what the shards' backlog bound lets through, so this is about the crash alone.
    const client = new ResendingClient({
      collectorUrl: stack.collectorUrl,
      site: "crash",
      eventsPerBatch: 10,
      networkRetryMs: 250,
    });
    let loading = true;
    const load = client.load(20, () => !loading);
    await sleep(2_000);
    // Kill while requests are in flight, so some batches are stored but never answered.
    const deadline = Date.now() + 5_000;
    while (client.inFlight < 3 && Date.now() < deadline) await sleep(5);
    const inFlightAtKill = client.inFlight;
    await stack.stopWorker("SIGKILL");
    const ackedBeforeKill = client.batches.filter((batch) => batch.ackedAt !== null);
    const unansweredAtKill = client.batches.length - ackedBeforeKill.length;
    // Load goes on against the dead collector for a moment (those batches are resent later).
    await sleep(1_000);
    await stack.startWorker();
    // Every batch acknowledged before the kill is in ClickHouse, without waiting for any resend.
    const ackedEvents = ackedBeforeKill.reduce((sum, batch) => sum + batch.events, 0);
    await stack.waitForRows(
      "SELECT count() FROM events WHERE site = 'crash' AND batch_id IN {ids:Array(String)}",
      { ids: ackedBeforeKill.map((batch) => batch.id) },
      ackedEvents,
      ROWS_TIMEOUT_MS,
    );
    await sleep(1_000);
    loading = false;
    await load;
    // Then the client resends what was never answered, as the SDK would: everything lands once.
    await client.settle(60_000).catch(async (error: unknown) => {
      const crashLines = (await metrics()).split("\n").filter((line) => line.includes('site="crash"'));
      throw new Error(`${String(error)}\n${crashLines.join("\n")}`);
    });
    const found = await expectExactlyOnce("crash", client.batches);
    expect(client.tally.unexpected).toEqual([]);
    expect(client.tally.networkErrors).toBeGreaterThan(0);
    report(
      "workerd-sigkill",
      client,
      found,
      `${ackedEvents} events acknowledged before the kill all found; ${inFlightAtKill} requests in flight and ${unansweredAtKill} batches unanswered at the kill, resent after the restart with the others sent while it was down`,
    );
  });

  // A cookieless visitor id is derived from (day, site, IP, User-Agent), so a resend from a
  // changed IP is routed by visitor to another shard, which has not seen the batch id. The
  // resend is marked (retry: 1, as the SDK sends it), so the Worker asks every shard for the id
  // and finds the one that has it (worker/routes/events.ts).
  it("counts a cookieless resend once even when the client's IP changed in between", async () => {
    const site = "resend";
    const userAgent = `${BROWSER_USER_AGENT} edgepulse-faults`;
    const shardOf = async (ip: string) =>
      shardIndexFor(await deriveVisitorId({ secret: VISITOR_SECRET, site, ip, userAgent, at: Date.now() }), SHARDS);
    // Two client addresses whose cookieless visitors live on different shards (found, not assumed).
    const firstIp = "198.51.100.10";
    let secondIp = "";
    for (let host = 1; secondIp === "" && host < 255; host++) {
      if ((await shardOf(`203.0.113.${host}`)) !== (await shardOf(firstIp))) secondIp = `203.0.113.${host}`;
    }
    const before = await scalar("SELECT count() FROM events WHERE site = 'resend'");
    const now = Date.now();
    const body = (retry: number) =>
      JSON.stringify({
        v: 1,
        site,
        batch: `ip-change-${now}`,
        sent_at: now,
        retry,
        events: [{ type: "page_view", id: "e1", ts: now, url: "https://resend.example/" }],
      });
    const send = async (ip: string, retry: number) => {
      const response = await fetch(`${stack.collectorUrl}/v1/events`, {
        method: "POST",
        headers: { "Content-Type": "text/plain", "CF-Connecting-IP": ip, "User-Agent": userAgent },
        body: body(retry),
      });
      expect(response.status).toBe(202);
      return (await response.json()) as { accepted: number; duplicate: boolean };
    };
    await send(firstIp, 0);
    const resent = await send(secondIp, 1);
    console.log(
      `faults/cookieless-resend-new-ip: the same batch resent from another IP was ${resent.duplicate ? "recognised as a duplicate" : "accepted again (counted twice)"}`,
    );
    await stack.waitForRows(
      "SELECT count() FROM events WHERE site = 'resend'",
      {},
      before + (resent.duplicate ? 1 : 2),
      ROWS_TIMEOUT_MS,
    );
    expect(await scalar("SELECT count() FROM events WHERE site = 'resend'")).toBe(before + 1);
  });
});
