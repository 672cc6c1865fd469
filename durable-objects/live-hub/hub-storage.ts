/**
 * The LiveHub's SQLite storage: everything its in-memory MergedShards is rebuilt from after
 * hibernation or eviction, plus the "an update is owed" marker that lets a hub that went to
 * sleep between a shard's send and its broadcast alarm still send that update.
 *
 * Rows are bounded: one per shard and one per key of its day's capped top lists and maps, one
 * per (retained window, shard), one per window changed since the last broadcast (all retained
 * windows at most), and a few meta keys.
 */
import { metricCountsSchema } from "../../protocol";
import type { WindowPartial } from "../shard-to-hub/shard-live-state";
import type { ShardRecord, ShardWindow } from "./merged-shards";
import { type DayDelta, type DayPartial, dayPartialSchema, KEYED_DAY_FIELDS } from "../shard-to-hub/shard-live-state";
import { keyedFieldsOf, setOwn } from "../shard-to-hub/day-delta";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS hub_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS hub_shard (
  shard INTEGER PRIMARY KEY, seq INTEGER NOT NULL, sent_at INTEGER NOT NULL, online INTEGER NOT NULL, today TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS hub_window (
  window_start INTEGER NOT NULL, shard INTEGER NOT NULL, seq INTEGER NOT NULL, window_end INTEGER NOT NULL, counts TEXT NOT NULL,
  PRIMARY KEY (window_start, shard)
);
CREATE TABLE IF NOT EXISTS hub_changed_window (window_start INTEGER PRIMARY KEY);
CREATE TABLE IF NOT EXISTS hub_shard_entry (
  shard INTEGER NOT NULL, field TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (shard, field, key)
);
`;

type MetaKey = "site" | "update_owed" | "last_broadcast_at" | "shards_synced";

export class HubStorage {
  /**
   * Shards whose stored day is in entry rows (or has no keys): a delta may update their entries
   * key by key. A row from before entry rows (its keyed fields inside `today`) is not here
   * until a save has rewritten all its entries. Known once loadShards ran, which the hub does
   * before it applies anything.
   */
  private readonly entriesStored = new Set<number>();

  constructor(private readonly sql: SqlStorage) {
    sql.exec(SCHEMA);
  }

  /**
   * Stored rows that no longer parse (a shape from an older version) are skipped: the shard
   * that wrote them sends its full state again soon, and a hub that cannot load at all would
   * be dead for good.
   */
  loadShards(): ShardRecord[] {
    const records: ShardRecord[] = [];
    const entries = this.loadEntries();
    for (const row of this.sql.exec<{ shard: number; seq: number; sent_at: number; online: number; today: string }>(
      "SELECT shard, seq, sent_at, online, today FROM hub_shard",
    )) {
      const stored = parseJson(row.today);
      if (!hasKeyedValues(stored)) this.entriesStored.add(row.shard);
      const today = dayPartialSchema.safeParse(withEntries(stored, entries.get(row.shard)));
      if (!today.success) {
        console.warn(`live hub: skipping unreadable stored state of shard ${row.shard}`);
        continue;
      }
      records.push({ shard: row.shard, seq: row.seq, at: row.sent_at, online: row.online, today: today.data });
    }
    return records;
  }

  loadWindows(): ShardWindow[] {
    const windows: ShardWindow[] = [];
    for (const row of this.sql.exec<{
      window_start: number;
      shard: number;
      seq: number;
      window_end: number;
      counts: string;
    }>("SELECT window_start, shard, seq, window_end, counts FROM hub_window")) {
      const counts = metricCountsSchema.safeParse(parseJson(row.counts));
      if (!counts.success) continue;
      windows.push({
        shard: row.shard,
        seq: row.seq,
        partial: { start: row.window_start, end: row.window_end, counts: counts.data },
      });
    }
    return windows;
  }

  /**
   * Stores a shard's record: its row holds the day's small fields (its keyed fields written
   * empty), `hub_shard_entry` one row per key of each keyed field (`pages` … `jobs.<name>`),
   * so a day delta writes the keys it changed, not the whole day. `change` null (a whole
   * state) rewrites every entry of the shard; a delta's `maps` upserts and deletes its keys.
   * Rows written before entries existed hold the whole day in `today` and no entries; they
   * load as they are (withEntries) and are rewritten this way by the shard's next send.
   */
  saveShard(record: ShardRecord, delta: DayDelta["maps"] | null): void {
    const { today } = record;
    // A row from before entry rows has no entries for the delta to change: write them all.
    const change = this.entriesStored.has(record.shard) ? delta : null;
    this.entriesStored.add(record.shard);
    const small: DayPartial = { ...today, pages: {}, referrers: {}, products: {}, vitals: {}, jobs: {} };
    this.sql.exec(
      "INSERT OR REPLACE INTO hub_shard (shard, seq, sent_at, online, today) VALUES (?, ?, ?, ?, ?)",
      record.shard,
      record.seq,
      record.at,
      record.online,
      JSON.stringify(small),
    );
    const upserts: [string, string, string][] = [];
    const deletes: [string, string][] = [];
    if (change === null) {
      this.sql.exec("DELETE FROM hub_shard_entry WHERE shard = ?", record.shard);
      for (const [field, values] of keyedFieldsOf(today))
        for (const [key, value] of Object.entries(values)) upserts.push([field, key, JSON.stringify(value)]);
    } else {
      for (const [field, fieldChange] of Object.entries(change)) {
        if (fieldChange === undefined) continue;
        for (const key of fieldChange.removed) deletes.push([field, key]);
        for (const [key, value] of Object.entries(fieldChange.set)) upserts.push([field, key, JSON.stringify(value)]);
      }
    }
    // Deletes first: a key removed and set again in one delta ends up set.
    if (deletes.length > 0)
      this.sql.exec(
        "DELETE FROM hub_shard_entry WHERE shard = ? AND (field, key) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?))",
        record.shard,
        JSON.stringify(deletes),
      );
    if (upserts.length > 0)
      this.sql.exec(
        "INSERT INTO hub_shard_entry (shard, field, key, value) SELECT ?, value ->> 0, value ->> 1, value ->> 2 FROM json_each(?) WHERE true ON CONFLICT (shard, field, key) DO UPDATE SET value = excluded.value",
        record.shard,
        JSON.stringify(upserts),
      );
  }

  /** shard → field → key → value, every stored entry. */
  private loadEntries(): Map<number, Map<string, Record<string, unknown>>> {
    const entries = new Map<number, Map<string, Record<string, unknown>>>();
    for (const row of this.sql.exec<{ shard: number; field: string; key: string; value: string }>(
      "SELECT shard, field, key, value FROM hub_shard_entry",
    )) {
      let fields = entries.get(row.shard);
      if (fields === undefined) {
        fields = new Map();
        entries.set(row.shard, fields);
      }
      let values = fields.get(row.field);
      if (values === undefined) {
        values = {};
        fields.set(row.field, values);
      }
      setOwn(values, row.key, parseJson(row.value));
    }
    return entries;
  }

  saveWindows(shard: number, seq: number, partials: WindowPartial[]): void {
    for (const partial of partials) {
      this.sql.exec(
        "INSERT OR REPLACE INTO hub_window (window_start, shard, seq, window_end, counts) VALUES (?, ?, ?, ?, ?)",
        partial.start,
        shard,
        seq,
        partial.end,
        JSON.stringify(partial.counts),
      );
    }
  }

  dropWindowsBefore(start: number): void {
    this.sql.exec("DELETE FROM hub_window WHERE window_start < ?", start);
    this.sql.exec("DELETE FROM hub_changed_window WHERE window_start < ?", start);
  }

  /** Records that an update is owed to the connected clients, with the windows it must carry. */
  owedUpdate(changedWindowStarts: number[]): void {
    for (const start of changedWindowStarts)
      this.sql.exec("INSERT OR IGNORE INTO hub_changed_window (window_start) VALUES (?)", start);
    this.setMeta("update_owed", "1");
  }

  isUpdateOwed(): boolean {
    return this.meta("update_owed") === "1";
  }

  changedWindowStarts(): number[] {
    return this.sql
      .exec<{ window_start: number }>("SELECT window_start FROM hub_changed_window")
      .toArray()
      .map((row) => row.window_start);
  }

  /** The owed update was sent (or nobody was listening). */
  updateSent(at: number): void {
    this.sql.exec("DELETE FROM hub_changed_window");
    this.setMeta("update_owed", "0");
    this.setMeta("last_broadcast_at", String(at));
  }

  lastBroadcastAt(): number {
    return Number(this.meta("last_broadcast_at") ?? 0);
  }

  site(): string | null {
    return this.meta("site");
  }

  rememberSite(site: string): void {
    if (this.meta("site") !== site) this.setMeta("site", site);
  }

  shardsSynced(): boolean {
    return this.meta("shards_synced") === "1";
  }

  markShardsSynced(): void {
    this.setMeta("shards_synced", "1");
  }

  private meta(key: MetaKey): string | null {
    const row = this.sql.exec<{ value: string }>("SELECT value FROM hub_meta WHERE key = ?", key).toArray()[0];
    return row?.value ?? null;
  }

  private setMeta(key: MetaKey, value: string): void {
    this.sql.exec("INSERT OR REPLACE INTO hub_meta (key, value) VALUES (?, ?)", key, value);
  }
}

/** Whether a stored `today` holds keyed values itself (a row written before entry rows). */
function hasKeyedValues(today: unknown): boolean {
  if (typeof today !== "object" || today === null) return false;
  const record = today as Record<string, unknown>;
  const nonEmpty = (value: unknown) => typeof value === "object" && value !== null && Object.keys(value).length > 0;
  if (KEYED_DAY_FIELDS.some((field) => nonEmpty(record[field]))) return true;
  const jobs = record["jobs"];
  return typeof jobs === "object" && jobs !== null && Object.values(jobs).some(nonEmpty);
}

/**
 * A stored `today` with the shard's entry rows put back into its keyed fields (`jobs.<name>`
 * into `jobs`). A row written before entry rows existed has its fields whole and no entries.
 */
function withEntries(today: unknown, entries: Map<string, Record<string, unknown>> | undefined): unknown {
  if (entries === undefined || typeof today !== "object" || today === null) return today;
  const result = { ...(today as Record<string, unknown>) };
  const jobs: Record<string, unknown> = { ...((result["jobs"] as Record<string, unknown> | undefined) ?? {}) };
  for (const [field, values] of entries) {
    if (field.startsWith("jobs.")) setOwn(jobs, field.slice("jobs.".length), values);
    else setOwn(result, field, values);
  }
  result["jobs"] = jobs;
  return result;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
