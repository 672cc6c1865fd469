/**
 * Runs a ShardEngine over a real Durable Object's SQLite storage with a clock the test moves
 * (its timers too: the live sends' coalescing fires only when the test advances the clock),
 * a recorded LiveHub, and the real local ClickHouse (or a broken one).
 *
 * The fake clock starts a day ahead of real time on purpose: the engine schedules the object's
 * alarms from it, so the runtime's own alarm never fires during a test and races the alarm
 * passes the test runs itself.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createClickHouse, type ClickHouse } from "../../clickhouse/client";
import { METRIC_COUNT_NAMES } from "../../protocol";
import { loadConfig } from "../../common/config";
import { isLiveDelta, type HubAnswer, type ShardLiveState } from "../shard-to-hub/shard-live-state";
import { zeroCounts } from "../shared/metric-counts";
import { ManualClock } from "./manual-clock-harness";
import { ShardEngine, type ShardEngineOptions } from "./shard-engine";
import { windowStartOf } from "./watermark";

export const config = loadConfig(env);
export const WINDOW_MS = config.windowSeconds * 1000;
export const LATENESS_MS = config.allowedLatenessSeconds * 1000;
export const IDLE_MS = config.sessionIdleMinutes * 60 * 1000;
export const clickhouse = createClickHouse(config.clickhouse);

let siteCounter = 0;
/** A site (and so ClickHouse rows) of its own per test: the ClickHouse is shared by all test files. */
export function uniqueSite(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${(siteCounter++).toString(36)}`;
}

export function shardStub(site: string, shard = 0) {
  return env.INGEST_SHARD.get(env.INGEST_SHARD.idFromName(`${site}:${shard}`));
}

export interface Harness {
  clock: ManualClock;
  /** States the engine sent to the hub, in order. */
  sent: ShardLiveState[];
  /** What the hub answers to each send (a test sets `watched`). */
  hub: HubAnswer;
  /** Runs `work` with a fresh engine over the shard's storage (a fresh engine is what an evicted object restarts with). */
  run<R>(work: (engine: ShardEngine) => Promise<R> | R, overrides?: Partial<ShardEngineOptions>): Promise<R>;
}

export function harness(site: string, start = windowStartOf(Date.now() + 24 * 3600 * 1000, WINDOW_MS)): Harness {
  const clock = new ManualClock(start);
  const sent: ShardLiveState[] = [];
  const hub: HubAnswer = { watched: true };
  const stub = shardStub(site);
  return {
    clock,
    sent,
    hub,
    run: (work, overrides = {}) =>
      runInDurableObject(stub, async (_instance, state) => {
        const engine = new ShardEngine({
          storage: state.storage,
          settings: config,
          clickhouse,
          sendToHub: async (liveState) => {
            // This hub never confirms a day base (no `dayBase` in its answer), so every send is whole.
            if (isLiveDelta(liveState)) throw new Error("the test hub holds no base: expected a whole state");
            sent.push(structuredClone(liveState));
            return { ...hub };
          },
          now: () => clock.now,
          schedule: clock.schedule,
          ...overrides,
        });
        return work(engine);
      }),
  };
}

/** A ClickHouse at a port nothing listens on: every insert fails the way an outage does. */
export function unreachableClickHouse(): ClickHouse {
  return createClickHouse({ ...config.clickhouse, url: "http://127.0.0.1:1" }, { timeoutMs: 2_000 });
}

const COUNT_KEYS = [...METRIC_COUNT_NAMES, "rows"] as const;
type CountKey = (typeof COUNT_KEYS)[number];

export interface Totals extends Record<CountKey, number> {
  /** [currency, revenue] sorted by currency. */
  revenue: [string, number][];
}

/** Reads the count columns present in `rows` (absent ones are 0). */
function totalsOf(
  rows: (Record<string, unknown> | undefined)[],
  revenue: { currency: string; revenue: string | number }[],
): Totals {
  const totals: Totals = { ...zeroCounts(), rows: 0, revenue: [] };
  for (const row of rows) for (const key of COUNT_KEYS) if (row?.[key] !== undefined) totals[key] = Number(row[key]);
  totals.revenue = revenue.map((entry) => [entry.currency, Number(entry.revenue)]);
  return totals;
}

/** Totals counted from the events table, per window for the distinct counts. */
export async function eventTotals(site: string): Promise<Totals> {
  const [totals] = await clickhouse.query<Record<string, unknown>>(
    `SELECT count() AS events, countIf(type = 'page_view') AS page_views,
            countIf(type = 'cart' AND action = 'add') AS cart_adds, countIf(type = 'cart' AND action = 'remove') AS cart_removes,
            countIf(type = 'cart' AND action = 'checkout') AS checkouts, countIf(type = 'purchase') AS purchases
     FROM events WHERE site = {site:String}`,
    { site },
  );
  const [distinct] = await clickhouse.query<Record<string, unknown>>(
    `SELECT sum(v) AS visitors, sum(s) AS sessions FROM (
       SELECT toStartOfInterval(ts, INTERVAL ${config.windowSeconds} SECOND) AS w, uniqExact(visitor_id) AS v, uniqExact(session_id) AS s
       FROM events WHERE site = {site:String} GROUP BY w)`,
    { site },
  );
  const revenue = await clickhouse.query<{ currency: string; revenue: string | number }>(
    "SELECT currency, toString(sum(value)) AS revenue FROM events WHERE site = {site:String} AND type = 'purchase' GROUP BY currency ORDER BY currency",
    { site },
  );
  return totalsOf([totals, distinct], revenue);
}

/** Totals of the sealed window parts in window_metrics. */
export async function windowTotals(site: string): Promise<Totals> {
  const [totals] = await clickhouse.query<Record<string, unknown>>(
    `SELECT sum(events) AS events, sum(page_views) AS page_views, sum(cart_adds) AS cart_adds, sum(cart_removes) AS cart_removes,
            sum(checkouts) AS checkouts, sum(purchases) AS purchases, sum(visitors) AS visitors, sum(sessions) AS sessions, sum(bounces) AS bounces,
            count() AS rows
     FROM window_metrics WHERE site = {site:String} AND currency = ''`,
    { site },
  );
  const revenue = await clickhouse.query<{ currency: string; revenue: string | number }>(
    "SELECT currency, toString(sum(revenue)) AS revenue FROM window_metrics WHERE site = {site:String} AND currency != '' GROUP BY currency ORDER BY currency",
    { site },
  );
  return totalsOf([totals], revenue);
}

export async function countRows(
  table: "events" | "sessions" | "window_metrics" | "quarantine",
  site: string,
): Promise<number> {
  const [row] = await clickhouse.query<{ n: number | string }>(
    `SELECT count() AS n FROM ${table} WHERE site = {site:String}`,
    { site },
  );
  return Number(row?.n ?? 0);
}
