/**
 * SQLite persistence of the shard's windows, days, sessions and distinct-member sets, and
 * `StateChanges`: the unit of work of one transaction. It loads each touched window, day
 * and session once, lets the pure modules change them in memory, and writes every touched
 * one back at `commit()`; the caller runs all of it inside `transactionSync`, so a batch is
 * applied entirely or not at all.
 *
 * Windows and days are also kept parsed in memory between transactions (a write-through
 * cache): parsing the day accumulator for every batch cost more than everything else the
 * shard does. Storage stays the truth. The cache is only ever filled from storage or from
 * what was just written to it, every change is still written in the transaction that made
 * it, and the caller drops the cache (`dropCache`) when a transaction throws (its in-place
 * changes were rolled back in storage but not in memory) or when storage was changed by
 * someone else (ShardEngine checks a version number kept in storage). An evicted object
 * simply starts with an empty cache.
 */
import type { DayAccumulator, PageVitals } from "./day-aggregate";
import { emptyDayAccumulator } from "./day-aggregate";
import { emptyJobCounts, type JobCounts } from "./jobs/job-counts";
import { jobMapName } from "./jobs/keyed-count-job";
import { KEYED_COUNT_JOBS } from "./jobs/registered-jobs";
import { emptyRecord, parseWithSafeRecords } from "./safe-record";
import { restoredSessionState, type SessionState } from "./session-state";
import { trackChanges, MapEntryRows, type MapChanges } from "./map-entries";
import type { QuantileSketch } from "./quantile-sketch";
import { emptyWindowAggregate, type ProductCounts } from "./window-aggregate";
import { newWindowState, type WindowState } from "./window-sealing";

/** Kinds of distinct members counted per window and per day. */
export const MEMBER_VISITOR = 0;
export const MEMBER_SESSION = 1;
type MemberKind = typeof MEMBER_VISITOR | typeof MEMBER_SESSION;

/** The maps of a day and of a window kept as rows (map-entries.ts); the rest stays one small JSON row. */
const BUILT_IN_DAY_MAPS = ["pages", "referrers", "products", "vitals"] as const;
/** Each keyed-count job's map is stored beside them as `job:<name>` (jobs/keyed-count-job.ts). */
const DAY_MAPS: readonly string[] = [...BUILT_IN_DAY_MAPS, ...KEYED_COUNT_JOBS.map(jobMapName)];
const BUILT_IN_WINDOW_MAPS = ["pages", "products", "vitals"] as const;
const WINDOW_MAPS: readonly string[] = [...BUILT_IN_WINDOW_MAPS, ...KEYED_COUNT_JOBS.map(jobMapName)];
type DayMap = string;
type WindowMap = string;

/** Parsed windows kept in memory (the recent ones: a batch touches the current one or two). */
export const MAX_CACHED_WINDOWS = 64;
/** Parsed day accumulators kept in memory (today and the late days DAY_RETENTION_MS allows). */
export const MAX_CACHED_DAYS = 4;

/** A bounded map that forgets the least recently used entry first. */
class RecentlyUsed<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(private readonly capacity: number) {}

  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      // Re-inserted: Map iteration order is insertion order, so the first key is the least recent.
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
  }

  deleteWhere(test: (key: K) => boolean): void {
    for (const key of [...this.entries.keys()]) if (test(key)) this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}

function changeSet(changes: MapChanges<string>, map: string): Set<string> {
  const set = changes[map];
  if (set === undefined) throw new Error(`no change set for map ${map}`);
  return set;
}

/** Each job's counts behind a Proxy recording changed keys into its map's change set. */
function trackedJobs(jobs: JobCounts, changes: MapChanges<string>): JobCounts {
  const tracked = emptyRecord<Record<string, number>>();
  for (const job of KEYED_COUNT_JOBS)
    tracked[job.name] = trackChanges(jobs[job.name] ?? emptyRecord<number>(), changeSet(changes, jobMapName(job)));
  return tracked;
}

/** Job maps keyed by their stored map names (`job:<name>`), the same objects. */
function jobRecords(jobs: JobCounts): JobCounts {
  const records = emptyRecord<Record<string, number>>();
  for (const job of KEYED_COUNT_JOBS) {
    const counts = jobs[job.name];
    if (counts !== undefined) records[jobMapName(job)] = counts;
  }
  return records;
}

export class ShardStateStore {
  private readonly windowCache = new RecentlyUsed<number, WindowState>(MAX_CACHED_WINDOWS);
  private readonly dayCache = new RecentlyUsed<string, DayAccumulator>(MAX_CACHED_DAYS);
  /** Entries changed since each cached day / window was last written (by object, so an LRU eviction cannot lose them). */
  private readonly dayChanges = new WeakMap<DayAccumulator, MapChanges<DayMap>>();
  private readonly windowChanges = new WeakMap<WindowState, MapChanges<WindowMap>>();
  private readonly dayEntries: MapEntryRows<DayMap>;
  private readonly windowEntries: MapEntryRows<WindowMap>;
  /** Bumped whenever a day is written or the cache dropped: lets a reader cache what it derives from a day. */
  private dayWrites = 0;

  constructor(private readonly sql: SqlStorage) {
    this.dayEntries = new MapEntryRows(sql, "day_entries", "day", DAY_MAPS);
    this.windowEntries = new MapEntryRows(sql, "window_entries", "window_start", WINDOW_MAPS);
  }

  /** Forgets every parsed window and day: the next read parses them from storage again. */
  dropCache(): void {
    this.windowCache.clear();
    this.dayCache.clear();
    this.dayWrites += 1;
  }

  /** Changes whenever a day accumulator may have changed (see dayWrites). */
  get dayVersion(): number {
    return this.dayWrites;
  }

  /** After windows and days were deleted from storage (retention). */
  forgetBefore(windowStart: number, day: string): void {
    this.windowCache.deleteWhere((start) => start < windowStart);
    this.dayCache.deleteWhere((cached) => cached < day);
  }

  /** The window's state; the object is the cached one, so change it only inside a transaction that saves it. */
  loadWindow(start: number): WindowState | null {
    const cached = this.windowCache.get(start);
    if (cached !== undefined) return cached;
    const row = this.sql.exec<{ state: string }>("SELECT state FROM windows WHERE start = ?", start).toArray()[0];
    if (row === undefined) return null;
    const stored = parseWithSafeRecords<WindowState>(row.state);
    const changes = this.windowEntries.noChanges();
    const maps = {
      pages: stored.total.pages ?? emptyRecord<number>(),
      products: stored.total.products ?? emptyRecord<ProductCounts>(),
      vitals: stored.total.vitals ?? emptyRecord<QuantileSketch>(),
    };
    // A window written before window_entries existed holds its maps in `windows`: the next write moves them.
    for (const map of BUILT_IN_WINDOW_MAPS) for (const key of Object.keys(maps[map])) changes[map]?.add(key);
    const jobs = emptyJobCounts();
    this.windowEntries.readInto(start, { ...maps, ...jobRecords(jobs) });
    return this.trackWindow({ ...stored, total: { counters: stored.total.counters, ...maps, jobs } }, changes);
  }

  /** A window with nothing stored yet, tracked and cached like a loaded one. */
  newWindow(start: number): WindowState {
    return this.trackWindow(newWindowState(start, emptyWindowAggregate()), this.windowEntries.noChanges());
  }

  private trackWindow(window: WindowState, changes: MapChanges<WindowMap>): WindowState {
    const { total } = window;
    const tracked: WindowState = {
      ...window,
      total: {
        counters: total.counters,
        pages: trackChanges(total.pages, changeSet(changes, "pages")),
        products: trackChanges(total.products, changeSet(changes, "products")),
        vitals: trackChanges(total.vitals as Record<string, QuantileSketch>, changeSet(changes, "vitals")),
        jobs: trackedJobs(total.jobs, changes),
      },
    };
    this.windowChanges.set(tracked, changes);
    this.windowCache.set(window.start, tracked);
    return tracked;
  }

  /** The window's row without its maps (they are rows of window_entries), and its changed entries written. */
  private writeWindow(window: WindowState): string {
    const changes = this.windowChanges.get(window);
    if (changes === undefined) throw new Error(`window ${window.start} was not loaded through the store`);
    const { pages, products, vitals, jobs } = window.total;
    const records: Record<WindowMap, Record<string, unknown>> = { pages, products, vitals, ...jobRecords(jobs) };
    this.windowEntries.write(window.start, records, changes);
    this.windowCache.set(window.start, window);
    return JSON.stringify({
      start: window.start,
      total: { counters: window.total.counters },
      emitted: window.emitted,
      parts: window.parts,
    });
  }

  /** Writes a changed window: it needs a (further) part once sealed, and the hub must hear of it. */
  saveChangedWindow(window: WindowState, liveChange: number): void {
    this.sql.exec(
      "INSERT INTO windows (start, state, needs_part, live_change) VALUES (?, ?, 1, ?) ON CONFLICT (start) DO UPDATE SET state = excluded.state, needs_part = 1, live_change = excluded.live_change",
      window.start,
      this.writeWindow(window),
      liveChange,
    );
  }

  /** Writes a window whose counts are now all in emitted parts. */
  saveSealedWindow(window: WindowState): void {
    this.sql.exec(
      "UPDATE windows SET state = ?, needs_part = 0 WHERE start = ?",
      this.writeWindow(window),
      window.start,
    );
  }

  /** Deletes the windows before `start` whose counts are all emitted, with their entries (retention). */
  deleteEmittedWindowsBefore(start: number): void {
    this.sql.exec("DELETE FROM windows WHERE start < ? AND needs_part = 0", start);
    this.sql.exec(
      "DELETE FROM window_entries WHERE window_start < ? AND window_start NOT IN (SELECT start FROM windows WHERE start < ?)",
      start,
      start,
    );
  }

  /** Windows with counts not yet in a part and starting at or before `latestStart`, oldest first. */
  windowsNeedingPart(latestStart: number): WindowState[] {
    return this.windowsAt(
      this.sql
        .exec<{ start: number }>(
          "SELECT start FROM windows WHERE needs_part = 1 AND start <= ? ORDER BY start",
          latestStart,
        )
        .toArray(),
    );
  }

  /** The stored windows of `rows`, in their order (rows from a query on `windows`). */
  windowsAt(rows: readonly { start: number }[]): WindowState[] {
    const windows: WindowState[] = [];
    for (const row of rows) {
      const window = this.loadWindow(row.start);
      if (window !== null) windows.push(window);
    }
    return windows;
  }

  /** True when `member` is new to the window (and is now recorded). */
  addWindowMember(start: number, kind: MemberKind, member: string): boolean {
    return (
      this.sql
        .exec(
          "INSERT INTO window_members (window_start, kind, member) VALUES (?, ?, ?) ON CONFLICT DO NOTHING RETURNING 1",
          start,
          kind,
          member,
        )
        .toArray().length > 0
    );
  }

  addDayMember(day: string, kind: MemberKind, member: string): boolean {
    return (
      this.sql
        .exec(
          "INSERT INTO day_members (day, kind, member) VALUES (?, ?, ?) ON CONFLICT DO NOTHING RETURNING 1",
          day,
          kind,
          member,
        )
        .toArray().length > 0
    );
  }

  /** The day's accumulator; the object is the cached one, so change it only inside a transaction that saves it. */
  loadDay(day: string): DayAccumulator | null {
    const cached = this.dayCache.get(day);
    if (cached !== undefined) return cached;
    const row = this.sql.exec<{ state: string }>("SELECT state FROM days WHERE day = ?", day).toArray()[0];
    if (row === undefined) return null;
    const stored = parseWithSafeRecords<
      Partial<DayAccumulator> & Pick<DayAccumulator, "day" | "counters" | "funnel" | "abandoned">
    >(row.state);
    const changes = this.dayEntries.noChanges();
    const maps = {
      pages: stored.pages ?? emptyRecord<number>(),
      referrers: stored.referrers ?? emptyRecord<number>(),
      products: stored.products ?? emptyRecord<ProductCounts>(),
      vitals: stored.vitals ?? emptyRecord<PageVitals>(),
    };
    // A day written before day_entries existed holds its maps in `days`: the next write moves them.
    for (const map of BUILT_IN_DAY_MAPS) for (const key of Object.keys(maps[map])) changes[map]?.add(key);
    const jobs = emptyJobCounts();
    this.dayEntries.readInto(day, { ...maps, ...jobRecords(jobs) });
    return this.track(
      { day: stored.day, counters: stored.counters, funnel: stored.funnel, abandoned: stored.abandoned, ...maps, jobs },
      changes,
    );
  }

  /** A day with nothing stored yet, tracked and cached like a loaded one. */
  newDay(day: string): DayAccumulator {
    return this.track(emptyDayAccumulator(day), this.dayEntries.noChanges());
  }

  private track(day: DayAccumulator, changes: MapChanges<DayMap>): DayAccumulator {
    const accumulator: DayAccumulator = {
      ...day,
      pages: trackChanges(day.pages, changeSet(changes, "pages")),
      referrers: trackChanges(day.referrers, changeSet(changes, "referrers")),
      products: trackChanges(day.products, changeSet(changes, "products")),
      vitals: trackChanges(day.vitals, changeSet(changes, "vitals")),
      jobs: trackedJobs(day.jobs, changes),
    };
    this.dayChanges.set(accumulator, changes);
    this.dayCache.set(day.day, accumulator);
    return accumulator;
  }

  /** Writes the day's counters and the map entries changed since its last write. */
  saveDay(day: DayAccumulator): void {
    const core = { day: day.day, counters: day.counters, funnel: day.funnel, abandoned: day.abandoned };
    this.sql.exec(
      "INSERT INTO days (day, state) VALUES (?, ?) ON CONFLICT (day) DO UPDATE SET state = excluded.state",
      day.day,
      JSON.stringify(core),
    );
    const changes = this.dayChanges.get(day);
    if (changes === undefined) throw new Error(`day ${day.day} was not loaded through the store`);
    const records: Record<DayMap, Record<string, unknown>> = {
      pages: day.pages,
      referrers: day.referrers,
      products: day.products,
      vitals: day.vitals,
      ...jobRecords(day.jobs),
    };
    this.dayEntries.write(day.day, records, changes);
    this.dayCache.set(day.day, day);
    this.dayWrites += 1;
  }

  /** Deletes the days before `day` (retention). */
  deleteDaysBefore(day: string): void {
    this.sql.exec("DELETE FROM days WHERE day < ?", day);
    this.sql.exec("DELETE FROM day_entries WHERE day < ?", day);
  }

  loadSession(sessionId: string): SessionState | null {
    const row = this.sql
      .exec<{ state: string }>("SELECT state FROM open_sessions WHERE session_id = ?", sessionId)
      .toArray()[0];
    return row === undefined ? null : restoredSessionState(parseWithSafeRecords<SessionState>(row.state));
  }

  /** The visitor's open shard-assigned session with the latest last event, if any. */
  latestAssignedSession(visitorId: string): SessionState | null {
    const row = this.sql
      .exec<{ state: string }>(
        "SELECT state FROM open_sessions WHERE visitor_id = ? AND assigned = 1 ORDER BY last_seen DESC LIMIT 1",
        visitorId,
      )
      .toArray()[0];
    return row === undefined ? null : restoredSessionState(parseWithSafeRecords<SessionState>(row.state));
  }

  saveSession(session: SessionState): void {
    this.sql.exec(
      "INSERT INTO open_sessions (session_id, visitor_id, assigned, last_seen, state) VALUES (?, ?, ?, ?, ?) ON CONFLICT (session_id) DO UPDATE SET last_seen = excluded.last_seen, state = excluded.state",
      session.session_id,
      session.visitor_id,
      session.assigned ? 1 : 0,
      session.last_seen,
      JSON.stringify(session),
    );
  }

  deleteSession(sessionId: string): void {
    this.sql.exec("DELETE FROM open_sessions WHERE session_id = ?", sessionId);
  }

  /** Open sessions whose last event is before `lastSeenBefore` (session-state.ts isSessionIdle, in SQL), oldest first. */
  idleSessions(lastSeenBefore: number, limit: number): SessionState[] {
    return this.sql
      .exec<{ state: string }>(
        "SELECT state FROM open_sessions WHERE last_seen < ? ORDER BY last_seen LIMIT ?",
        lastSeenBefore,
        limit,
      )
      .toArray()
      .map((row) => restoredSessionState(parseWithSafeRecords<SessionState>(row.state)));
  }
}

/** Everything one batch (or one alarm pass) touches, written back at commit. */
export class StateChanges {
  private readonly windows = new Map<number, WindowState>();
  private readonly days = new Map<string, DayAccumulator>();
  private readonly sessions = new Map<string, SessionState>();
  private readonly closedSessions = new Set<string>();
  /** Open assigned sessions per visitor seen in this unit (from storage or created here). */
  private readonly assignedByVisitor = new Map<string, SessionState[]>();
  /** Members already recorded in this unit: repeated events of a visitor skip the SQL. */
  private readonly knownMembers = new Set<string>();

  constructor(
    private readonly store: ShardStateStore,
    /** Live-change number stamped on every window written, so the next live send includes it. */
    private readonly liveChange: number,
  ) {}

  window(start: number): WindowState {
    let window = this.windows.get(start);
    if (window === undefined) {
      window = this.store.loadWindow(start) ?? this.store.newWindow(start);
      this.windows.set(start, window);
    }
    return window;
  }

  day(day: string): DayAccumulator {
    let accumulator = this.days.get(day);
    if (accumulator === undefined) {
      accumulator = this.store.loadDay(day) ?? this.store.newDay(day);
      this.days.set(day, accumulator);
    }
    return accumulator;
  }

  addWindowMember(start: number, kind: MemberKind, member: string): boolean {
    const key = `w${start}:${kind}:${member}`;
    if (this.knownMembers.has(key)) return false;
    this.knownMembers.add(key);
    return this.store.addWindowMember(start, kind, member);
  }

  addDayMember(day: string, kind: MemberKind, member: string): boolean {
    const key = `d${day}:${kind}:${member}`;
    if (this.knownMembers.has(key)) return false;
    this.knownMembers.add(key);
    return this.store.addDayMember(day, kind, member);
  }

  session(sessionId: string): SessionState | null {
    if (this.closedSessions.has(sessionId)) return null;
    let session = this.sessions.get(sessionId);
    if (session === undefined) {
      const stored = this.store.loadSession(sessionId);
      if (stored === null) return null;
      session = stored;
      this.sessions.set(sessionId, session);
    }
    return session;
  }

  /** The visitor's open assigned session with the latest last event (as of this unit's changes). */
  latestAssignedSession(visitorId: string): SessionState | null {
    let candidates = this.assignedByVisitor.get(visitorId);
    if (candidates === undefined) {
      const stored = this.store.latestAssignedSession(visitorId);
      candidates = [];
      if (stored !== null) {
        const session = this.sessions.get(stored.session_id) ?? stored;
        this.sessions.set(session.session_id, session);
        candidates.push(session);
      }
      this.assignedByVisitor.set(visitorId, candidates);
    }
    let latest: SessionState | null = null;
    for (const candidate of candidates) {
      if (this.closedSessions.has(candidate.session_id)) continue;
      if (latest === null || candidate.last_seen > latest.last_seen) latest = candidate;
    }
    return latest;
  }

  addSession(session: SessionState): SessionState {
    this.sessions.set(session.session_id, session);
    this.closedSessions.delete(session.session_id);
    if (session.assigned) {
      // Make sure storage's latest is among the candidates before adding the new one.
      this.latestAssignedSession(session.visitor_id);
      this.assignedByVisitor.get(session.visitor_id)?.push(session);
    }
    return session;
  }

  closeSession(sessionId: string): void {
    this.closedSessions.add(sessionId);
    this.sessions.delete(sessionId);
  }

  commit(): void {
    for (const window of this.windows.values()) this.store.saveChangedWindow(window, this.liveChange);
    for (const day of this.days.values()) this.store.saveDay(day);
    for (const session of this.sessions.values()) this.store.saveSession(session);
    for (const sessionId of this.closedSessions) this.store.deleteSession(sessionId);
  }
}
