/**
 * Everything an IngestShard does, over its SQLite storage, with the clock, ClickHouse and the
 * LiveHub passed in, so tests can drive it with a fake clock or a broken ClickHouse while the
 * Durable Object class stays a thin transport shell.
 *
 * Invariants:
 * - A batch is applied in ONE transaction (dedup id, events, windows, sessions, day) or not at
 *   all, so a retried batch is counted once and a crash never leaves half a batch.
 * - Memory holds nothing that storage does not: the object may be evicted at any moment. The
 *   parsed windows and days kept between batches are a write-through cache of storage
 *   (shard-state-store.ts): filled only from storage, written in the same transaction as
 *   every change, dropped when a transaction throws or storage's `state_version` is not the
 *   one this engine last wrote.
 * - The alarm is idempotent (at-least-once delivery): sealing emits only what no part holds
 *   yet, closing removes the session it emits, flushing deletes only acknowledged rows. It
 *   sets the next alarm last, so an alarm that throws is retried by the runtime.
 */
import type { ClickHouse } from "../clickhouse/client";
import { toEventRow, type EventRow } from "../clickhouse/rows";
import type { EnrichedBatch, EnrichedEvent, IngestAdmission, IngestOutcome } from "../protocol";
import { CoalescedSender } from "./coalesced-sender";
import {
  addAbandonedCartToDay,
  addBounceToDay,
  addEventToDay,
  dayOf,
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
  type TokenScope,
} from "./flush-plan";
import { FlushQueue } from "./flush-queue";
import type { DayPartial, ShardLiveState, WindowPartial } from "./live-delta";
import {
  applyEventToSession,
  chooseSession,
  isAbandonedCart,
  isBounce,
  newSessionState,
  toSessionRow,
  type SessionState,
} from "./session-state";
import { toPlainData } from "./plain-data";
import { ShardAdmission } from "./shard-admission";
import { migrateShardSchema } from "./shard-schema";
import { ShardMeta } from "./shard-meta";
import { readCounters, type ShardStats } from "./shard-stats";
import { MEMBER_SESSION, MEMBER_VISITOR, ShardStateStore, StateChanges } from "./shard-state-store";
import { largestJobCounts } from "./jobs/job-counts";
import { addEventToWindow, toMetricCounts, WINDOW_MAP_CAP } from "./window-aggregate";
import { nextSealedPart, recordEmittedPart, windowMetricsRows, type WindowState } from "./window-sealing";
import { isWindowSealedBy, wallClockSealTime, watermarkOf, windowStartOf } from "./watermark";

/** Backpressure: past this many unflushed events a shard refuses batches (503 + Retry-After). */
export const MAX_PENDING_EVENTS = 100_000;
/** Batch ids are remembered at least this long (SDK retries happen within minutes)… */
export const SEEN_BATCH_RETENTION_MS = 24 * 3600 * 1000;
/** …and at most this many, oldest dropped first, so a flood of batches cannot fill storage. */
export const MAX_SEEN_BATCHES = 500_000;
/**
 * Alarm period while anything waits for ClickHouse. The alarm checks; it inserts only when
 * flush-plan.ts flushDueAt says a flush is due (size, age, quiet, sealing), so events land
 * within a second or two while inserts stay large.
 */
export const FLUSH_INTERVAL_MS = 1_000;
/** At most one live send per this interval. */
export const LIVE_SEND_INTERVAL_MS = 250;
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
/** Windows the hub keeps (hub-state.ts MAX_HUB_WINDOWS): older ones are not sent. */
export const LIVE_WINDOWS = 360;
/** The hub refuses a state with more windows than this (shard-live-state-schema.ts). */
export const MAX_WINDOWS_PER_SEND = 1_000;
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
  /** Sends the shard's live state to its site's LiveHub. */
  sendToHub: (state: ShardLiveState) => Promise<void>;
  now?: () => number;
  newSessionId?: () => string;
  /** Backpressure bound; MAX_PENDING_EVENTS unless a test needs a small one. */
  maxPendingEvents?: number;
}

export class ShardEngine {
  private readonly storage: DurableObjectStorage;
  private readonly meta: ShardMeta;
  private readonly store: ShardStateStore;
  private readonly events: FlushQueue<"events">;
  private readonly windowParts: FlushQueue<"window_metrics">;
  private readonly closedSessions: FlushQueue<"sessions">;
  private readonly live: CoalescedSender;
  private readonly admission: ShardAdmission;
  private readonly maxPendingEvents: number;
  private readonly windowMs: number;
  private readonly latenessMs: number;
  private readonly idleMs: number;
  private readonly flushPolicy: FlushPolicy;
  private readonly now: () => number;
  private readonly newSessionId: () => string;
  /** Cache of the scheduled alarm time; undefined until read once from storage. */
  private alarmAt: number | null | undefined = undefined;
  /** `state_version` in storage as this engine last saw or wrote it; the store's cache is valid only while they match. */
  private cacheVersion: number | null = null;
  /** The last DayPartial built for a live send, reused while the day has not changed. */
  private builtToday: { day: string; dayVersion: number; partial: DayPartial } | null = null;

  constructor(private readonly options: ShardEngineOptions) {
    this.storage = options.storage;
    this.now = options.now ?? Date.now;
    this.newSessionId = options.newSessionId ?? (() => `s-${crypto.randomUUID()}`);
    this.windowMs = options.settings.windowSeconds * 1000;
    this.latenessMs = options.settings.allowedLatenessSeconds * 1000;
    this.idleMs = options.settings.sessionIdleMinutes * 60 * 1000;
    this.flushPolicy = flushPolicy(this.windowMs);
    this.maxPendingEvents = options.maxPendingEvents ?? MAX_PENDING_EVENTS;
    this.admission = new ShardAdmission(this.maxPendingEvents);
    const sql = this.storage.sql;
    this.meta = new ShardMeta(sql);
    this.store = new ShardStateStore(sql);
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
    // Coalescing is about real time (timers), so it keeps the real clock even under a test clock.
    this.live = new CoalescedSender(() => this.sendLiveState(), LIVE_SEND_INTERVAL_MS);
  }

  // ---- ingest ---------------------------------------------------------------------------

  /**
   * `admission` carries the client's key and this shard's share of the site's rate (see
   * shard-admission.ts); null (tools, tests of the engine alone) applies neither.
   */
  async ingest(batch: EnrichedBatch, admission: IngestAdmission | null = null): Promise<IngestOutcome> {
    const now = this.now();
    const outcome = this.stateTransaction("write", () => this.applyBatch(batch, admission, now));
    // Overloaded too: the backlog it refused for must keep draining.
    if (outcome.status !== "duplicate") await this.armAlarm(now, this.events.size >= FLUSH_MIN_ENTRIES);
    if (outcome.status === "accepted") this.live.request();
    return outcome;
  }

  /**
   * A transaction over the shard's state that may use the store's cache of parsed windows
   * and days. `state_version` (in storage) is bumped by every writing transaction; if it is
   * not the value this engine last saw, someone else changed storage (another engine over
   * the same storage, a restored copy) and the cache is dropped before anything reads it.
   * If the transaction throws, storage rolls back but objects changed in place in the cache
   * do not: the cache is dropped, so the next transaction re-reads storage.
   */
  private stateTransaction<T>(mode: "read" | "write", work: () => T): T {
    try {
      return this.storage.transactionSync(() => {
        const stored = this.meta.number("state_version");
        if (stored !== this.cacheVersion) this.store.dropCache();
        this.cacheVersion = stored;
        if (mode === "write") {
          this.meta.set("state_version", stored + 1);
          this.cacheVersion = stored + 1;
        }
        return work();
      });
    } catch (error) {
      this.store.dropCache();
      this.cacheVersion = null;
      throw error;
    }
  }

  private applyBatch(batch: EnrichedBatch, admission: IngestAdmission | null, now: number): IngestOutcome {
    const sql = this.storage.sql;
    if (sql.exec("SELECT 1 FROM seen_batches WHERE batch_id = ?", batch.batch_id).toArray().length > 0) {
      this.meta.count("duplicate_batches");
      return { status: "duplicate" };
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
    sql.exec("INSERT INTO seen_batches (batch_id, seen_at) VALUES (?, ?)", batch.batch_id, now);
    this.meta.add("seen_batches", 1);

    // Lateness is judged against the watermark before this batch moves it.
    const watermark = this.watermark(now);
    const changes = new StateChanges(this.store, this.meta.add("live_change", 1));
    // Event-time order, so session assignment sees a visitor's events as they happened.
    const ordered = batch.events
      .map((event, index) => ({ event, index }))
      .sort((a, b) => a.event.ts - b.event.ts || a.index - b.index);
    let maxTs = Number.NEGATIVE_INFINITY;
    let late = 0;
    const eventRows: EventRow[][] = [];
    for (const { event } of ordered) {
      maxTs = Math.max(maxTs, event.ts);
      const session = this.sessionOf(batch, event, changes, now);
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
      const day = dayOf(event.ts);
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
    this.events.enqueueAll(eventRows, now);
    if (admission !== null)
      this.admission.accepted(admission.client_key, admission.site_budget, eventRows.length, this.events.lastSeq, now);

    if (ordered.length > 0) {
      this.meta.set("max_event_ts", Math.max(this.meta.number("max_event_ts", maxTs), maxTs));
      // A batch of old queued events does not make its visitor "online".
      sql.exec(
        "INSERT INTO online_visitors (visitor_id, last_active) VALUES (?, ?) ON CONFLICT (visitor_id) DO UPDATE SET last_active = max(last_active, excluded.last_active)",
        batch.visitor_id,
        Math.min(maxTs, now),
      );
    }
    this.meta.count("ingested_batches");
    this.meta.count("ingested_events", batch.events.length);
    this.meta.count("late_events", late);
    return { status: "accepted", accepted: batch.events.length };
  }

  /** The session an event belongs to (session-state.ts has the rules). */
  private sessionOf(batch: EnrichedBatch, event: EnrichedEvent, changes: StateChanges, now: number): SessionState {
    if (batch.session_id !== null) {
      return (
        changes.session(batch.session_id) ??
        changes.addSession(newSessionState(batch.session_id, false, batch, event.ts))
      );
    }
    const open = changes.latestAssignedSession(batch.visitor_id);
    const choice = chooseSession(open, event.ts, this.idleMs);
    if (choice.kind === "join" && open !== null) return open;
    if (choice.kind === "new" && choice.supersedes && open !== null) this.closeSession(open, changes, now);
    return changes.addSession(newSessionState(this.newSessionId(), true, batch, event.ts));
  }

  /**
   * Ends a session: its row waits for ClickHouse, a bounce counts in the window (and day) it
   * started in, and an abandoned cart counts on the day it closed.
   */
  private closeSession(session: SessionState, changes: StateChanges, now: number): void {
    this.closedSessions.enqueue([toSessionRow(this.site(), this.shard(), session)], now);
    if (isBounce(session)) {
      changes.window(windowStartOf(session.started_at, this.windowMs)).total.counters.bounces += 1;
      addBounceToDay(changes.day(dayOf(session.started_at)));
    }
    if (isAbandonedCart(session)) addAbandonedCartToDay(changes.day(dayOf(now)), session.cart_units);
    changes.closeSession(session.session_id);
    this.meta.count("sessions_closed");
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
    const max = this.meta.text("max_event_ts");
    return watermarkOf({
      maxEventTs: max === null ? null : Number(max),
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
    const windowSealed = this.stateTransaction("write", () => {
      this.pruneExpired(now);
      // Before sealing, so bounces of sessions closing now are in this pass's parts.
      this.closeIdleSessions(now);
      return this.sealWindows(now);
    });
    await this.flush(now, windowSealed);
    if (this.liveSendOwed(this.now())) await this.live.sendNow();
    await this.scheduleNextAlarm(this.now());
  }

  private pruneExpired(now: number): void {
    const sql = this.storage.sql;
    const expired = sql
      .exec<{ n: number }>("SELECT count(*) AS n FROM seen_batches WHERE seen_at < ?", now - SEEN_BATCH_RETENTION_MS)
      .one().n;
    if (expired > 0) sql.exec("DELETE FROM seen_batches WHERE seen_at < ?", now - SEEN_BATCH_RETENTION_MS);
    let remembered = this.meta.add("seen_batches", -expired);
    if (remembered > MAX_SEEN_BATCHES) {
      sql.exec(
        "DELETE FROM seen_batches WHERE batch_id IN (SELECT batch_id FROM seen_batches ORDER BY seen_at LIMIT ?)",
        remembered - MAX_SEEN_BATCHES,
      );
      remembered = MAX_SEEN_BATCHES;
      this.meta.set("seen_batches", remembered);
    }
    sql.exec("DELETE FROM online_visitors WHERE last_active <= ?", now - ONLINE_SPAN_MS);
    const windowCutoff = now - WINDOW_RETENTION_MS;
    this.store.deleteEmittedWindowsBefore(windowCutoff);
    sql.exec("DELETE FROM window_members WHERE window_start < ?", windowCutoff);
    const dayCutoff = dayOf(now - DAY_RETENTION_MS);
    this.store.deleteDaysBefore(dayCutoff);
    sql.exec("DELETE FROM day_members WHERE day < ?", dayCutoff);
    this.store.forgetBefore(windowCutoff, dayCutoff);
  }

  private closeIdleSessions(now: number): void {
    const idle = this.store.idleSessions(now - this.idleMs, MAX_SESSIONS_CLOSED_PER_ALARM);
    if (idle.length === 0) return;
    const changes = new StateChanges(this.store, this.meta.add("live_change", 1));
    for (const session of idle) this.closeSession(session, changes, now);
    changes.commit();
  }

  /**
   * Emits a part for every window the watermark has passed whose counts are not all emitted.
   * True when a window sealed for the first time (its part 0): the flush's cue.
   */
  private sealWindows(now: number): boolean {
    const watermark = this.watermark(now);
    let sealedOnTime = false;
    for (const window of this.store.windowsNeedingPart(watermark - this.windowMs)) {
      const part = nextSealedPart(window, this.windowMs, watermark);
      if (part !== null) {
        const rows = windowMetricsRows(this.site(), this.options.settings.windowSeconds, part);
        if (rows.length > 0) this.windowParts.enqueue(rows, now);
        recordEmittedPart(window, part);
        if (part.part === 0) sealedOnTime = true;
      }
      this.store.saveSealedWindow(window);
    }
    return sealedOnTime;
  }

  /**
   * Drains the three outboxes when they are due (flush-plan.ts flushDueAt), unless backing
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

  /** When the pending rows are due for an insert (flush-plan.ts), null when there are none. */
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
   * retry time); at once when the events queue is full enough for an insert of its own.
   */
  private async armAlarm(now: number, flushNow = false): Promise<void> {
    const retryAt = this.meta.number("retry_at");
    const wanted = retryAt > now ? retryAt : flushNow ? now : now + FLUSH_INTERVAL_MS;
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
    const flushAt = this.flushDueAt();
    if (flushAt !== null) {
      // When the rows come due; rows still due after this pass (a drain cut at its insert cap) wait FLUSH_INTERVAL_MS.
      const retryAt = this.meta.number("retry_at");
      due.push(retryAt > now ? retryAt : flushAt > now ? flushAt : now + FLUSH_INTERVAL_MS);
    }
    const firstOpenWindow = sql
      .exec<{ start: number | null }>("SELECT min(start) AS start FROM windows WHERE needs_part = 1")
      .one().start;
    if (firstOpenWindow !== null) due.push(wallClockSealTime(firstOpenWindow, this.windowMs, this.latenessMs));
    const firstLastSeen = sql
      .exec<{ last_seen: number | null }>("SELECT min(last_seen) AS last_seen FROM open_sessions")
      .one().last_seen;
    if (firstLastSeen !== null) due.push(firstLastSeen + this.idleMs + 1);
    if (this.onlineCount(now) > 0 || this.meta.number("live_sent_online") > 0) due.push(now + ONLINE_RECHECK_MS);
    if (this.meta.number("live_change") > this.meta.number("live_sent_change")) due.push(now + FLUSH_INTERVAL_MS);
    const firstSeen = sql
      .exec<{ seen_at: number | null }>("SELECT min(seen_at) AS seen_at FROM seen_batches")
      .one().seen_at;
    if (firstSeen !== null) due.push(firstSeen + SEEN_BATCH_RETENTION_MS + 1);
    if (due.length === 0) return;
    const next = Math.max(Math.min(...due), now + 1);
    await this.storage.setAlarm(next);
    this.alarmAt = next;
  }

  // ---- live -----------------------------------------------------------------------------

  private onlineCount(now: number): number {
    return this.storage.sql
      .exec<{ n: number }>("SELECT count(*) AS n FROM online_visitors WHERE last_active > ?", now - ONLINE_SPAN_MS)
      .one().n;
  }

  /** Something the hub has not confirmed: changed windows or day, online count, a new day. */
  private liveSendOwed(now: number): boolean {
    if (this.meta.text("site") === null) return false;
    return (
      this.meta.number("live_change") > this.meta.number("live_sent_change") ||
      this.onlineCount(now) !== this.meta.number("live_sent_online") ||
      dayOf(now) !== this.meta.text("live_sent_day")
    );
  }

  /** Oldest window start the hub still keeps (hub-state.ts retentionStart). */
  private liveRetentionStart(now: number): number {
    return windowStartOf(now, this.windowMs) - (LIVE_WINDOWS - 1) * this.windowMs;
  }

  /** Plain objects only (plain-data.ts): it crosses RPC to the hub. Run inside a state transaction. */
  private buildState(now: number, windows: WindowState[]): ShardLiveState {
    return {
      site: this.site(),
      shard: this.shard(),
      seq: this.meta.add("live_seq", 1),
      at: now,
      windows: windows.map(
        (window): WindowPartial => ({
          start: window.start,
          end: window.start + this.windowMs,
          counts: toPlainData(toMetricCounts(window.total.counters)),
          jobs: toPlainData(largestJobCounts(window.total.jobs, WINDOW_MAP_CAP)),
        }),
      ),
      today: this.todayPartial(dayOf(now)),
      online: this.onlineCount(now),
    };
  }

  /**
   * Today's DayPartial, built again only when the day's accumulator was written since the
   * last build (the store's dayVersion): re-sends for the online count and window-only
   * changes reuse it. A copy (toPlainData), so later in-place changes to the cached
   * accumulator never reach a partial already built; nobody changes a built partial.
   */
  private todayPartial(day: string): DayPartial {
    const dayVersion = this.store.dayVersion;
    const built = this.builtToday;
    if (built !== null && built.day === day && built.dayVersion === dayVersion) return built.partial;
    const partial = toPlainData(toDayPartial(this.store.loadDay(day) ?? emptyDayAccumulator(day)));
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
    return this.stateTransaction("read", () => {
      const windows = this.store.windowsAt(
        this.storage.sql
          .exec<{ start: number }>(
            "SELECT start FROM windows WHERE start >= ? ORDER BY start DESC LIMIT ?",
            this.liveRetentionStart(now),
            LIVE_WINDOWS,
          )
          .toArray(),
      );
      return this.buildState(now, windows);
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
    const built = this.stateTransaction("read", () => {
      const sentChange = this.meta.number("live_sent_change");
      const currentChange = this.meta.number("live_change");
      const rows = this.storage.sql
        .exec<{ start: number; live_change: number }>(
          "SELECT start, live_change FROM windows WHERE live_change > ? AND start >= ? ORDER BY live_change, start LIMIT ?",
          sentChange,
          this.liveRetentionStart(now),
          MAX_WINDOWS_PER_SEND,
        )
        .toArray();
      // When capped, windows sharing the last change number may be cut: leave that number owed.
      const last = rows[rows.length - 1];
      const confirmsUpTo =
        rows.length === MAX_WINDOWS_PER_SEND && last !== undefined ? last.live_change - 1 : currentChange;
      return { state: this.buildState(now, this.store.windowsAt(rows)), confirmsUpTo };
    });
    try {
      await this.options.sendToHub(built.state);
    } catch (error) {
      this.meta.count("live_send_errors");
      console.warn(
        `shard ${built.state.site}:${built.state.shard} live send failed: ${error instanceof Error ? error.message : String(error)}`,
      );
      return;
    }
    this.storage.transactionSync(() => {
      this.meta.set("live_sent_change", Math.max(this.meta.number("live_sent_change"), built.confirmsUpTo));
      this.meta.set("live_sent_online", built.state.online);
      this.meta.set("live_sent_day", built.state.today.day);
      this.meta.count("live_sends");
    });
  }

  // ---- stats ----------------------------------------------------------------------------

  stats(): ShardStats {
    const now = this.now();
    const sql = this.storage.sql;
    const oldestEvent = this.events.oldestStoredAt();
    const oldest = [oldestEvent, this.windowParts.oldestStoredAt(), this.closedSessions.oldestStoredAt()].filter(
      (at): at is number => at !== null,
    );
    const lastFlush = this.meta.number("last_flush_at");
    const site = this.meta.text("site");
    return {
      site,
      shard: site === null ? null : this.shard(),
      counters: readCounters(this.meta),
      pending: { events: this.events.size, window_parts: this.windowParts.size, sessions: this.closedSessions.size },
      open_sessions: sql.exec<{ n: number }>("SELECT count(*) AS n FROM open_sessions").one().n,
      unsealed_windows: sql.exec<{ n: number }>("SELECT count(*) AS n FROM windows WHERE needs_part = 1").one().n,
      last_flush_at: lastFlush > 0 ? lastFlush : null,
      flush_lag_ms: oldest.length === 0 ? 0 : Math.max(0, now - Math.min(...oldest)),
      oldest_pending_event_age_ms: oldestEvent === null ? 0 : Math.max(0, now - oldestEvent),
      max_pending_events: this.options.maxPendingEvents ?? MAX_PENDING_EVENTS,
      backoff_ms: this.meta.number("backoff_ms"),
      watermark: this.watermark(now),
    };
  }
}
