/**
 * The shard's keyed state (windows, days, open sessions, distinct-member sets, online
 * visitors) held in memory and written to SQLite only at a checkpoint, and `StateChanges`:
 * the unit of work of one batch or alarm pass.
 *
 * Durable state is the last checkpoint plus the batch log since it (shard-engine.ts writes a
 * batch's log row before answering, and replays the log over the checkpoint when it loads).
 * So between checkpoints this store is the only place the newest state lives: what changed
 * is kept ("dirty", pinned in memory) until `checkpoint()` writes it, in the alarm's
 * transaction. A batch costs no state rows at all, and a checkpoint costs the keys changed
 * since the last one, however many batches changed them.
 *
 * What is not dirty is read from the checkpoint tables on demand and kept in bounded caches
 * (windows, days); the small indexes every alarm needs (which windows need a part, which
 * sessions are open and since when, who is online) are loaded whole when the store is built.
 * The engine builds a fresh store whenever its memory may differ from storage + log (after a
 * transaction threw, or when another writer changed them), so nothing here is ever repaired
 * in place.
 */
import type { DayAccumulator } from "./day-aggregate";
import { emptyDayAccumulator } from "./day-aggregate";
import { storedDayRecords } from "../jobs/day-records";
import { DAY_JOBS, emptyJobMaps, jobMapNames, WINDOW_JOBS, type JobMaps, type ScopedJob } from "../jobs/job-maps";
import { emptyRecord, parseWithSafeRecords } from "../shared/safe-record";
import { restoredSessionState, type SessionState } from "./session-state";
import { trackChanges, MapEntryRows, type MapChanges } from "../shared/map-entries";
import { emptyWindowAggregate } from "./window-aggregate";
import { newWindowState, type WindowState } from "./window-sealing";

/** Kinds of distinct members counted per window and per day. */
export const MEMBER_VISITOR = 0;
export const MEMBER_SESSION = 1;
type MemberKind = typeof MEMBER_VISITOR | typeof MEMBER_SESSION;

/**
 * The jobs' maps of a day and of a window are kept as entry rows (map-entries.ts), one map per
 * job under its stored name (jobs/aggregation-job.ts); the rest stays one small JSON row.
 */
const DAY_MAPS: readonly string[] = jobMapNames("day");
const WINDOW_MAPS: readonly string[] = jobMapNames("window");
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

/**
 * Each job's map behind a Proxy recording changed keys into its map's change set (new records,
 * same maps); `also`, when given, is told every changed key of every map too.
 */
function trackedMaps(maps: JobMaps, changes: MapChanges<string>, also?: (map: string) => Set<string>): JobMaps {
  const tracked = emptyRecord<Record<string, unknown>>();
  for (const [name, map] of Object.entries(maps)) {
    const set = changeSet(changes, name);
    const sink =
      also === undefined
        ? set
        : {
            add: (key: string) => {
              set.add(key);
              also(name).add(key);
            },
          };
    tracked[name] = trackChanges(map, sink);
  }
  return tracked;
}

/**
 * A scope's job maps as stored: from the entry rows, and for the built-in jobs whose map was
 * once a field of the JSON row (`legacyRow`, written before entry rows existed) from that
 * field too; those keys are noted as changed, so the next write moves them to entry rows.
 */
function loadJobMaps(
  jobs: readonly ScopedJob<unknown>[],
  scope: "window" | "day",
  legacyRow: Record<string, unknown>,
  entries: MapEntryRows<string>,
  owner: string | number,
  changes: MapChanges<string>,
): JobMaps {
  const maps = emptyJobMaps(scope);
  for (const { state } of jobs) {
    if (!state.legacyRowField) continue;
    const legacy = legacyRow[state.storedMap];
    if (typeof legacy !== "object" || legacy === null) continue;
    maps[state.storedMap] = legacy as Record<string, unknown>;
    for (const key of Object.keys(legacy)) changeSet(changes, state.storedMap).add(key);
  }
  entries.readInto(owner, maps);
  return maps;
}

/** A `windows` row's state: the counters (and, written before entry rows existed, maybe a built-in map). */
type StoredWindow = Omit<WindowState, "total"> & {
  total: { counters: WindowState["total"]["counters"] } & Record<string, unknown>;
};
/** A `days` row's state (and, written before entry rows existed, maybe a built-in map). */
type StoredDay = Pick<DayAccumulator, "day" | "counters"> & Record<string, unknown>;

interface WindowIndexEntry {
  needsPart: boolean;
  liveChange: number;
}

interface SessionIndexEntry {
  visitor: string;
  assigned: boolean;
  lastSeen: number;
}

export class ShardStateStore {
  private readonly windowCache = new RecentlyUsed<number, WindowState>(MAX_CACHED_WINDOWS);
  private readonly dayCache = new RecentlyUsed<string, DayAccumulator>(MAX_CACHED_DAYS);
  /** Entries changed since each day / window was last written (by object, so an LRU eviction cannot lose them). */
  private readonly dayChanges = new WeakMap<DayAccumulator, MapChanges<DayMap>>();
  private readonly windowChanges = new WeakMap<WindowState, MapChanges<WindowMap>>();
  private readonly dayEntries: MapEntryRows<DayMap>;
  private readonly windowEntries: MapEntryRows<WindowMap>;
  /** Bumped whenever a day is changed: lets a reader cache what it derives from a day. */
  private dayWrites = 0;
  /**
   * Keys of each day's job maps changed since the live sender last took them (day → stored map
   * → keys), for the live send's day delta (day-delta.ts). Memory only and per store: a
   * new store (the engine rebuilt its memory) starts with none, and the sender knows it by
   * the store's identity and sends its whole state.
   */
  private readonly liveDayChanges = new Map<string, Map<string, Set<string>>>();

  // Changed since the last checkpoint: held here (never evicted) until checkpoint() writes them.
  private readonly dirtyWindows = new Map<number, WindowState>();
  private readonly dirtyDays = new Map<string, DayAccumulator>();
  private readonly dirtySessions = new Map<string, SessionState>();
  private readonly closedSessions = new Set<string>();
  /** New distinct members, `w<start>|<kind>|<member>` / `d<day>|<kind>|<member>` → the row to insert. */
  private readonly newMembers = new Map<
    string,
    { table: "w" | "d"; owner: number | string; kind: MemberKind; member: string }
  >();
  private readonly dirtyOnline = new Set<string>();

  // Complete indexes, loaded once per store (one entry per retained window / open session / online visitor).
  private readonly windowIndex = new Map<number, WindowIndexEntry>();
  private readonly sessionIndex = new Map<string, SessionIndexEntry>();
  private readonly assignedByVisitor = new Map<string, Set<string>>();
  private readonly online = new Map<string, number>();

  constructor(private readonly sql: SqlStorage) {
    this.dayEntries = new MapEntryRows(sql, "day_entries", "day", DAY_MAPS);
    this.windowEntries = new MapEntryRows(sql, "window_entries", "window_start", WINDOW_MAPS);
    for (const row of sql.exec<{ start: number; needs_part: number; live_change: number }>(
      "SELECT start, needs_part, live_change FROM windows",
    ))
      this.windowIndex.set(row.start, { needsPart: row.needs_part === 1, liveChange: row.live_change });
    for (const row of sql.exec<{ session_id: string; visitor_id: string; assigned: number; last_seen: number }>(
      "SELECT session_id, visitor_id, assigned, last_seen FROM open_sessions",
    ))
      this.indexSession(row.session_id, {
        visitor: row.visitor_id,
        assigned: row.assigned === 1,
        lastSeen: row.last_seen,
      });
    for (const row of sql.exec<{ visitor_id: string; last_active: number }>(
      "SELECT visitor_id, last_active FROM online_visitors",
    ))
      this.online.set(row.visitor_id, row.last_active);
  }

  /** Changes whenever a day accumulator may have changed (see dayWrites). */
  get dayVersion(): number {
    return this.dayWrites;
  }

  /** Number of changed keys waiting for the next checkpoint (windows, days, sessions, members, online). */
  get dirtySize(): number {
    return (
      this.dirtyWindows.size +
      this.dirtyDays.size +
      this.dirtySessions.size +
      this.closedSessions.size +
      this.newMembers.size +
      this.dirtyOnline.size
    );
  }

  // ---- windows --------------------------------------------------------------------------

  /** The window's state; the object is the cached one, so change it only inside a transaction that saves it. */
  loadWindow(start: number): WindowState | null {
    const cached = this.dirtyWindows.get(start) ?? this.windowCache.get(start);
    if (cached !== undefined) return cached;
    if (!this.windowIndex.has(start)) return null;
    const row = this.sql.exec<{ state: string }>("SELECT state FROM windows WHERE start = ?", start).toArray()[0];
    if (row === undefined) return null;
    const stored = parseWithSafeRecords<StoredWindow>(row.state);
    const changes = this.windowEntries.noChanges();
    const maps = loadJobMaps(WINDOW_JOBS, "window", stored.total, this.windowEntries, start, changes);
    return this.trackWindow(
      {
        start: stored.start,
        total: { counters: stored.total.counters, maps },
        emitted: stored.emitted,
        parts: stored.parts,
      },
      changes,
    );
  }

  /** A window with nothing stored yet, tracked and cached like a loaded one. */
  newWindow(start: number): WindowState {
    return this.trackWindow(newWindowState(start, emptyWindowAggregate()), this.windowEntries.noChanges());
  }

  private trackWindow(window: WindowState, changes: MapChanges<WindowMap>): WindowState {
    const { total } = window;
    const tracked: WindowState = {
      ...window,
      total: { counters: total.counters, maps: trackedMaps(total.maps, changes) },
    };
    this.windowChanges.set(tracked, changes);
    this.windowCache.set(window.start, tracked);
    return tracked;
  }

  /** A changed window: it needs a (further) part once sealed, and the hub must hear of it. */
  saveChangedWindow(window: WindowState, liveChange: number): void {
    this.dirtyWindows.set(window.start, window);
    this.windowIndex.set(window.start, { needsPart: true, liveChange });
  }

  /** A window whose counts are now all in emitted parts. */
  saveSealedWindow(window: WindowState): void {
    this.dirtyWindows.set(window.start, window);
    const entry = this.windowIndex.get(window.start);
    this.windowIndex.set(window.start, { needsPart: false, liveChange: entry?.liveChange ?? 0 });
  }

  /** Deletes the windows before `start` whose counts are all emitted, with their entries and members (retention). */
  deleteEmittedWindowsBefore(start: number): void {
    this.sql.exec("DELETE FROM windows WHERE start < ? AND needs_part = 0", start);
    this.sql.exec(
      "DELETE FROM window_entries WHERE window_start < ? AND window_start NOT IN (SELECT start FROM windows WHERE start < ?)",
      start,
      start,
    );
    this.sql.exec("DELETE FROM window_members WHERE window_start < ?", start);
    for (const [windowStart, entry] of [...this.windowIndex]) {
      if (windowStart >= start || entry.needsPart) continue;
      this.windowIndex.delete(windowStart);
      this.dirtyWindows.delete(windowStart);
    }
    this.windowCache.deleteWhere((cached) => cached < start && !this.windowIndex.has(cached));
    for (const [key, row] of [...this.newMembers])
      if (row.table === "w" && (row.owner as number) < start) this.newMembers.delete(key);
  }

  /** Forgets every window, its entries and members (shard-engine.ts, when the window size changes). */
  dropAllWindows(): void {
    this.sql.exec("DELETE FROM windows");
    this.sql.exec("DELETE FROM window_entries");
    this.sql.exec("DELETE FROM window_members");
    this.windowIndex.clear();
    this.dirtyWindows.clear();
    this.windowCache.clear();
    for (const [key, row] of [...this.newMembers]) if (row.table === "w") this.newMembers.delete(key);
  }

  /** Windows with counts not yet in a part and starting at or before `latestStart`, oldest first. */
  windowsNeedingPart(latestStart: number): WindowState[] {
    const starts: number[] = [];
    for (const [start, entry] of this.windowIndex) if (entry.needsPart && start <= latestStart) starts.push(start);
    return this.windowsAt(starts.sort((a, b) => a - b));
  }

  /** Start of the oldest window with counts not yet in a part, null when none. */
  firstWindowNeedingPart(): number | null {
    let first: number | null = null;
    for (const [start, entry] of this.windowIndex)
      if (entry.needsPart && (first === null || start < first)) first = start;
    return first;
  }

  unsealedWindowCount(): number {
    let count = 0;
    for (const entry of this.windowIndex.values()) if (entry.needsPart) count += 1;
    return count;
  }

  /** The newest `limit` window starts from `fromStart` on, newest first. */
  recentWindowStarts(fromStart: number, limit: number): number[] {
    return [...this.windowIndex.keys()]
      .filter((start) => start >= fromStart)
      .sort((a, b) => b - a)
      .slice(0, limit);
  }

  /** Windows from `fromStart` on changed after live change `sentChange`, by change then start, at most `limit`. */
  windowsChangedAfter(sentChange: number, fromStart: number, limit: number): { start: number; liveChange: number }[] {
    const changed: { start: number; liveChange: number }[] = [];
    for (const [start, entry] of this.windowIndex)
      if (entry.liveChange > sentChange && start >= fromStart) changed.push({ start, liveChange: entry.liveChange });
    return changed.sort((a, b) => a.liveChange - b.liveChange || a.start - b.start).slice(0, limit);
  }

  /** The stored windows at `starts`, in their order. */
  windowsAt(starts: readonly number[]): WindowState[] {
    const windows: WindowState[] = [];
    for (const start of starts) {
      const window = this.loadWindow(start);
      if (window !== null) windows.push(window);
    }
    return windows;
  }

  // ---- distinct members -----------------------------------------------------------------

  /** True when `member` is new to the window (and is now recorded). */
  addWindowMember(start: number, kind: MemberKind, member: string): boolean {
    const key = `w${start}|${kind}|${member}`;
    if (this.newMembers.has(key)) return false;
    const stored =
      this.sql
        .exec("SELECT 1 FROM window_members WHERE window_start = ? AND kind = ? AND member = ?", start, kind, member)
        .toArray().length > 0;
    if (stored) return false;
    this.newMembers.set(key, { table: "w", owner: start, kind, member });
    return true;
  }

  addDayMember(day: string, kind: MemberKind, member: string): boolean {
    const key = `d${day}|${kind}|${member}`;
    if (this.newMembers.has(key)) return false;
    const stored =
      this.sql.exec("SELECT 1 FROM day_members WHERE day = ? AND kind = ? AND member = ?", day, kind, member).toArray()
        .length > 0;
    if (stored) return false;
    this.newMembers.set(key, { table: "d", owner: day, kind, member });
    return true;
  }

  // ---- days -----------------------------------------------------------------------------

  /** The day's accumulator; the object is the cached one, so change it only inside a transaction that saves it. */
  loadDay(day: string): DayAccumulator | null {
    const cached = this.dirtyDays.get(day) ?? this.dayCache.get(day);
    if (cached !== undefined) return cached;
    const row = this.sql.exec<{ state: string }>("SELECT state FROM days WHERE day = ?", day).toArray()[0];
    if (row === undefined) return null;
    const stored = parseWithSafeRecords<StoredDay>(row.state);
    const changes = this.dayEntries.noChanges();
    const maps = loadJobMaps(DAY_JOBS, "day", stored, this.dayEntries, day, changes);
    return this.track({ day: stored.day, counters: stored.counters, records: storedDayRecords(stored), maps }, changes);
  }

  /** A day with nothing stored yet, tracked and cached like a loaded one. */
  newDay(day: string): DayAccumulator {
    return this.track(emptyDayAccumulator(day), this.dayEntries.noChanges());
  }

  private track(day: DayAccumulator, changes: MapChanges<DayMap>): DayAccumulator {
    const accumulator: DayAccumulator = {
      ...day,
      maps: trackedMaps(day.maps, changes, (map) => this.liveDayChangeSet(day.day, map)),
    };
    this.dayChanges.set(accumulator, changes);
    this.dayCache.set(day.day, accumulator);
    return accumulator;
  }

  private liveDayChangeSet(day: string, map: string): Set<string> {
    let maps = this.liveDayChanges.get(day);
    if (maps === undefined) {
      maps = new Map();
      this.liveDayChanges.set(day, maps);
    }
    let keys = maps.get(map);
    if (keys === undefined) {
      keys = new Set();
      maps.set(map, keys);
    }
    return keys;
  }

  /**
   * The keys of `day`'s job maps changed (set or deleted) since the last call, by stored map
   * name; the notes start again empty. Every day's notes are dropped but `day`'s: the live
   * send only ever asks for today, and a change to an older day is never sent.
   */
  takeLiveDayChanges(day: string): ReadonlyMap<string, ReadonlySet<string>> {
    const taken = this.liveDayChanges.get(day) ?? new Map<string, Set<string>>();
    this.liveDayChanges.clear();
    return taken;
  }

  /** A changed day: written at the next checkpoint. */
  saveDay(day: DayAccumulator): void {
    this.dirtyDays.set(day.day, day);
    this.dayWrites += 1;
  }

  /** Deletes the days before `day` (retention). */
  deleteDaysBefore(day: string): void {
    this.sql.exec("DELETE FROM days WHERE day < ?", day);
    this.sql.exec("DELETE FROM day_entries WHERE day < ?", day);
    this.sql.exec("DELETE FROM day_members WHERE day < ?", day);
    for (const cached of [...this.dirtyDays.keys()]) if (cached < day) this.dirtyDays.delete(cached);
    this.dayCache.deleteWhere((cached) => cached < day);
    for (const [key, row] of [...this.newMembers])
      if (row.table === "d" && (row.owner as string) < day) this.newMembers.delete(key);
    this.dayWrites += 1;
  }

  // ---- sessions -------------------------------------------------------------------------

  private indexSession(sessionId: string, entry: SessionIndexEntry): void {
    this.sessionIndex.set(sessionId, entry);
    if (!entry.assigned) return;
    let ids = this.assignedByVisitor.get(entry.visitor);
    if (ids === undefined) {
      ids = new Set();
      this.assignedByVisitor.set(entry.visitor, ids);
    }
    ids.add(sessionId);
  }

  loadSession(sessionId: string): SessionState | null {
    if (!this.sessionIndex.has(sessionId)) return null;
    const dirty = this.dirtySessions.get(sessionId);
    if (dirty !== undefined) return dirty;
    const row = this.sql
      .exec<{ state: string }>("SELECT state FROM open_sessions WHERE session_id = ?", sessionId)
      .toArray()[0];
    return row === undefined ? null : restoredSessionState(parseWithSafeRecords<SessionState>(row.state));
  }

  /** The visitor's open shard-assigned session with the latest last event, if any. */
  latestAssignedSession(visitorId: string): SessionState | null {
    let latest: { id: string; lastSeen: number } | null = null;
    for (const id of this.assignedByVisitor.get(visitorId) ?? []) {
      const entry = this.sessionIndex.get(id);
      if (entry !== undefined && (latest === null || entry.lastSeen > latest.lastSeen))
        latest = { id, lastSeen: entry.lastSeen };
    }
    return latest === null ? null : this.loadSession(latest.id);
  }

  saveSession(session: SessionState): void {
    this.dirtySessions.set(session.session_id, session);
    this.closedSessions.delete(session.session_id);
    this.indexSession(session.session_id, {
      visitor: session.visitor_id,
      assigned: session.assigned,
      lastSeen: session.last_seen,
    });
  }

  deleteSession(sessionId: string): void {
    const entry = this.sessionIndex.get(sessionId);
    if (entry !== undefined) {
      const ids = this.assignedByVisitor.get(entry.visitor);
      ids?.delete(sessionId);
      if (ids?.size === 0) this.assignedByVisitor.delete(entry.visitor);
    }
    this.sessionIndex.delete(sessionId);
    this.dirtySessions.delete(sessionId);
    this.closedSessions.add(sessionId);
  }

  /** Open sessions whose last event is before `lastSeenBefore` (session-state.ts isSessionIdle), oldest first. */
  idleSessions(lastSeenBefore: number, limit: number): SessionState[] {
    const idle: { id: string; lastSeen: number }[] = [];
    for (const [id, entry] of this.sessionIndex)
      if (entry.lastSeen < lastSeenBefore) idle.push({ id, lastSeen: entry.lastSeen });
    idle.sort((a, b) => a.lastSeen - b.lastSeen || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const sessions: SessionState[] = [];
    for (const { id } of idle.slice(0, limit)) {
      const session = this.loadSession(id);
      if (session !== null) sessions.push(session);
    }
    return sessions;
  }

  /** The earliest last event of an open session, null when none is open. */
  firstSessionLastSeen(): number | null {
    let first: number | null = null;
    for (const entry of this.sessionIndex.values())
      if (first === null || entry.lastSeen < first) first = entry.lastSeen;
    return first;
  }

  get openSessionCount(): number {
    return this.sessionIndex.size;
  }

  // ---- online ---------------------------------------------------------------------------

  touchOnline(visitorId: string, at: number): void {
    const known = this.online.get(visitorId);
    if (known !== undefined && known >= at) return;
    this.online.set(visitorId, at);
    this.dirtyOnline.add(visitorId);
  }

  onlineCount(activeAfter: number): number {
    let count = 0;
    for (const at of this.online.values()) if (at > activeAfter) count += 1;
    return count;
  }

  /** Forgets visitors last active at or before `inactiveSince`. */
  pruneOnline(inactiveSince: number): void {
    this.sql.exec("DELETE FROM online_visitors WHERE last_active <= ?", inactiveSince);
    for (const [visitor, at] of [...this.online]) {
      if (at > inactiveSince) continue;
      this.online.delete(visitor);
      this.dirtyOnline.delete(visitor);
    }
  }

  // ---- checkpoint -----------------------------------------------------------------------

  /**
   * Writes every key changed since the last checkpoint, a few multi-row statements per kind;
   * run inside the transaction that records the checkpoint's log position.
   */
  checkpoint(): void {
    for (const window of this.dirtyWindows.values()) this.writeWindow(window);
    this.dirtyWindows.clear();
    for (const day of this.dirtyDays.values()) this.writeDay(day);
    this.dirtyDays.clear();
    if (this.dirtySessions.size > 0) {
      execJsonRows(
        this.sql,
        "INSERT INTO open_sessions (session_id, visitor_id, assigned, last_seen, state) SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4 FROM json_each(?) WHERE true ON CONFLICT (session_id) DO UPDATE SET last_seen = excluded.last_seen, state = excluded.state",
        [...this.dirtySessions.values()].map((session) => [
          session.session_id,
          session.visitor_id,
          session.assigned ? 1 : 0,
          session.last_seen,
          JSON.stringify(session),
        ]),
      );
      this.dirtySessions.clear();
    }
    if (this.closedSessions.size > 0) {
      execJsonRows(this.sql, "DELETE FROM open_sessions WHERE session_id IN (SELECT value FROM json_each(?))", [
        ...this.closedSessions,
      ]);
      this.closedSessions.clear();
    }
    const members = [...this.newMembers.values()];
    execJsonRows(
      this.sql,
      "INSERT INTO window_members (window_start, kind, member) SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?) WHERE true ON CONFLICT DO NOTHING",
      members.filter((row) => row.table === "w").map((row) => [row.owner, row.kind, row.member]),
    );
    execJsonRows(
      this.sql,
      "INSERT INTO day_members (day, kind, member) SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?) WHERE true ON CONFLICT DO NOTHING",
      members.filter((row) => row.table === "d").map((row) => [row.owner, row.kind, row.member]),
    );
    this.newMembers.clear();
    if (this.dirtyOnline.size > 0) {
      execJsonRows(
        this.sql,
        "INSERT INTO online_visitors (visitor_id, last_active) SELECT value ->> 0, value ->> 1 FROM json_each(?) WHERE true ON CONFLICT (visitor_id) DO UPDATE SET last_active = max(last_active, excluded.last_active)",
        [...this.dirtyOnline].map((visitor) => [visitor, this.online.get(visitor) ?? 0]),
      );
      this.dirtyOnline.clear();
    }
  }

  /** The window's row without its maps (they are rows of window_entries), and its changed entries. */
  private writeWindow(window: WindowState): void {
    const changes = this.windowChanges.get(window);
    if (changes === undefined) throw new Error(`window ${window.start} was not loaded through the store`);
    this.windowEntries.write(window.start, window.total.maps, changes);
    const entry = this.windowIndex.get(window.start);
    this.sql.exec(
      "INSERT INTO windows (start, state, needs_part, live_change) VALUES (?, ?, ?, ?) ON CONFLICT (start) DO UPDATE SET state = excluded.state, needs_part = excluded.needs_part, live_change = excluded.live_change",
      window.start,
      JSON.stringify({
        start: window.start,
        total: { counters: window.total.counters },
        emitted: window.emitted,
        parts: window.parts,
      }),
      entry?.needsPart === false ? 0 : 1,
      entry?.liveChange ?? 0,
    );
  }

  /** The day's counters and the map entries changed since its last write. */
  private writeDay(day: DayAccumulator): void {
    // The records are fields of the row, in registration order (`funnel`, `abandoned`: the row's order before jobs).
    const core = { day: day.day, counters: day.counters, ...day.records };
    this.sql.exec(
      "INSERT INTO days (day, state) VALUES (?, ?) ON CONFLICT (day) DO UPDATE SET state = excluded.state",
      day.day,
      JSON.stringify(core),
    );
    const changes = this.dayChanges.get(day);
    if (changes === undefined) throw new Error(`day ${day.day} was not loaded through the store`);
    this.dayEntries.write(day.day, day.maps, changes);
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

/**
 * Durable Object SQLite refuses a string or row over 2 MB, and a checkpoint after a burst of
 * new visitors can change thousands of sessions and members: the rows go in JSON arrays of at
 * most this many characters, one statement each, all in the checkpoint's transaction.
 */
export const MAX_JSON_ROWS_CHARS = 256 * 1024;

/** Runs `statement` (one `json_each(?)` parameter) over `rows`, in arrays under MAX_JSON_ROWS_CHARS. */
export function execJsonRows(sql: SqlStorage, statement: string, rows: readonly unknown[]): number {
  let statements = 0;
  let chunk: string[] = [];
  let chars = 2;
  const run = () => {
    if (chunk.length === 0) return;
    sql.exec(statement, `[${chunk.join(",")}]`);
    statements++;
    chunk = [];
    chars = 2;
  };
  for (const row of rows) {
    const json = JSON.stringify(row);
    if (chunk.length > 0 && chars + json.length + 1 > MAX_JSON_ROWS_CHARS) run();
    chunk.push(json);
    chars += json.length + 1;
  }
  run();
  return statements;
}
