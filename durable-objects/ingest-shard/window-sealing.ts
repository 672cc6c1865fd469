/**
 * Sealing windows into parts for ClickHouse's window_metrics (a SummingMergeTree).
 *
 * A window keeps its running `total` and what it has already `emitted` in sealed parts.
 * When the watermark passes its end, the window seals: part 0 carries everything. Whatever
 * arrives later (a late event, a session closing as a bounce) grows `total`, and the next
 * sealing pass emits another part holding only `total − emitted`; visitors and sessions grow
 * only when new to the window, so their parts stay exact too. The sum of a window's parts is
 * always its total: ClickHouse adds them, nothing is counted twice, nothing is dropped.
 *
 * Parts are numbered per window (0, 1, 2 …) for humans; the flush identifies each part by a
 * shard-wide, never-reused `part_id` so its dedup token stays unique even if the window's own
 * state was pruned and rebuilt.
 */
import type { WindowMetricsRow } from "../../clickhouse/rows";
import { toDateTime } from "../../clickhouse/rows";
import { METRIC_COUNT_NAMES } from "../../protocol";
import { zeroCounts } from "../shared/metric-counts";
import { fromMoneyUnits } from "../shared/money";
import { isWindowSealedBy } from "./watermark";
import {
  addCountersInto,
  emptyCounters,
  isZeroCounters,
  pickMetricCounts,
  subtractCounters,
  type WindowAggregate,
  type WindowCounters,
} from "./window-aggregate";

export interface WindowState {
  start: number;
  total: WindowAggregate;
  /** Sum of the counters of every part emitted so far. */
  emitted: WindowCounters;
  /** Number of parts emitted so far; the next part's index. */
  parts: number;
}

export interface WindowPart {
  start: number;
  part: number;
  counters: WindowCounters;
}

/**
 * The next part of `window` if it is sealed by `watermark` and has counts not yet emitted,
 * else null. Applying it (`recordEmittedPart`) makes the same call return null: sealing is
 * idempotent, so an alarm that runs twice emits nothing new.
 */
export function nextSealedPart(window: WindowState, windowMs: number, watermark: number): WindowPart | null {
  if (!isWindowSealedBy(window.start, windowMs, watermark)) return null;
  const delta = subtractCounters(window.total.counters, window.emitted);
  if (isZeroCounters(delta)) return null;
  return { start: window.start, part: window.parts, counters: delta };
}

export function recordEmittedPart(window: WindowState, part: WindowPart): void {
  addCountersInto(window.emitted, part.counters);
  window.parts = part.part + 1;
}

export function newWindowState(start: number, total: WindowAggregate): WindowState {
  return { start, total, emitted: emptyCounters(), parts: 0 };
}

/**
 * window_metrics rows of a part: the counters on the currency '' row (revenue 0 there), and
 * each currency's revenue on a row of its own, as the schema prescribes. A part with only
 * revenue changes has no '' row.
 */
export function windowMetricsRows(site: string, windowSeconds: number, part: WindowPart): WindowMetricsRow[] {
  const base = { site, window_start: toDateTime(part.start), window_seconds: windowSeconds };
  const zero = zeroCounts();
  const rows: WindowMetricsRow[] = [];
  const { counters } = part;
  const counts = pickMetricCounts(counters);
  const counterRow: WindowMetricsRow = { ...base, currency: "", ...counts, revenue: 0 };
  if (METRIC_COUNT_NAMES.some((name) => counts[name] !== 0)) rows.push(counterRow);
  for (const currency of Object.keys(counters.revenue_units).sort()) {
    const units = counters.revenue_units[currency] ?? 0;
    if (units !== 0) rows.push({ ...base, ...zero, currency, revenue: fromMoneyUnits(units) });
  }
  return rows;
}
