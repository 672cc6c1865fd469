/**
 * An aggregation job: what the ingest shard and the LiveHub run for every event without
 * knowing what it aggregates. A job declares
 *
 * - its keyed state per window and/or per UTC day (`window`, `day`): a map key → entry, capped
 *   by the job (capped-map.ts; state-caps.ts has the shard's caps),
 *   stored as entry rows of `window_entries` / `day_entries` under `storedMap`, only changed
 *   keys written, at the shard's checkpoint (shard-state-store.ts); or a small fixed-shape
 *   record per day (`dayRecord`), a field of the day's JSON row;
 * - which events it takes and how an event updates that state (`add`, which ignores the
 *   events it does not take), and for a day record what a closing session does to it;
 * - what a shard reports of it to the hub (`report`: writes its field of the WindowPartial /
 *   DayPartial, absolute, capped);
 * - how the hub merges the shards' reports and what it adds to the live message
 *   (`mergeWindows`, `mergeDays`: a fresh merge per merged window or day);
 * - ClickHouse rows: none of a keyed-map job's own (every event is in `events`; window
 *   counters go to `window_metrics` through window-aggregate.ts).
 *
 * Jobs are registered once (registered-jobs.ts); the shard, its store and the hub run every
 * registered job the same way. Kinds built on this interface: keyed counts with a live top
 * list (keyed-count-job.ts: custom events, sessions by channel), the built-in top lists (pages,
 * referrers, products), the Web Vitals sketches, and day records (the funnel, abandoned
 * carts). A built-in job keeps the map name it had before jobs existed (`pages`, `vitals` …),
 * so state stored by older code loads unchanged.
 */
import type { EnrichedEvent, Overview, Performance, WindowMetrics } from "../../protocol";
import type { SessionState } from "../ingest-shard/session-state";
import type { DayPartial, WindowPartial } from "../shard-to-hub/shard-live-state";

/** Funnel steps and referrer an event completed for its session (session-state.ts StepsReached). */
export interface SessionProgress {
  product_view: boolean;
  cart_add: boolean;
  checkout: boolean;
  purchase: boolean;
  /** The session's referrer host became known with this event. */
  referrer: boolean;
}

/** What a job may know about an event's session besides the event, in the window or day being updated. */
export interface JobEventContext {
  /** The event is its session's first in this window (or day): a job counting sessions counts these. */
  newSession: boolean;
  /** The session's channel (its first touch, session-state.ts) as of this event; '' when unknown. */
  sessionChannel: string;
  /** Steps the session reached for the first time with this event (none in a window). */
  reached: SessionProgress;
  /** The session's referrer host ('' when none). */
  referrerHost: string;
}

export const NOTHING_REACHED: Readonly<SessionProgress> = Object.freeze({
  product_view: false,
  cart_add: false,
  checkout: false,
  purchase: false,
  referrer: false,
});

/**
 * A job's keyed state in one scope (window or day). Methods, not function properties, on
 * purpose: a registry holds jobs of different entry types as `KeyedState<unknown>`, which
 * TypeScript allows for method parameters; the store hands each job only its own map.
 */
export interface KeyedState<Entry, Report> {
  /**
   * The map's name among the scope's entry rows. `job:<name>` for jobs added since jobs
   * existed; a built-in keeps its older name so stored state loads unchanged. Unique per scope.
   */
  readonly storedMap: string;
  /**
   * True for the built-in maps that were once a field of the scope's JSON row (`days.state`,
   * `windows.state.total`) before entry rows existed: such a field is read and moved to rows.
   */
  readonly legacyRowField: boolean;
  /** Updates `map` with `event` (does nothing for events the job does not take). Runs for every event: keep it cheap. */
  add(map: Record<string, Entry>, event: EnrichedEvent, context: JobEventContext): void;
  /**
   * Writes what the hub gets of this map into the shard's partial; absent: the map stays in the
   * shard. A day report writes exactly one keyed field of the DayPartial (`pages` …, or
   * `jobs.<name>`), choosing which keys from the whole map (its largest, say) but each key's
   * value from that key's entry alone: live sends carry only the changed keys of a day
   * (ingest-shard/live-day-delta.ts, which checks the first rule when it loads).
   */
  report?(map: Record<string, Entry>, partial: Report): void;
}

/**
 * A job's small fixed-shape state per UTC day (a handful of numbers, not keyed), kept as a
 * field of the day's JSON row (`days.state`) and rewritten with it.
 */
export interface DayRecordState<Record> {
  /** Its field in the day's row; a built-in keeps the one it had before jobs existed. Unique among day records. */
  readonly rowField: string;
  empty(): Record;
  /** Updates the record with an event of the day (does nothing for events the job does not take). */
  add?(record: Record, event: EnrichedEvent, context: JobEventContext): void;
  /**
   * Whether a closing session changes the record: only then is the day of its close loaded
   * and `sessionClosed` called (most sessions change no day when they close).
   */
  takesClosedSession?(session: SessionState): boolean;
  /** A session closed on this day (shard-engine.ts closeSession; its state as it closed). */
  sessionClosed?(record: Record, session: SessionState): void;
  /** Writes what the hub gets of the record into the shard's DayPartial (its `counts` are already filled in). */
  report(record: Record, partial: DayPartial): void;
}

/** The hub's merge of one day's shard partials for one job: a fresh one per merge. */
export interface DayMerge {
  add(partial: DayPartial): void;
  /** Writes the job's part of the overview (a top list, `jobs.<name>`). */
  showInOverview?(overview: Overview): void;
  /** Writes the job's part of the performance answer. */
  showInPerformance?(performance: Performance): void;
}

/** The hub's merge of one window's shard partials for one job. */
export interface WindowMerge {
  add(partial: WindowPartial): void;
  show(window: WindowMetrics): void;
}

export interface AggregationJob<WindowEntry = unknown, DayEntry = unknown, DayRecord = unknown> {
  /** Lower-case snake, unique among jobs. */
  readonly name: string;
  /** State per window (kept while the window is retained); absent: the job keeps none. */
  readonly window?: KeyedState<WindowEntry, WindowPartial>;
  /** State per UTC day; absent: the job keeps none. */
  readonly day?: KeyedState<DayEntry, DayPartial>;
  /** Fixed-shape state per UTC day (funnel steps, abandoned carts); absent: the job keeps none. */
  readonly dayRecord?: DayRecordState<DayRecord>;
  /** The hub's merge of the job's window reports; absent when it reports none. */
  mergeWindows?(): WindowMerge;
  /** The hub's merge of the job's day reports; absent when it reports none. */
  mergeDays?(): DayMerge;
}

/** The stored map name of a job added since jobs existed. */
export function jobMapName(name: string): `job:${string}` {
  return `job:${name}`;
}
