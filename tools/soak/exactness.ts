/**
 * The soak's end check: every batch the collector acknowledged (202) is in ClickHouse's
 * `events` exactly once — as many rows as it had events, each event id once — nothing else is
 * there for the soak's sites, and `window_metrics` add up to the same totals as `events`.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { type ClickHouseTarget, queryNumber, queryRows, siteList } from "./clickhouse-text";

/** What ClickHouse holds for one batch id. */
export interface StoredBatch {
  batch: string;
  rows: number;
  distinctEvents: number;
}

export interface BatchComparison {
  /** Acknowledged batches with all their events, each once. */
  exact: number;
  /** Acknowledged batches with no row at all. */
  missing: number;
  /** Acknowledged batches with too few, too many or repeated rows. */
  wrong: number;
  /**
   * Batches whose final answer was not a 202 (a client timeout, say) but that ClickHouse holds,
   * each exactly once: the client never learnt the outcome; an SDK would resend and get
   * `duplicate`. Not a breach of exactness; the failure itself is counted as an error.
   */
  storedAfterFailure: number;
  /** Batches in ClickHouse that nothing sent or that failed and are stored wrongly: foreign or doubled rows. */
  unacknowledged: number;
  /** A few offending batch ids with what was found, for the report. */
  examples: string[];
}

const MAX_EXAMPLES = 10;

/** Compares acknowledged batches (id → events) with what ClickHouse holds. */
export function compareBatches(
  acknowledged: ReadonlyMap<string, number>,
  stored: Iterable<StoredBatch>,
  failed: ReadonlyMap<string, number> = new Map(),
): BatchComparison {
  const result: BatchComparison = {
    exact: 0,
    missing: 0,
    wrong: 0,
    storedAfterFailure: 0,
    unacknowledged: 0,
    examples: [],
  };
  const note = (text: string) => {
    if (result.examples.length < MAX_EXAMPLES) result.examples.push(text);
  };
  const seen = new Set<string>();
  for (const found of stored) {
    seen.add(found.batch);
    const expected = acknowledged.get(found.batch);
    const failedEvents = failed.get(found.batch);
    if (
      expected === undefined &&
      failedEvents !== undefined &&
      found.rows === failedEvents &&
      found.distinctEvents === failedEvents
    ) {
      result.storedAfterFailure++;
    } else if (expected === undefined) {
      result.unacknowledged++;
      note(`${found.batch}: ${found.rows} rows, never acknowledged`);
    } else if (found.rows === expected && found.distinctEvents === expected) {
      result.exact++;
    } else {
      result.wrong++;
      note(`${found.batch}: ${found.rows} rows, ${found.distinctEvents} distinct events, ${expected} acknowledged`);
    }
  }
  for (const [batch, events] of acknowledged) {
    if (seen.has(batch)) continue;
    result.missing++;
    note(`${batch}: missing (${events} events acknowledged)`);
  }
  return result;
}

/** Totals that `window_metrics` must repeat from `events`, as exact strings (revenue is a decimal). */
export const WINDOW_TOTALS = [
  "events",
  "page_views",
  "cart_adds",
  "cart_removes",
  "checkouts",
  "purchases",
  "revenue",
] as const;
export type WindowTotal = (typeof WINDOW_TOTALS)[number];

export interface ExactnessResult {
  acknowledgedBatches: number;
  acknowledgedEvents: number;
  eventsInClickHouse: number;
  /** Events of the failed batches that ClickHouse holds anyway (see `storedAfterFailure`). */
  eventsStoredAfterFailure: number;
  batches: BatchComparison;
  fromEvents: Record<WindowTotal, string>;
  fromWindows: Record<WindowTotal, string>;
  windowsMatch: boolean;
  /** How long the check waited for the last flushes, ms. */
  waitedMs: number;
  /** Batches exactly once, nothing foreign, windows = events. */
  holds: boolean;
}

function totalsFromEvents(sites: string): string {
  return `SELECT count(), countIf(type = 'page_view'), countIf(type = 'cart' AND action = 'add'),
      countIf(type = 'cart' AND action = 'remove'), countIf(type = 'cart' AND action = 'checkout'),
      countIf(type = 'purchase'), toString(sumIf(value, type = 'purchase'))
    FROM events WHERE site IN ${sites}`;
}

function totalsFromWindows(sites: string): string {
  return `SELECT sum(events), sum(page_views), sum(cart_adds), sum(cart_removes), sum(checkouts), sum(purchases),
      toString(sum(revenue))
    FROM window_metrics WHERE site IN ${sites}`;
}

async function totals(target: ClickHouseTarget, sql: string): Promise<Record<WindowTotal, string>> {
  const row = (await queryRows(target, sql))[0] ?? [];
  // Numbers are compared as numbers written back as strings, so "0" and "0.0000" agree.
  return Object.fromEntries(WINDOW_TOTALS.map((name, index) => [name, String(Number(row[index] ?? "0"))])) as Record<
    WindowTotal,
    string
  >;
}

/**
 * Waits (up to `timeoutMs`) until the soak's sites hold every acknowledged event and the
 * windows agree with the events, then compares batch by batch.
 */
export async function checkExactness(options: {
  clickhouse: ClickHouseTarget;
  sites: readonly string[];
  acknowledged: ReadonlyMap<string, number>;
  /** Batch id → events of batches whose final answer was not a 202. */
  failed: ReadonlyMap<string, number>;
  timeoutMs: number;
  onWait?: (line: string) => void;
}): Promise<ExactnessResult> {
  const sites = siteList(options.sites);
  let acknowledgedEvents = 0;
  for (const events of options.acknowledged.values()) acknowledgedEvents += events;
  const began = performance.now();
  let fromEvents = await totals(options.clickhouse, totalsFromEvents(sites));
  let fromWindows = await totals(options.clickhouse, totalsFromWindows(sites));
  // Windows seal after their length plus the allowed lateness, and shards flush on their alarm.
  for (;;) {
    const settled =
      Number(fromEvents.events) >= acknowledgedEvents &&
      WINDOW_TOTALS.every((name) => fromEvents[name] === fromWindows[name]);
    if (settled || performance.now() - began > options.timeoutMs) break;
    options.onWait?.(
      `waiting for flushes: ${fromEvents.events} of ${acknowledgedEvents} events in ClickHouse, windows count ${fromWindows.events}`,
    );
    await sleep(5_000);
    fromEvents = await totals(options.clickhouse, totalsFromEvents(sites));
    fromWindows = await totals(options.clickhouse, totalsFromWindows(sites));
  }
  const rows = await queryRows(
    options.clickhouse,
    `SELECT batch_id, count(), uniqExact(event_id) FROM events WHERE site IN ${sites} GROUP BY batch_id`,
  );
  const batches = compareBatches(
    options.acknowledged,
    rows.map(([batch = "", count = "0", distinct = "0"]) => ({
      batch,
      rows: Number(count),
      distinctEvents: Number(distinct),
    })),
    options.failed,
  );
  const eventsInClickHouse = await queryNumber(options.clickhouse, `SELECT count() FROM events WHERE site IN ${sites}`);
  const windowsMatch = WINDOW_TOTALS.every((name) => fromEvents[name] === fromWindows[name]);
  let eventsStoredAfterFailure = 0;
  for (const [batch] of rows) {
    if (batch !== undefined && !options.acknowledged.has(batch))
      eventsStoredAfterFailure += options.failed.get(batch) ?? 0;
  }
  return {
    acknowledgedBatches: options.acknowledged.size,
    acknowledgedEvents,
    eventsInClickHouse,
    eventsStoredAfterFailure,
    batches,
    fromEvents,
    fromWindows,
    windowsMatch,
    waitedMs: performance.now() - began,
    holds:
      batches.missing === 0 &&
      batches.wrong === 0 &&
      batches.unacknowledged === 0 &&
      windowsMatch &&
      eventsInClickHouse === acknowledgedEvents + eventsStoredAfterFailure,
  };
}
