/**
 * Generated ShardLiveStates for the hub's tests: what an IngestShard would send, built from a
 * few numbers so each test states only what it is about.
 */
import type { MetricCounts } from "../../protocol";
import { utcDay } from "../../common/utc-day";
import type { DayPartial, ShardLiveDelta, ShardLiveState, WindowPartial } from "./shard-live-state";
import { emptyMetricCounts } from "../shared/metric-counts";

export const TEST_WINDOW_MS = 10_000;

export function counts(values: Partial<MetricCounts>): MetricCounts {
  return { ...emptyMetricCounts(), ...values };
}

export function windowStart(ms: number, windowMs = TEST_WINDOW_MS): number {
  return Math.floor(ms / windowMs) * windowMs;
}

export function windowPartial(start: number, values: Partial<MetricCounts>, windowMs = TEST_WINDOW_MS): WindowPartial {
  return { start, end: start + windowMs, counts: counts(values) };
}

export function dayPartial(day: string, values: Partial<Omit<DayPartial, "day">> = {}): DayPartial {
  return {
    day,
    counts: emptyMetricCounts(),
    funnel: { sessions: 0, product_views: 0, cart_adds: 0, checkouts: 0, purchases: 0 },
    abandoned_carts: { sessions: 0, value: 0 },
    pages: {},
    referrers: {},
    products: {},
    vitals: {},
    ...values,
  };
}

export function shardState(
  site: string,
  shard: number,
  seq: number,
  at: number,
  values: {
    windows?: WindowPartial[];
    today?: Partial<Omit<DayPartial, "day">> & { day?: string };
    online?: number;
  } = {},
): ShardLiveState {
  const { day = utcDay(at), ...today } = values.today ?? {};
  return {
    site,
    shard,
    seq,
    at,
    windows: values.windows ?? [],
    today: dayPartial(day, today),
    online: values.online ?? 0,
  };
}

/** `state` sent as a delta of the base `baseSeq`: its counts, funnel and carts, and `maps` as the changed keys. */
export function asDelta(
  state: ShardLiveState,
  baseSeq: number,
  maps: ShardLiveDelta["today_delta"]["maps"],
): ShardLiveDelta {
  const { today, ...fields } = state;
  return {
    ...fields,
    base_seq: baseSeq,
    today_delta: {
      day: today.day,
      counts: today.counts,
      funnel: today.funnel,
      abandoned_carts: today.abandoned_carts,
      maps,
    },
  };
}
