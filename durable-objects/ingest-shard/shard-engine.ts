/**
 * Everything an IngestShard does, over its SQLite storage, with the clock, ClickHouse and the
 * LiveHub passed in, so tests can drive it with a fake clock or a broken ClickHouse while the
 * Durable Object class stays a thin transport shell.
 *
 * State model (Flink's, on one object): keyed job state in memory (shard-state-store.ts), an
 * append-only log of accepted batches in SQLite, and periodic checkpoints from the alarm.
 *
 * Invariants:
 * - A batch is accepted in ONE transaction: its log row (dedup id + the batch + the session
 *   ids it was given) and its event rows for ClickHouse, committed before the 202. Its state
 *   changes stay in memory; a batch writes no state rows, so its cost does not grow with the
 *   state.
 * - Durable state = the last checkpoint + the log since: an engine built on this storage
 *   (a restarted object, or this one after a transaction threw) loads the checkpoint and
 *   replays the log rows after it, with the session ids and times they had, emitting nothing
 *   (their outbox rows are already stored). So SIGKILL at any point loses and doubles nothing.
 * - Whatever an alarm pass emits (sealed window parts, closed sessions) is committed in the
 *   same transaction as a checkpoint of the state that emitted it, so a replay never emits it
 *   again. Otherwise the alarm checkpoints every CHECKPOINT_INTERVAL_MS or
 *   CHECKPOINT_MAX_BATCHES, which bounds both the memory held only here and the replay.
 * - The alarm is idempotent (at-least-once delivery): sealing emits only what no part holds
 *   yet, closing removes the session it emits, flushing deletes only acknowledged rows. It
 *   sets the next alarm last, so an alarm that throws is retried by the runtime.
 */
import type { ClickHouse } from "../../clickhouse/client";
import { toEventRow, type EventRow } from "../../clickhouse/rows";
import type {
  BatchProbe,
  EnrichedBatch,
  EnrichedEvent,
  IngestAdmission,
  IngestDedup,
  IngestOutcome,
} from "../../protocol";
import { hasTombstone, pruneTombstones, recordTombstone } from "./batch-tombstones";
import { CoalescedSender, realSchedule, type Schedule } from "./coalesced-sender";
import {
  addBounceToDay,
  addClosedSessionToDay,
  addEventToDay,
  emptyDayAccumulator,
  toDayPartial,
} from "./day-aggregate";
import {
  EVENTS_PER_INSERT,
  FLUSH_MIN_ENTRIES,
  flushDueAt,
  flushPolicy,
  nextBackoffMs,
  SESSIONS_PER_INSERT,
  type FlushPolicy,
} from "./flush-schedule";
import type { TokenScope } from "./dedup-token";
import { utcDay } from "../../common/utc-day";
import { FlushQueue } from "./flush-queue";
import {
  type DayPartial,
  type HubAnswer,
  isLiveDelta,
  MAX_HUB_WINDOWS,
  MAX_WINDOWS_PER_STATE,
  type ShardLiveDelta,
  type ShardLiveSend,
  type ShardLiveState,
  type WindowPartial,
} from "../shard-to-hub/shard-live-state";
import { reportedKeys } from "../shard-to-hub/day-delta";
import { buildDayDelta } from "./live-day-delta";
import {
  applyEventToSession,
  chooseSession,
  isBounce,
  newSessionState,
  toSessionRow,
  type SessionState,
} from "./session-state";
import { toPlainData } from "../shared/plain-data";
import { ShardAdmission } from "./shard-admission";
import { migrateShardSchema } from "./shard-schema";
import { ShardMeta } from "./shard-meta";
import { readCounters, type ShardStats } from "./shard-stats";
import { MEMBER_SESSION, MEMBER_VISITOR, ShardStateStore, StateChanges } from "./shard-state-store";
import { closedSessionTouchesDay } from "../jobs/day-records";
import { reportJobMaps, WINDOW_JOBS } from "../jobs/job-maps";
import { emptyRecord } from "../shared/safe-record";
import { addEventToWindow, toMetricCounts } from "./window-aggregate";
import { nextSealedPart, recordEmittedPart, windowMetricsRows, type WindowState } from "./window-sealing";
import { isWindowSealedBy, wallClockSealTime, watermarkOf, windowStartOf } from "./watermark";

/** A checkpoint at least this often while batches arrive (the log replayed at load covers at most this span)… */
export const CHECKPOINT_INTERVAL_MS = 10_000;
/** …and after at most this many batches, so memory held only here and the replay stay bounded. */
export const CHECKPOINT_MAX_BATCHES = 2_000;
/** Checked-in batch ids pruned per alarm pass (the log's oldest rows, by seq). */
const LOG_PRUNE_SCAN = 10_000;

/** Backpressure: past this many unflushed events a shard refuses batches (503 + Retry-After). */
export const MAX_PENDING_EVENTS = 100_000;
/** Batch ids are remembered this long (SDK retries happen within minutes), never less… */
export const SEEN_BATCH_RETENTION_MS = 24 * 3600 * 1000;
/**
 * …and a shard holding this many refuses new batches (503 + Retry-After until its oldest id
 * expires) rather than forget an id early, so a flood cannot fill storage and a resend within
 * 24 h is always recognised. 16 M ids = 185 batches/s for 24 h, above the whole ingest
 * benchmark's peak (177–183 batches/s, docs/benchmarks.md) on one shard; about 3 GB of SQLite
 * with UUID ids and their events' 64-character digests, up to about 7 GB with 128-character
 * ids (and 0.6 GB more of tombstones at their bound), under a Durable Object's 10 GB.
 */
export const MAX_SEEN_BATCHES = 16_000_000;
/**
 * Tombstones a shard keeps at most (batch-tombstones.ts): one per batch id a resend found on
 * no shard of the site, so a quarter of the batch ids' bound (46 such resends a second for
 * 24 h) keeps both within a Durable Object's storage.
 */
export const MAX_TOMBSTONES = 4_000_000;
/** A first attempt refused for a tombstone is resent, marked, after this long (and then told "duplicate"). */
const TOMBSTONED_RETRY_AFTER_SECONDS = 1;
/**
 * Alarm period while anything waits for ClickHouse. The alarm checks; it inserts only when
 * flush-schedule.ts flushDueAt says a flush is due (size, age, quiet, sealing), so events land
 * within a second or two while inserts stay large.
 */
export const FLUSH_INTERVAL_MS = 1_000;
/**
 * At most one live send per this interval while someone watches the site live: the wait for
 * it is one of the two coalescing stages of event → live (the hub's broadcast is the other).
 * 100 ms since sends carry today as a delta (live-day-delta.ts): a delta send costs the shard
 * and the hub a fraction of a whole one, so ten a second cost less than the four whole sends
 * a second of the 250 ms before.
 */
export const LIVE_SEND_INTERVAL_MS = 100;
/**
 * …and per this one while nobody does (the hub's answer says which): most of the time no
 * dashboard is open, and every send still costs an RPC, the hub's check and its rows. The hub
 * stays at most this stale for a dashboard's first snapshot; the first send after it
 * connected restores the fast cadence.
 */
export const LIVE_SEND_IDLE_INTERVAL_MS = 1_000;
/** "Online now": visitors with an event in this span. */
export const ONLINE_SPAN_MS = 5 * 60 * 1000;
/** While visitors are online, the alarm re-checks the count this often so the hub sees it decay. */
export const ONLINE_RECHECK_MS = 5_000;
/**
 * Window state and its distinct-member sets are kept this long: the Worker accepts events up
 * to 48 h old, and a late event must still find its window's visitors to count them once.
 */
export const WINDOW_RETENTION_MS = 49 * 3600 * 1000;
/** Day accumulators (and their member sets) kept, for late events of the previous days. */
export const DAY_RETENTION_MS = 3 * 24 * 3600 * 1000;
/** Inserts per queue per alarm, so one alarm stays short even after a long outage. */
export const MAX_INSERTS_PER_QUEUE_PER_ALARM = 20;
/** Idle sessions closed per alarm (the next alarm continues). */
export const MAX_SESSIONS_CLOSED_PER_ALARM = 2_000;
const WINDOW_PARTS_PER_INSERT = 500;

export interface ShardSettings {
  windowSeconds: number;
  allowedLatenessSeconds: number;
  sessionIdleMinutes: number;
}

export interface ShardEngineOptions {
  storage: DurableObjectStorage;
  settings: ShardSettings;
  clickhouse: ClickHouse;
  /**
   * Sends the shard's live state (whole, or today as a delta of the base the hub confirmed) to
   * its site's LiveHub; no answer counts as watched, and as no day base held.
   */
  sendToHub: (state: ShardLiveSend) => Promise<HubAnswer | undefined>;
  now?: () => number;
  /**
   * Timers of the live-send coalescing, on the `now` clock. Without it the coalescing keeps the
   * real clock and timers even under a test `now`: a test clock without its timers would never fire.
   */
  schedule?: Schedule;
  newSessionId?: () => string;
  /** Backpressure bound; MAX_PENDING_EVENTS unless a test needs a small one. */
  maxPendingEvents?: number;
  /** Checkpoint cap in batches; CHECKPOINT_MAX_BATCHES unless a test needs a small one. */
  checkpointMaxBatches?: number;
  /** Bound on kept batch ids; MAX_SEEN_BATCHES unless a test needs a small one. */
  maxSeenBatches?: number;
  /** Bound on kept tombstones; MAX_TOMBSTONES unless a test needs a small one. */
  maxTombstones?: number;
}

export class ShardEngine {
  private readonly storage: DurableObjectStorage;
  private readonly meta: ShardMeta;
  /** Memory state: null until loaded (checkpoint + log replay), and again after a transaction threw. */
  private loaded: LoadedState | null = null;
  private readonly events: FlushQueue<"events">;
  private readonly windowParts: FlushQueue<"window_metrics">;
  private readonly closedSessions: FlushQueue<"sessions">;
  private readonly live: CoalescedSender;
  /** The hub's last answer: someone watches live. Memory only: a restarted shard assumes so. */
  private hubWatched = true;
  /** Until then the fast cadence applies whoever watches (a batch changed a window about to seal). */
  private fastSendUntil = 0;
  private readonly admission: ShardAdmission;
  private readonly maxPendingEvents: number;
  private readonly checkpointMaxBatches: number;
  private readonly maxSeenBatches: number;
  private readonly maxTombstones: number;
  /**
   * The settings the memory state is built under (useSettings): the ones recorded with the
   * checkpoint while the log replays, the configured ones once the replay has caught up.
   */
  private windowSeconds = 0;
  private windowMs = 0;
  private latenessMs = 0;
  private idleMs = 0;
  private flushPolicy: FlushPolicy = flushPolicy(1);
  private readonly now: () => number;
  private readonly newSessionId: () => string;
  /** Cache of the scheduled alarm time; undefined until read once from storage. */
  private alarmAt: number | null | undefined = undefined;
  /**
   * The day state the hub confirmed holding for this shard (its key sets per keyed field), which
   * the next send's day delta is built against; null (at start, after a failed or refused
   * send) sends the whole day. Memory only: the change notes it relies on are the store's.
   */
  private dayBase: DayBase | null = null;
  /** The last DayPartial built for a live send, reused while the day has not changed. */
  private builtToday: { day: string; dayVersion: number; partial: DayPartial } | null = null;

  constructor(private readonly options: ShardEngineOptions) {
    this.storage = options.storage;
    this.now = options.now ?? Date.now;
    this.newSessionId = options.newSessionId ?? (() => `s-${crypto.randomUUID()}`);
    this.useSettings(options.settings);
    this.maxPendingEvents = options.maxPendingEvents ?? MAX_PENDING_EVENTS;
    this.checkpointMaxBatches = options.checkpointMaxBatches ?? CHECKPOINT_MAX_BATCHES;
    this.maxSeenBatches = options.maxSeenBatches ?? MAX_SEEN_BATCHES;
    this.maxTombstones = options.maxTombstones ?? MAX_TOMBSTONES;
    this.admission = new ShardAdmission(this.maxPendingEvents);
    const sql = this.storage.sql;
    this.meta = new ShardMeta(sql);
    // Synchronous (SQLite): the schema is in place before the object handles anything.
    this.storage.transactionSync(() => migrateShardSchema(sql, this.now()));
    this.events = new FlushQueue(this.storage, this.meta, "pending_events", "events", EVENTS_PER_INSERT);
    this.windowParts = new FlushQueue(
      this.storage,
      this.meta,
      "window_parts",
      "window_metrics",
      WINDOW_PARTS_PER_INSERT,
    );
    this.closedSessions = new FlushQueue(this.storage, this.meta, "pending_sessions", "sessions", SESSIONS_PER_INSERT);
    this.live = new CoalescedSender(
      () => this.sendLiveState(),
      () => (this.hubWatched || this.now() < this.fastSendUntil ? LIVE_SEND_INTERVAL_MS : LIVE_SEND_IDLE_INTERVAL_MS),
      options.schedule === undefined ? Date.now : this.now,
      options.schedule ?? realSchedule,
    );
  }

  private useSettings(settings: ShardSettings): void {
    this.windowSeconds = settings.windowSeconds;
    this.windowMs = settings.windowSeconds * 1000;
    this.latenessMs = settings.allowedLatenessSeconds * 1000;
    this.idleMs = settings.sessionIdleMinutes * 60 * 1000;
    this.flushPolicy = flushPolicy(this.windowMs);
  }

  /** The settings the checkpoint and the log after it were applied under; null before any was recorded. */
  private recordedSettings(): ShardSettings | null {
    const text = this.meta.text("state_settings");
    return text === null ? null : (JSON.parse(text) as ShardSettings);
  }

  // ---- ingest ---------------------------------------------------------------------------

  /**
   * `admission` carries the client's key and this shard's share of the site's rate (see
   * shard-admission.ts); null (tools, tests of the engine alone) applies neither. `dedup`:
   * the events' digest and whether a tombstone refuses the batch (IngestDedup); null checks
   * ids only and refuses a tombstoned id.
   */
  async ingest(
    batch: EnrichedBatch,
    admission: IngestAdmission | null = null,
    dedup: IngestDedup | null = null,
  ): Promise<IngestOutcome> {
    const now = this.now();
    const outcome = this.stateTransaction((state) => this.acceptBatch(state, batch, admission, dedup, now));
    const checkpointOwed = (this.loaded?.batchesSinceCheckpoint ?? 0) >= this.checkpointMaxBatches;
    // Overloaded too: the backlog it refused for must keep draining.
    if (outcome.status === "accepted" || outcome.status === "overloaded" || outcome.status === "rate_limited")
      await this.armAlarm(now, this.events.size >= FLUSH_MIN_ENTRIES, checkpointOwed);
    if (outcome.status === "accepted") {
      if (this.sealsWithinIdleInterval(batch, now)) this.fastSendUntil = now + LIVE_SEND_IDLE_INTERVAL_MS;
      this.live.request();
    }
    return outcome;
  }

  /**
   * Whether this shard holds `batchId` (with events of this `digest`), for a resend probing
   * every shard of its site; when it does not, a tombstone now refuses a first attempt of the
   * id arriving later (batch-tombstones.ts). Storage only: no memory state is loaded, and no
   * admission or rate budget is spent.
   */
  probeBatch(batchId: string, digest: string): BatchProbe {
    const sql = this.storage.sql;
    return this.storage.transactionSync((): BatchProbe => {
      const held = heldBatch(sql, batchId, digest);
      if (held !== null) return { status: held };
      const full = recordTombstone(sql, batchId, this.now(), SEEN_BATCH_RETENTION_MS, this.maxTombstones);
      return full === null ? { status: "absent" } : { status: "full", retry_after_seconds: full };
    });
  }

  /**
   * A transaction over the shard's state. The memory state is (re)built from checkpoint + log
   * when there is none, or when storage is not what this engine last left it (another engine
   * wrote to the same storage: a test, a restored copy): the log's last seq and the
   * checkpoint's version tell. If the work throws, storage rolls back but memory does not, so
   * the memory state is dropped and the next transaction rebuilds it (a replay of up to
   * CHECKPOINT_MAX_BATCHES batches); unless the work had not touched memory yet
   * (`memoryTouched`, which a work clears while it only reads and checks) and memory was not
   * (re)loaded in this transaction (a load can switch settings and checkpoint, rolled back
   * too): then memory is still exactly storage + log, and is kept.
   */
  private stateTransaction<T>(work: (state: LoadedState) => T): T {
    const before = this.loaded;
    let current: LoadedState | null = null;
    try {
      return this.storage.transactionSync(() => {
        const state = this.currentState();
        current = state;
        state.memoryTouched = true;
        const result = work(state);
        state.seen = this.storagePosition();
        return result;
      });
    } catch (error) {
      if (current === null || current !== before || (current as LoadedState).memoryTouched) this.forgetMemory();
      throw error;
    }
  }

  /** Drops everything memory holds beyond storage; the next transaction rebuilds it. */
  private forgetMemory(): void {
    this.loaded = null;
    this.builtToday = null;
    for (const queue of [this.events, this.windowParts, this.closedSessions]) queue.forget();
  }

  /** Where storage is: the log's last seq and the checkpoint's version (cheap: a rowid max and a meta lookup). */
  private storagePosition(): string {
    const row = this.storage.sql
      .exec<{ log: number | null; version: number | string | null }>(
        "SELECT (SELECT max(seq) FROM batch_log) AS log, (SELECT value FROM meta WHERE key = 'checkpoint_version') AS version",
      )
      .one();
    return `${row.log ?? 0}:${row.version ?? 0}`;
  }

  private currentState(): LoadedState {
    const position = this.storagePosition();
    if (this.loaded !== null && this.loaded.seen === position) return this.loaded;
    this.forgetMemory();
    const checkpointSeq = this.meta.number("checkpoint_seq");
    const lastLog =
      this.storage.sql.exec<{ seq: number | null }>("SELECT max(seq) AS seq FROM batch_log").one().seq ?? 0;
    const stored = this.meta.text("max_event_ts");
    // The log replays under the settings it was accepted under, whatever is configured now: a
    // longer idle timeout or another window size would assign and close sessions, and window
    // events, differently from what was emitted before the restart.
    const recorded = this.recordedSettings();
    this.useSettings(recorded ?? this.options.settings);
    const state: LoadedState = {
      store: new ShardStateStore(this.storage.sql),
      seen: position,
      lastSeq: Math.max(lastLog, checkpointSeq),
      checkpointSeq,
      // Windows replayed get live-change numbers above everything the hub confirmed, so they are sent again.
      liveChange: Math.max(this.meta.number("live_change"), this.meta.number("live_sent_change")),
      maxEventTs: stored === null ? null : Number(stored),
      counts: new Map(),
      batchesSinceCheckpoint: 0,
      memoryTouched: true,
    };
    for (const row of this.storage.sql.exec<{ seq: number; stored_at: number; entry: string }>(
      "SELECT seq, stored_at, entry FROM batch_log WHERE seq > ? AND entry IS NOT NULL ORDER BY seq",
      checkpointSeq,
    )) {
      const entry = JSON.parse(row.entry) as LogEntry;
      this.applyBatch(state, entry.batch, row.stored_at, { sessionIds: entry.sessions });
      state.batchesSinceCheckpoint += 1;
    }
    this.loaded = state;
    if (recorded === null) this.meta.set("state_settings", JSON.stringify(settingsOf(this.options.settings)));
    else if (!sameSettings(recorded, this.options.settings)) this.switchSettings(state, recorded);
    return state;
  }

  /**
   * Caught up under the recorded settings, the state moves to the configured ones, and a
   * checkpoint in the same transaction records them, so the log after it is only ever
   * replayed under them. A new window size cannot extend windows of the old one: each old
   * window emits what it has not emitted yet, labelled with its own size, and the window
   * state starts afresh at the new size (the series changes size here; no event is counted
   * twice or lost). Sessions simply continue under the new idle timeout.
   */
  private switchSettings(state: LoadedState, recorded: ShardSettings): void {
    const now = this.now();
    if (recorded.windowSeconds !== this.options.settings.windowSeconds) {
      for (const window of state.store.windowsNeedingPart(Number.POSITIVE_INFINITY)) {
        const part = nextSealedPart(window, this.windowMs, Number.POSITIVE_INFINITY);
        if (part === null) continue;
        const rows = windowMetricsRows(this.site(), this.windowSeconds, part);
        if (rows.length > 0) this.windowParts.enqueue(rows, now);
        recordEmittedPart(window, part);
      }
      state.store.dropAllWindows();
    }
    this.useSettings(this.options.settings);
    this.checkpoint(state, now);
  }

  /**
   * How many batch ids the log keeps, and when its oldest was stored. Seqs are consecutive
   * and pruning deletes from the oldest, so the count is the span of seqs (a rowid lookup).
   */
  private keptBatchIds(state: LoadedState): { count: number; oldestAt: number | null } {
    const first = this.storage.sql
      .exec<{ seq: number; stored_at: number }>("SELECT seq, stored_at FROM batch_log ORDER BY seq LIMIT 1")
      .toArray()[0];
    return first === undefined
      ? { count: 0, oldestAt: null }
      : { count: state.lastSeq - first.seq + 1, oldestAt: first.stored_at };
  }

  /** Adds to a /metrics counter derived from the log: kept in memory, written by the checkpoint (a replay recounts it). */
  private count(state: LoadedState, name: string, by = 1): void {
    if (by !== 0) state.counts.set(name, (state.counts.get(name) ?? 0) + by);
  }

  /** Dedup, admission and backpressure, then the log row, the event rows and the state change. */
  private acceptBatch(
    state: LoadedState,
    batch: EnrichedBatch,
    admission: IngestAdmission | null,
    dedup: IngestDedup | null,
    now: number,
  ): IngestOutcome {
    // Checks and refusals change storage only (rolled back if anything throws), never memory.
    state.memoryTouched = false;
    const sql = this.storage.sql;
    const digest = dedup?.digest ?? null;
    const held = heldBatch(sql, batch.batch_id, digest);
    if (held === "conflict") return { status: "conflict" };
    if (held === "held") {
      this.meta.count("duplicate_batches");
      return { status: "duplicate" };
    }
    if (dedup?.pass_tombstone !== true && hasTombstone(sql, batch.batch_id))
      return { status: "tombstoned", retry_after_seconds: TOMBSTONED_RETRY_AFTER_SECONDS };
    const kept = this.keptBatchIds(state);
    if (kept.count >= this.maxSeenBatches) {
      this.meta.count("overloaded_batches");
      const expiresInMs = (kept.oldestAt ?? now) + SEEN_BATCH_RETENTION_MS - now;
      return { status: "overloaded", retry_after_seconds: Math.min(60, Math.max(1, Math.ceil(expiresInMs / 1000))) };
    }
    // A resend of a stored batch was answered above without spending any budget.
    const backlog = {
      pending: this.events.size,
      maxPending: this.maxPendingEvents,
      firstPendingSeq: this.events.firstWaitingSeq,
    };
    const refusal =
      admission === null
        ? null
        : this.admission.refusal(admission.client_key, admission.site_budget, batch.events.length, backlog, now);
    if (refusal?.scope === "site") {
      this.meta.count("rate_limited_batches");
      return { status: "rate_limited", retry_after_seconds: Math.max(1, Math.ceil(refusal.retryAfterSeconds)) };
    }
    // A client holding more than its share of a nearly full backlog: refused as if the shard were full.
    if (refusal?.scope === "client") {
      this.meta.count("overloaded_batches");
      return { status: "overloaded", retry_after_seconds: this.retryAfterSeconds(now) };
    }
    if (this.events.size + batch.events.length > this.maxPendingEvents) {
      this.meta.count("overloaded_batches");
      return { status: "overloaded", retry_after_seconds: this.retryAfterSeconds(now) };
    }
    this.rememberIdentity(batch.site, batch.shard);
    const sessions: string[] = [];
    state.memoryTouched = true;
    const eventRows = this.applyBatch(state, batch, now, { created: sessions });
    const seq = state.lastSeq + 1;
    const entry: LogEntry = { batch, sessions };
    sql.exec(
      "INSERT INTO batch_log (seq, batch_id, stored_at, entry, digest) VALUES (?, ?, ?, ?, ?)",
      seq,
      batch.batch_id,
      now,
      JSON.stringify(entry),
      digest,
    );
    state.lastSeq = seq;
    state.batchesSinceCheckpoint += 1;
    this.events.enqueueAll(eventRows, now);
    if (admission !== null)
      this.admission.accepted(admission.client_key, admission.site_budget, eventRows.length, this.events.lastSeq, now);
    return { status: "accepted", accepted: batch.events.length };
  }

  /**
   * Applies an accepted batch to the memory state and returns its event rows. Live, it notes
   * the session ids it creates (`created`, logged with the batch); replayed from the log, it
   * reuses them (`sessionIds`) and emits nothing, since its outbox rows were stored with it.
   */
  private applyBatch(state: LoadedState, batch: EnrichedBatch, now: number, ids: SessionIds): EventRow[][] {
    let replayed = 0;
    const newSessionId =
      "sessionIds" in ids
        ? () => {
            // A replay under other settings (a shorter SESSION_IDLE_MINUTES after a deploy) can
            // need more ids than the batch created: mint them from the batch, the same on every
            // replay, rather than throw and leave the shard unable to load.
            const id = ids.sessionIds[replayed] ?? `s-${batch.batch_id}-r${replayed}`;
            replayed++;
            return id;
          }
        : () => {
            const id = this.newSessionId();
            ids.created.push(id);
            return id;
          };
    const emit = !("sessionIds" in ids);
    // Lateness is judged against the watermark before this batch moves it.
    const watermark = this.watermarkOf(state, now);
    state.liveChange += 1;
    const changes = new StateChanges(state.store, state.liveChange);
    // Event-time order, so session assignment sees a visitor's events as they happened.
    const ordered = batch.events
      .map((event, index) => ({ event, index }))
      .sort((a, b) => a.event.ts - b.event.ts || a.index - b.index);
    let maxTs = Number.NEGATIVE_INFINITY;
    let late = 0;
    const eventRows: EventRow[][] = [];
    for (const { event } of ordered) {
      maxTs = Math.max(maxTs, event.ts);
      const session = this.sessionOf(state, batch, event, changes, now, newSessionId, emit);
      const reached = applyEventToSession(session, event);
      eventRows.push([toEventRow(batch, event, session.session_id)]);

      const start = windowStartOf(event.ts, this.windowMs);
      if (isWindowSealedBy(start, this.windowMs, watermark)) late += 1;
      addEventToWindow(
        changes.window(start).total,
        event,
        {
          newVisitor: changes.addWindowMember(start, MEMBER_VISITOR, batch.visitor_id),
          newSession: changes.addWindowMember(start, MEMBER_SESSION, session.session_id),
        },
        session.channel,
      );
      const day = utcDay(event.ts);
      addEventToDay(
        changes.day(day),
        event,
        {
          newVisitor: changes.addDayMember(day, MEMBER_VISITOR, batch.visitor_id),
          newSession: changes.addDayMember(day, MEMBER_SESSION, session.session_id),
        },
        reached,
        session.referrer_host,
        session.channel,
      );
    }
    changes.commit();

    if (ordered.length > 0) {
      state.maxEventTs = Math.max(state.maxEventTs ?? maxTs, maxTs);
      // A batch of old queued events does not make its visitor "online".
      state.store.touchOnline(batch.visitor_id, Math.min(maxTs, now));
    }
    this.count(state, "ingested_batches");
    this.count(state, "ingested_events", batch.events.length);
    this.count(state, "late_events", late);
    return eventRows;
  }

  /** The session an event belongs to (session-state.ts has the rules). */
  private sessionOf(
    state: LoadedState,
    batch: EnrichedBatch,
    event: EnrichedEvent,
    changes: StateChanges,
    now: number,
    newSessionId: () => string,
    emit: boolean,
  ): SessionState {
    if (batch.session_id !== null) {
      return (
        changes.session(batch.session_id) ??
        changes.addSession(newSessionState(batch.session_id, false, batch, event.ts))
      );
    }
    const open = changes.latestAssignedSession(batch.visitor_id);
    const choice = chooseSession(open, event.ts, this.idleMs);
    if (choice.kind === "join" && open !== null) return open;
    if (choice.kind === "new" && choice.supersedes && open !== null) this.closeSession(state, open, changes, now, emit);
    return changes.addSession(newSessionState(newSessionId(), true, batch, event.ts));
  }

  /**
   * Ends a session: its row waits for ClickHouse, a bounce counts in the window (and day) it
   * started in, and the day jobs that take closed sessions (abandoned carts) count it on the
   * day it closed. Replaying the log
   * (`emit` false), the row is already stored: only the state changes.
   */
  private closeSession(
    state: LoadedState,
    session: SessionState,
    changes: StateChanges,
    now: number,
    emit: boolean,
  ): void {
    if (emit) this.closedSessions.enqueue([toSessionRow(this.site(), this.shard(), session)], now);
    if (isBounce(session)) {
      changes.window(windowStartOf(session.started_at, this.windowMs)).total.counters.bounces += 1;
      addBounceToDay(changes.day(utcDay(session.started_at)));
    }
    if (closedSessionTouchesDay(session)) addClosedSessionToDay(changes.day(utcDay(now)), session);
    changes.closeSession(session.session_id);
    this.count(state, "sessions_closed");
  }

  private retryAfterSeconds(now: number): number {
    const retryAt = this.meta.number("retry_at");
    const waitMs = retryAt > now ? retryAt - now : this.windowMs + this.latenessMs;
    return Math.min(60, Math.max(1, Math.ceil(waitMs / 1000)));
  }

  private rememberIdentity(site: string, shard: number): void {
    const knownSite = this.meta.text("site");
    if (knownSite === null) {
      this.meta.set("site", site);
      this.meta.set("shard", shard);
      return;
    }
    if (knownSite !== site || this.meta.number("shard", -1) !== shard) {
      throw new Error(`batch for ${site}:${shard} routed to shard ${knownSite}:${this.meta.number("shard", -1)}`);
    }
  }

  private site(): string {
    return this.meta.text("site") ?? "";
  }

  private shard(): number {
    return this.meta.number("shard");
  }

  watermark(now = this.now()): number {
    return this.stateTransaction((state) => this.watermarkOf(state, now));
  }

  private watermarkOf(state: LoadedState, now: number): number {
    return watermarkOf({
      maxEventTs: state.maxEventTs,
      now,
      windowMs: this.windowMs,
      latenessMs: this.latenessMs,
    });
  }

  // ---- alarm ----------------------------------------------------------------------------

  async alarm(): Promise<void> {
    // The alarm that is running is no longer scheduled.
    this.alarmAt = null;
    const now = this.now();
    const windowSealed = this.stateTransaction((state) => {
      this.pruneExpired(state, now);
      // Before sealing, so bounces of sessions closing now are in this pass's parts.
      const closed = this.closeIdleSessions(state, now);
      const sealed = this.sealWindows(state, now);
      // What this pass emitted is committed with the state that emitted it (see the invariants).
      if (closed || sealed.emitted || this.checkpointDue(state, now)) this.checkpoint(state, now);
      return sealed.onTime;
    });
    await this.flush(now, windowSealed);
    if (this.liveSendOwed(this.now())) await this.live.sendNow();
    await this.scheduleNextAlarm(this.now());
  }

  /**
   * Checkpoints now whatever changed since the last checkpoint (the alarm does this on its
   * own schedule). For tests and tools that read the state tables directly.
   */
  checkpointNow(): void {
    this.stateTransaction((state) => this.checkpoint(state, this.now()));
  }

  private activeSettings(): ShardSettings {
    return {
      windowSeconds: this.windowSeconds,
      allowedLatenessSeconds: this.latenessMs / 1000,
      sessionIdleMinutes: this.idleMs / 60_000,
    };
  }

  private checkpointDue(state: LoadedState, now: number): boolean {
    if (state.batchesSinceCheckpoint === 0 && state.store.dirtySize === 0) return false;
    return (
      state.batchesSinceCheckpoint >= this.checkpointMaxBatches ||
      now - this.meta.number("checkpoint_at") >= CHECKPOINT_INTERVAL_MS
    );
  }

  /**
   * Writes the state changed since the last checkpoint and the log position it covers; the
   * covered log rows keep only their batch id (dedup) and lose the batch they no longer need.
   */
  private checkpoint(state: LoadedState, now: number): void {
    state.store.checkpoint();
    for (const [name, by] of state.counts) this.meta.count(name, by);
    state.counts.clear();
    this.meta.set("live_change", state.liveChange);
    if (state.maxEventTs !== null) this.meta.set("max_event_ts", state.maxEventTs);
    this.storage.sql.exec(
      "UPDATE batch_log SET entry = NULL WHERE seq > ? AND seq <= ? AND entry IS NOT NULL",
      state.checkpointSeq,
      state.lastSeq,
    );
    this.meta.set("state_settings", JSON.stringify(settingsOf(this.activeSettings())));
    this.meta.set("checkpoint_seq", state.lastSeq);
    this.meta.set("checkpoint_at", now);
    this.meta.add("checkpoint_version", 1);
    state.checkpointSeq = state.lastSeq;
    state.batchesSinceCheckpoint = 0;
  }

  private pruneExpired(state: LoadedState, now: number): void {
    const sql = this.storage.sql;
    // Batch ids older than the retention (never earlier: the id bound refuses instead); only rows a checkpoint covers.
    const expiredUpTo = sql
      .exec<{ seq: number | null }>(
        "SELECT max(seq) AS seq FROM (SELECT seq, stored_at FROM batch_log ORDER BY seq LIMIT ?) WHERE stored_at < ?",
        LOG_PRUNE_SCAN,
        now - SEEN_BATCH_RETENTION_MS,
      )
      .one().seq;
    const pruneUpTo = Math.min(expiredUpTo ?? 0, state.checkpointSeq);
    if (pruneUpTo > 0) sql.exec("DELETE FROM batch_log WHERE seq <= ? AND entry IS NULL", pruneUpTo);
    pruneTombstones(sql, now - SEEN_BATCH_RETENTION_MS);
    state.store.pruneOnline(now - ONLINE_SPAN_MS);
    const windowCutoff = now - WINDOW_RETENTION_MS;
    state.store.deleteEmittedWindowsBefore(windowCutoff);
    state.store.deleteDaysBefore(utcDay(now - DAY_RETENTION_MS));
  }

  /** True when it closed any (their rows are now in the outbox). */
  private closeIdleSessions(state: LoadedState, now: number): boolean {
    const idle = state.store.idleSessions(now - this.idleMs, MAX_SESSIONS_CLOSED_PER_ALARM);
    if (idle.length === 0) return false;
    state.liveChange += 1;
    const changes = new StateChanges(state.store, state.liveChange);
    for (const session of idle) this.closeSession(state, session, changes, now, true);
    changes.commit();
    return true;
  }

  /**
   * Emits a part for every window the watermark has passed whose counts are not all emitted.
   * `onTime` when a window sealed for the first time (its part 0): the flush's cue;
   * `emitted` when any part went to the outbox.
   */
  private sealWindows(state: LoadedState, now: number): { onTime: boolean; emitted: boolean } {
    const watermark = this.watermarkOf(state, now);
    let sealedOnTime = false;
    let emitted = false;
    for (const window of state.store.windowsNeedingPart(watermark - this.windowMs)) {
      const part = nextSealedPart(window, this.windowMs, watermark);
      if (part !== null) {
        const rows = windowMetricsRows(this.site(), this.windowSeconds, part);
        if (rows.length > 0) this.windowParts.enqueue(rows, now);
        recordEmittedPart(window, part);
        emitted = true;
        if (part.part === 0) sealedOnTime = true;
      }
      state.store.saveSealedWindow(window);
    }
    return { onTime: sealedOnTime, emitted };
  }

  /**
   * Drains the three outboxes when they are due (flush-schedule.ts flushDueAt), unless backing
   * off. A retryable failure doubles the persisted backoff (1 s → 60 s); the first success
   * clears it.
   */
  private async flush(now: number, windowSealed: boolean): Promise<void> {
    if (this.meta.number("retry_at") > now) return;
    const dueAt = this.flushDueAt(windowSealed);
    if (dueAt === null || dueAt > now) return;
    const context = { clickhouse: this.options.clickhouse, scope: this.tokenScope(), now };
    try {
      await this.events.drain(context, MAX_INSERTS_PER_QUEUE_PER_ALARM);
      await this.windowParts.drain(context, MAX_INSERTS_PER_QUEUE_PER_ALARM);
      await this.closedSessions.drain(context, MAX_INSERTS_PER_QUEUE_PER_ALARM);
      if (this.meta.number("backoff_ms") > 0) {
        this.storage.transactionSync(() => {
          this.meta.set("backoff_ms", 0);
          this.meta.set("retry_at", 0);
        });
      }
    } catch (error) {
      const backoff = nextBackoffMs(this.meta.number("backoff_ms"));
      const message = error instanceof Error ? error.message : String(error);
      this.storage.transactionSync(() => {
        this.meta.set("backoff_ms", backoff);
        this.meta.set("retry_at", this.now() + backoff);
        this.meta.set("last_flush_error", message.slice(0, 500));
        this.meta.count("flush_errors");
      });
      console.warn(`shard ${this.site()}:${this.shard()} flush failed, retrying in ${backoff} ms: ${message}`);
    }
  }

  private tokenScope(): TokenScope {
    return { site: this.site(), shard: this.shard(), epoch: this.meta.text("epoch") ?? "" };
  }

  /** When the pending rows are due for an insert (flush-schedule.ts), null when there are none. */
  private flushDueAt(windowSealed = false): number | null {
    const queues = [this.events, this.windowParts, this.closedSessions];
    const oldest = queues.map((queue) => queue.oldestStoredAt()).filter((at): at is number => at !== null);
    const newest = queues.map((queue) => queue.newestStoredAt()).filter((at): at is number => at !== null);
    return flushDueAt(
      {
        largestQueue: Math.max(...queues.map((queue) => queue.size)),
        windowSealed,
        oldestStoredAt: oldest.length === 0 ? null : Math.min(...oldest),
        newestStoredAt: newest.length === 0 ? null : Math.max(...newest),
      },
      this.flushPolicy,
    );
  }

  /**
   * After an ingest: make sure an alarm comes within FLUSH_INTERVAL_MS (or at the backoff's
   * retry time); at once when the events queue is full enough for an insert of its own, and
   * at once when a checkpoint is owed, even while a flush waits for its retry: the checkpoint
   * does not depend on ClickHouse, and the log to replay must stay within the cap in an outage.
   */
  private async armAlarm(now: number, flushNow = false, checkpointOwed = false): Promise<void> {
    const retryAt = this.meta.number("retry_at");
    const wanted = checkpointOwed ? now : retryAt > now ? retryAt : flushNow ? now : now + FLUSH_INTERVAL_MS;
    if (this.alarmAt === undefined) this.alarmAt = await this.storage.getAlarm();
    if (this.alarmAt === null || this.alarmAt > wanted) {
      await this.storage.setAlarm(wanted);
      this.alarmAt = wanted;
    }
  }

  /**
   * The next time anything is due: a flush (or its retry), a window's wall-clock seal, a
   * session's idle close, the online count's decay, a batch id's expiry. Nothing due → no
   * alarm: an idle shard costs nothing until its next batch.
   */
  private async scheduleNextAlarm(now: number): Promise<void> {
    const sql = this.storage.sql;
    const due: number[] = [];
    const state = this.stateTransaction((loaded) => loaded);
    const flushAt = this.flushDueAt();
    if (flushAt !== null) {
      // When the rows come due; rows still due after this pass (a drain cut at its insert cap) wait FLUSH_INTERVAL_MS.
      const retryAt = this.meta.number("retry_at");
      due.push(retryAt > now ? retryAt : flushAt > now ? flushAt : now + FLUSH_INTERVAL_MS);
    }
    const firstOpenWindow = state.store.firstWindowNeedingPart();
    if (firstOpenWindow !== null) due.push(wallClockSealTime(firstOpenWindow, this.windowMs, this.latenessMs));
    const firstLastSeen = state.store.firstSessionLastSeen();
    if (firstLastSeen !== null) due.push(firstLastSeen + this.idleMs + 1);
    if (this.onlineCount(state, now) > 0 || this.meta.number("live_sent_online") > 0) due.push(now + ONLINE_RECHECK_MS);
    if (state.liveChange > this.meta.number("live_sent_change")) due.push(now + FLUSH_INTERVAL_MS);
    if (state.batchesSinceCheckpoint >= this.checkpointMaxBatches) due.push(now);
    else if (state.batchesSinceCheckpoint > 0 || state.store.dirtySize > 0)
      due.push(this.meta.number("checkpoint_at") + CHECKPOINT_INTERVAL_MS);
    const firstSeen = sql
      .exec<{ stored_at: number | null }>("SELECT stored_at FROM batch_log ORDER BY seq LIMIT 1")
      .toArray()[0]?.stored_at;
    if (firstSeen !== undefined && firstSeen !== null) due.push(firstSeen + SEEN_BATCH_RETENTION_MS + 1);
    if (due.length === 0) return;
    const next = Math.max(Math.min(...due), now + 1);
    await this.storage.setAlarm(next);
    this.alarmAt = next;
  }

  // ---- live -----------------------------------------------------------------------------

  /**
   * Whether the batch changed a window that seals (wall clock) within the idle send interval.
   * The AlertEngine reads a window from the hub shortly after it seals
   * (alerts/evaluation-schedule.ts, EVALUATION_GRACE_MS), counting on a change made before the
   * seal to reach the hub within the fast interval: such a change is sent at the fast cadence
   * even while nobody watches.
   */
  private sealsWithinIdleInterval(batch: EnrichedBatch, now: number): boolean {
    let oldest = Number.POSITIVE_INFINITY;
    for (const event of batch.events) if (event.ts < oldest) oldest = event.ts;
    if (oldest === Number.POSITIVE_INFINITY) return false;
    const sealsAt = wallClockSealTime(windowStartOf(oldest, this.windowMs), this.windowMs, this.latenessMs);
    return sealsAt - now < LIVE_SEND_IDLE_INTERVAL_MS;
  }

  private onlineCount(state: LoadedState, now: number): number {
    return state.store.onlineCount(now - ONLINE_SPAN_MS);
  }

  /** Something the hub has not confirmed: changed windows or day, online count, a new day. */
  private liveSendOwed(now: number): boolean {
    if (this.meta.text("site") === null) return false;
    const state = this.stateTransaction((loaded) => loaded);
    return (
      state.liveChange > this.meta.number("live_sent_change") ||
      this.onlineCount(state, now) !== this.meta.number("live_sent_online") ||
      utcDay(now) !== this.meta.text("live_sent_day")
    );
  }

  /** Oldest window start the hub still keeps (merged-shards.ts retentionStart). */
  private liveRetentionStart(now: number): number {
    return windowStartOf(now, this.windowMs) - (MAX_HUB_WINDOWS - 1) * this.windowMs;
  }

  /** Plain objects only (plain-data.ts): it crosses RPC to the hub. Run inside a state transaction. */
  private buildState(state: LoadedState, now: number, windows: WindowState[]): ShardLiveState {
    return { ...this.sendFields(state, now, windows), today: this.todayPartial(state, utcDay(now)) };
  }

  /** What every send carries besides today. */
  private sendFields(state: LoadedState, now: number, windows: WindowState[]): Omit<ShardLiveState, "today"> {
    return {
      site: this.site(),
      shard: this.shard(),
      seq: this.meta.add("live_seq", 1),
      at: now,
      windows: windows.map((window) => this.windowPartial(window)),
      online: this.onlineCount(state, now),
    };
  }

  /**
   * The send's today: a delta of the base the hub confirmed (live-day-delta.ts) when there is
   * one for this store and day, else the whole day. The change notes are taken either way, so
   * the next delta starts from this send. Run inside a state transaction.
   */
  private buildSend(state: LoadedState, now: number, windows: WindowState[]): BuiltSend {
    const day = utcDay(now);
    const changed = state.store.takeLiveDayChanges(day);
    const base = this.dayBase;
    if (base !== null && base.store === state.store && base.day === day) {
      const { delta, keys } = buildDayDelta(state.store.loadDay(day) ?? emptyDayAccumulator(day), base.keys, changed);
      const send: ShardLiveDelta = { ...this.sendFields(state, now, windows), base_seq: base.seq, today_delta: delta };
      return { send, base: { store: state.store, day, seq: send.seq, keys } };
    }
    const send = this.buildState(state, now, windows);
    return { send, base: { store: state.store, day, seq: send.seq, keys: reportedKeys(send.today) } };
  }

  /** A window's counts and each window job's report, as plain data. */
  private windowPartial(window: WindowState): WindowPartial {
    const partial: WindowPartial = {
      start: window.start,
      end: window.start + this.windowMs,
      counts: toMetricCounts(window.total.counters),
      jobs: emptyRecord(),
    };
    reportJobMaps(WINDOW_JOBS, window.total.maps, partial);
    return toPlainData(partial);
  }

  /**
   * Today's DayPartial, built again only when the day's accumulator was written since the
   * last build (the store's dayVersion): re-sends for the online count and window-only
   * changes reuse it. A copy (toPlainData), so later in-place changes to the cached
   * accumulator never reach a partial already built; nobody changes a built partial.
   */
  private todayPartial(state: LoadedState, day: string): DayPartial {
    const dayVersion = state.store.dayVersion;
    const built = this.builtToday;
    if (built !== null && built.day === day && built.dayVersion === dayVersion) return built.partial;
    const partial = toPlainData(toDayPartial(state.store.loadDay(day) ?? emptyDayAccumulator(day)));
    this.builtToday = { day, dayVersion, partial };
    return partial;
  }

  /**
   * The shard's full current state (recent windows, today, online), for a hub rebuilding
   * itself; null for a shard that has never had a batch (it has nothing to report).
   */
  liveState(): ShardLiveState | null {
    if (this.meta.text("site") === null) return null;
    const now = this.now();
    return this.stateTransaction((state) => {
      const windows = state.store.windowsAt(
        state.store.recentWindowStarts(this.liveRetentionStart(now), MAX_HUB_WINDOWS),
      );
      return this.buildState(state, now, windows);
    });
  }

  /**
   * One coalesced send: the windows changed since the last confirmed send (by live-change
   * number), today and online. Marks are advanced only after the hub accepted it, so a failed
   * or lost send is repeated by the next one. Never throws: the hub is best effort.
   */
  private async sendLiveState(): Promise<void> {
    const now = this.now();
    if (this.meta.text("site") === null) return;
    const built = this.stateTransaction((state) => {
      const sentChange = this.meta.number("live_sent_change");
      const currentChange = state.liveChange;
      const rows = state.store.windowsChangedAfter(sentChange, this.liveRetentionStart(now), MAX_WINDOWS_PER_STATE);
      // When capped, windows sharing the last change number may be cut: leave that number owed.
      const last = rows[rows.length - 1];
      const confirmsUpTo =
        rows.length === MAX_WINDOWS_PER_STATE && last !== undefined ? last.liveChange - 1 : currentChange;
      return { ...this.buildSend(state, now, state.store.windowsAt(rows.map((row) => row.start))), confirmsUpTo };
    });
    // No base until the hub says it holds this send's: a failed send is followed by a full one.
    this.dayBase = null;
    const { send } = built;
    let answer: HubAnswer | undefined;
    try {
      answer = await this.options.sendToHub(send);
      this.hubWatched = answer?.watched ?? true;
    } catch (error) {
      this.meta.count("live_send_errors");
      console.warn(
        `shard ${send.site}:${send.shard} live send failed: ${error instanceof Error ? error.message : String(error)}`,
      );
      return;
    }
    const dayHeld = answer?.dayBase === true;
    if (dayHeld) this.dayBase = built.base;
    this.storage.transactionSync(() => {
      this.meta.set("live_sent_change", Math.max(this.meta.number("live_sent_change"), built.confirmsUpTo));
      this.meta.set("live_sent_online", send.online);
      // A refused delta left the hub's day behind: owed (liveSendOwed) until a full send lands.
      this.meta.set("live_sent_day", dayHeld || !isLiveDelta(send) ? built.base.day : "");
      this.meta.count("live_sends");
    });
    if (!dayHeld && isLiveDelta(send)) this.live.request();
  }

  // ---- stats ----------------------------------------------------------------------------

  stats(): ShardStats {
    const now = this.now();
    const state = this.stateTransaction((loaded) => loaded);
    const counters = readCounters(this.meta);
    for (const [name, by] of state.counts) if (name in counters) counters[name as keyof typeof counters] += by;
    const oldestEvent = this.events.oldestStoredAt();
    const oldest = [oldestEvent, this.windowParts.oldestStoredAt(), this.closedSessions.oldestStoredAt()].filter(
      (at): at is number => at !== null,
    );
    const lastFlush = this.meta.number("last_flush_at");
    const site = this.meta.text("site");
    return {
      site,
      shard: site === null ? null : this.shard(),
      counters,
      pending: { events: this.events.size, window_parts: this.windowParts.size, sessions: this.closedSessions.size },
      open_sessions: state.store.openSessionCount,
      unsealed_windows: state.store.unsealedWindowCount(),
      last_flush_at: lastFlush > 0 ? lastFlush : null,
      flush_lag_ms: oldest.length === 0 ? 0 : Math.max(0, now - Math.min(...oldest)),
      oldest_pending_event_age_ms: oldestEvent === null ? 0 : Math.max(0, now - oldestEvent),
      max_pending_events: this.options.maxPendingEvents ?? MAX_PENDING_EVENTS,
      backoff_ms: this.meta.number("backoff_ms"),
      watermark: this.watermarkOf(state, now),
    };
  }
}

/** Only the fields that shape the state (the config passed in may carry more). */
function settingsOf(settings: ShardSettings): ShardSettings {
  return {
    windowSeconds: settings.windowSeconds,
    allowedLatenessSeconds: settings.allowedLatenessSeconds,
    sessionIdleMinutes: settings.sessionIdleMinutes,
  };
}

function sameSettings(a: ShardSettings, b: ShardSettings): boolean {
  return (
    a.windowSeconds === b.windowSeconds &&
    a.allowedLatenessSeconds === b.allowedLatenessSeconds &&
    a.sessionIdleMinutes === b.sessionIdleMinutes
  );
}

/** The engine's memory state: keyed state plus what the log replay and checkpoints need. */
interface LoadedState {
  store: ShardStateStore;
  /** storagePosition() as this state last left storage; another value means someone else wrote. */
  seen: string;
  /** Seq of the newest log row (or the checkpoint's, if pruning emptied the log): the next row gets one more. */
  lastSeq: number;
  /** Log rows up to this seq are in the checkpoint. */
  checkpointSeq: number;
  liveChange: number;
  maxEventTs: number | null;
  /** Log-derived counters since the checkpoint. */
  counts: Map<string, number>;
  batchesSinceCheckpoint: number;
  /** False while the running transaction has only read memory: if it throws, memory is kept. */
  memoryTouched: boolean;
}

/**
 * Whether the shard's batch log holds `batchId`: "held" with the same events (or either digest
 * unknown: a row from before digests were kept, a caller without one, matches any events, as
 * every row did then), "conflict" with other events, null when it does not hold it.
 */
function heldBatch(sql: SqlStorage, batchId: string, digest: string | null): "held" | "conflict" | null {
  const row = sql
    .exec<{ digest: string | null }>("SELECT digest FROM batch_log WHERE batch_id = ?", batchId)
    .toArray()[0];
  if (row === undefined) return null;
  return digest === null || row.digest === null || row.digest === digest ? "held" : "conflict";
}

/** A base the hub may confirm: built with the send, taken when the hub says it holds it. */
interface DayBase {
  /** The store whose change notes the next delta reads: a rebuilt memory state has other notes. */
  store: ShardStateStore;
  day: string;
  seq: number;
  keys: ReadonlyMap<string, ReadonlySet<string>>;
}

interface BuiltSend {
  send: ShardLiveSend;
  base: DayBase;
}

/** A log row's `entry`: the batch as accepted and the session ids it created, in order. */
interface LogEntry {
  batch: EnrichedBatch;
  sessions: string[];
}

type SessionIds = { created: string[] } | { sessionIds: readonly string[] };
