/**
 * The LiveHub's SQLite storage: everything its in-memory MergedShards is rebuilt from after
 * hibernation or eviction, plus the "an update is owed" marker that lets a hub that went to
 * sleep between a shard's send and its broadcast alarm still send that update.
 *
 * Rows are bounded: one per shard, one per (retained window, shard), one per window changed
 * since the last broadcast (all retained windows at most), and a few meta keys.
 */
import { metricCountsSchema } from "../../protocol";
import type { WindowPartial } from "../shard-to-hub/shard-live-state";
import type { ShardRecord, ShardWindow } from "./merged-shards";
import { dayPartialSchema } from "../shard-to-hub/shard-live-state";

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
`;

type MetaKey = "site" | "update_owed" | "last_broadcast_at" | "shards_synced";

export class HubStorage {
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
    for (const row of this.sql.exec<{ shard: number; seq: number; sent_at: number; online: number; today: string }>(
      "SELECT shard, seq, sent_at, online, today FROM hub_shard",
    )) {
      const today = dayPartialSchema.safeParse(parseJson(row.today));
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

  saveShard(record: ShardRecord): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO hub_shard (shard, seq, sent_at, online, today) VALUES (?, ?, ?, ?, ?)",
      record.shard,
      record.seq,
      record.at,
      record.online,
      JSON.stringify(record.today),
    );
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

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
