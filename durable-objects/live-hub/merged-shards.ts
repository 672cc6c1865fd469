/**
 * The LiveHub's merged view of its shards, as plain data so the merge rules are tested without
 * a runtime. The hub keeps, per shard, the latest state by `seq` (day totals and online), and
 * per (window, shard) the latest window partial by `seq`; every number it reports is a sum
 * over shards of those latest absolute values. Because nothing is an increment, a repeated,
 * reordered or replayed state cannot double-count, and the whole thing can be rebuilt from the
 * rows the hub stored or from the shards themselves.
 */
import type { Overview, Performance, WindowMetrics } from "../../protocol";
import type { WindowMerge } from "../jobs/aggregation-job";
import { AGGREGATION_JOBS } from "../jobs/registered-jobs";
import { utcDay } from "../../common/utc-day";
import { mergeDayPartials, overviewOf, performanceOf } from "./day-merge";
import {
  type DayPartial,
  isLiveDelta,
  MAX_HUB_WINDOWS,
  type ShardLiveSend,
  type WindowPartial,
} from "../shard-to-hub/shard-live-state";
import { applyDayDelta } from "../shard-to-hub/day-delta";
import { addMetricCountsInto, emptyMetricCounts } from "../shared/metric-counts";

/** A shard re-sends while its online count decays; one silent for this long is presumed gone. */
export const ONLINE_STALE_MS = 5 * 60 * 1000;

/** The latest state of one shard, without its windows. */
export interface ShardRecord {
  shard: number;
  seq: number;
  /** Shard wall-clock time of the send, ms. */
  at: number;
  online: number;
  today: DayPartial;
}

/** The latest partial of one window from one shard. */
export interface ShardWindow {
  shard: number;
  /** `seq` of the state that carried this partial. */
  seq: number;
  partial: WindowPartial;
}

export interface ApplyResult {
  /**
   * The state was newer than the shard's last one: its day totals and online were taken. For
   * a delta, also: it applied to the base the hub holds (same `seq` and day), so the hub now
   * holds this send's day as the shard's base (the shard's `dayBase` answer).
   */
  shardUpdated: boolean;
  /** The shard's record as it is now (stored by the hub when `shardUpdated`). */
  record: ShardRecord | undefined;
  /** Partials newer than what the hub had for their (window, shard), within retention. */
  acceptedWindows: WindowPartial[];
  /** Every window starting before this was dropped (retention); storage drops the same. */
  dropBefore: number;
}

export class MergedShards {
  private readonly shards = new Map<number, ShardRecord>();
  /** window start → shard → partial. */
  private readonly windows = new Map<number, Map<number, ShardWindow>>();

  constructor(private readonly windowMs: number) {}

  /** Rebuilds the state from what `apply` results were persisted. */
  static restore(windowMs: number, shards: Iterable<ShardRecord>, windows: Iterable<ShardWindow>): MergedShards {
    const state = new MergedShards(windowMs);
    for (const record of shards) state.shards.set(record.shard, record);
    for (const window of windows) state.windowShards(window.partial.start).set(window.shard, window);
    return state;
  }

  hasShard(shard: number): boolean {
    return this.shards.has(shard);
  }

  get windowCount(): number {
    return this.windows.size;
  }

  /** Windows that start before this are out of retention at `now`. */
  retentionStart(now: number): number {
    return Math.floor(now / this.windowMs) * this.windowMs - (MAX_HUB_WINDOWS - 1) * this.windowMs;
  }

  /**
   * Takes a shard's send. A delta (shard-to-hub/day-delta.ts) is applied only to the base it
   * was built against: the shard's record at `base_seq`, of the same day; against any other
   * (none after the hub lost its storage, a newer one from a pull, another day) its day is
   * refused, and the shard sends its whole state next. Its windows are judged as a full
   * send's. Throws InvalidShardLiveState for a delta that would break a cap (nothing changes).
   */
  apply(state: ShardLiveSend, now: number): ApplyResult {
    const previous = this.shards.get(state.shard);
    let today: DayPartial | null = null;
    if (!isLiveDelta(state)) today = state.today;
    else if (previous !== undefined && previous.seq === state.base_seq && previous.today.day === state.today_delta.day)
      today = applyDayDelta(previous.today, state.today_delta);
    const shardUpdated = today !== null && (previous === undefined || state.seq > previous.seq);
    if (shardUpdated && today !== null) {
      this.shards.set(state.shard, {
        shard: state.shard,
        seq: state.seq,
        at: state.at,
        online: state.online,
        today,
      });
    }
    const retentionStart = this.retentionStart(now);
    const acceptedWindows: WindowPartial[] = [];
    // Windows are judged one by one, not with the whole state: a state that arrives after a
    // newer one still carries the only copy of windows the newer one did not touch.
    for (const partial of state.windows) {
      if (partial.start < retentionStart) continue;
      const byShard = this.windowShards(partial.start);
      const kept = byShard.get(state.shard);
      if (kept !== undefined && kept.seq >= state.seq) continue;
      byShard.set(state.shard, { shard: state.shard, seq: state.seq, partial });
      acceptedWindows.push(partial);
    }
    return {
      shardUpdated,
      record: this.shards.get(state.shard),
      acceptedWindows,
      dropBefore: this.dropWindowsBefore(retentionStart),
    };
  }

  /** Drops windows out of retention, then the oldest beyond MAX_HUB_WINDOWS (future-dated ones). */
  private dropWindowsBefore(retentionStart: number): number {
    let dropBefore = retentionStart;
    for (const start of this.windows.keys()) if (start < retentionStart) this.windows.delete(start);
    if (this.windows.size > MAX_HUB_WINDOWS) {
      const starts = [...this.windows.keys()].sort((a, b) => b - a);
      dropBefore = starts[MAX_HUB_WINDOWS - 1] ?? retentionStart;
      for (const start of starts.slice(MAX_HUB_WINDOWS)) this.windows.delete(start);
    }
    return dropBefore;
  }

  private windowShards(start: number): Map<number, ShardWindow> {
    let byShard = this.windows.get(start);
    if (byShard === undefined) {
      byShard = new Map();
      this.windows.set(start, byShard);
    }
    return byShard;
  }

  private mergedWindow(start: number, byShard: Map<number, ShardWindow>): WindowMetrics {
    const counts = emptyMetricCounts();
    const jobs: WindowMerge[] = [];
    for (const job of AGGREGATION_JOBS) {
      const merge = job.mergeWindows?.();
      if (merge !== undefined) jobs.push(merge);
    }
    let end = start + this.windowMs;
    for (const { partial } of byShard.values()) {
      addMetricCountsInto(counts, partial.counts);
      for (const merge of jobs) merge.add(partial);
      end = partial.end;
    }
    const window: WindowMetrics = { ...counts, start, end, jobs: {} };
    for (const merge of jobs) merge.show(window);
    return window;
  }

  /** The newest `limit` windows, newest first. */
  recentWindows(limit: number): WindowMetrics[] {
    return [...this.windows.keys()]
      .sort((a, b) => b - a)
      .slice(0, Math.max(0, limit))
      .map((start) => this.mergedWindow(start, this.windows.get(start) ?? new Map()));
  }

  /** The windows among `starts` the hub still holds, newest first. */
  windowsAt(starts: Iterable<number>): WindowMetrics[] {
    return [...new Set(starts)]
      .filter((start) => this.windows.has(start))
      .sort((a, b) => b - a)
      .map((start) => this.mergedWindow(start, this.windows.get(start) ?? new Map()));
  }

  /** Visitors active in the last 5 minutes, over the shards that were heard from recently. */
  online(now: number): number {
    let online = 0;
    for (const record of this.shards.values()) if (now - record.at <= ONLINE_STALE_MS) online += record.online;
    return online;
  }

  overview(site: string, now: number): Overview {
    return overviewOf(site, this.today(now), this.online(now));
  }

  performance(site: string, now: number): Performance {
    return performanceOf(site, this.today(now));
  }

  /** Both day views from one merge (what every live message carries). */
  dayViews(site: string, now: number): { overview: Overview; performance: Performance } {
    const today = this.today(now);
    return { overview: overviewOf(site, today, this.online(now)), performance: performanceOf(site, today) };
  }

  private today(now: number) {
    return mergeDayPartials(
      [...this.shards.values()].map((record) => record.today),
      utcDay(now),
    );
  }
}
