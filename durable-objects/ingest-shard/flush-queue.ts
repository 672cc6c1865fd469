/**
 * A durable outbox for one ClickHouse table: rows wait in a SQLite queue table until an
 * insert carrying them was acknowledged, then they are deleted (dedup-token.ts and
 * insert-bisection.ts explain the tokens, persisted chunk bounds and bisection that make this
 * exactly-once).
 *
 * Each queue entry has a never-reused sequence number (not the SQLite rowid, which can be
 * reused after deletes), and expands to one or more rows of the target table (an event is
 * one row; a sealed window part is a few).
 *
 * The queue's size and last sequence number are kept in memory, read from the table when
 * first needed: an enqueue writes its entries and nothing else. The last number survives an
 * empty table through `next_seq:<queue>` in meta, written when entries are removed (the
 * numbers still in the table cover the rest).
 */
import type { ClickHouse } from "../../clickhouse/client";
import { ClickHouseError } from "../../clickhouse/client";
import { toDateTime64, type QuarantineRow, type RowOf, type TableName } from "../../clickhouse/rows";
import { dedupToken, rangeKey, type TokenScope } from "./dedup-token";
import { insertBisecting, type SequencedRow } from "./insert-bisection";
import type { ShardMeta } from "./shard-meta";

export type QueueTable = "pending_events" | "window_parts" | "pending_sessions";

/** Longest error text kept with a quarantined row. */
const MAX_QUARANTINE_ERROR_LENGTH = 2_000;
/**
 * Refused rows one drain may quarantine. A few bad rows are data; many mean the table itself
 * is wrong (a schema deployed out of step refuses every row with the same "data" error), so
 * past this the drain stops and backs off instead of emptying the queue into quarantine.
 */
export const MAX_REFUSED_ROWS_PER_DRAIN = 20;

export interface FlushContext {
  clickhouse: ClickHouse;
  scope: TokenScope;
  now: number;
}

export class FlushQueue<T extends TableName> {
  /** Entries waiting and the newest sequence number; undefined until read from storage. */
  private counts: { size: number; lastSeq: number } | undefined = undefined;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly meta: ShardMeta,
    readonly queue: QueueTable,
    readonly target: T,
    /** Queue entries per insert. */
    private readonly entriesPerInsert: number,
  ) {}

  /** Adds an entry (its rows as JSON); call inside the caller's transaction. */
  enqueue(rows: RowOf[T][], now: number): void {
    this.enqueueAll([rows], now);
  }

  /**
   * Adds entries in order in ONE statement (a batch's 20 events cost one statement, not 20),
   * with one sequence/size update for all of them. Storage binds few parameters per
   * statement, so the entries travel as one JSON array, serialised once: json_each hands each
   * element back as its JSON text, numbered from 0. SQLite keeps a number's and a string's
   * text as written (it does not re-render them), so a row reads back exactly as given
   * (flush-queue.test.ts). An array of each entry's own JSON text, as before, cost a second
   * serialisation that escaped every quote again: 6 % of the shard's CPU per batch.
   */
  enqueueAll(entries: RowOf[T][][], now: number): void {
    if (entries.length === 0) return;
    const counts = this.current();
    const last = counts.lastSeq;
    this.storage.sql.exec(
      `INSERT INTO ${this.queue} (seq, stored_at, row) SELECT ? + key, ?, value FROM json_each(?)`,
      last + 1,
      now,
      JSON.stringify(entries),
    );
    counts.lastSeq = last + entries.length;
    counts.size += entries.length;
  }

  /**
   * Forgets the in-memory counts (the caller's transaction rolled back, or another writer
   * changed the table): the next use reads them from storage again.
   */
  forget(): void {
    this.counts = undefined;
  }

  private current(): { size: number; lastSeq: number } {
    if (this.counts === undefined) {
      const row = this.storage.sql
        .exec<{ size: number; last: number | null }>(`SELECT count(*) AS size, max(seq) AS last FROM ${this.queue}`)
        .one();
      this.counts = {
        size: row.size,
        lastSeq: Math.max(row.last ?? 0, this.meta.number(`next_seq:${this.queue}`)),
      };
    }
    return this.counts;
  }

  /** Entries waiting (kept in memory: counting a 100k-row table per batch would cost milliseconds). */
  get size(): number {
    return this.current().size;
  }

  /** Sequence number of the newest entry ever added (0 before the first). */
  get lastSeq(): number {
    return this.current().lastSeq;
  }

  /**
   * Sequence number of the oldest waiting entry, from meta alone: entries leave in sequence
   * order (a whole chunk at a time), so the waiting ones are the newest `size`.
   */
  get firstWaitingSeq(): number {
    return this.lastSeq - this.size + 1;
  }

  oldestStoredAt(): number | null {
    const row = this.storage.sql
      .exec<{ stored_at: number }>(`SELECT stored_at FROM ${this.queue} ORDER BY seq LIMIT 1`)
      .toArray()[0];
    return row?.stored_at ?? null;
  }

  newestStoredAt(): number | null {
    const row = this.storage.sql
      .exec<{ stored_at: number }>(`SELECT stored_at FROM ${this.queue} ORDER BY seq DESC LIMIT 1`)
      .toArray()[0];
    return row?.stored_at ?? null;
  }

  /**
   * Inserts up to `maxInserts` chunks. Throws the ClickHouseError of a retryable failure (the
   * caller backs off); data errors are handled by bisection and quarantine.
   */
  async drain(context: FlushContext, maxInserts: number): Promise<void> {
    let refused = 0;
    for (let insert = 0; insert < maxInserts; insert++) {
      const chunk = this.currentChunk();
      if (chunk === null) return;
      const entries = this.storage.sql
        .exec<{ seq: number; row: string }>(
          `SELECT seq, row FROM ${this.queue} WHERE seq BETWEEN ? AND ? ORDER BY seq`,
          chunk.first,
          chunk.last,
        )
        .toArray()
        .map((entry): SequencedRow<RowOf[T][]> => ({ seq: entry.seq, row: JSON.parse(entry.row) as RowOf[T][] }));
      await insertBisecting(entries, {
        insert: (rows, token) => context.clickhouse.insert(this.target, rows.flat(), token),
        tokenOf: (first, last) => dedupToken(context.scope, this.target, rangeKey(first, last)),
        isRetryable: (error) => !(error instanceof ClickHouseError) || error.retryable,
        onInserted: (inserted) => this.remove(inserted, context.now),
        onRefused: async (entry, error) => {
          if (++refused > MAX_REFUSED_ROWS_PER_DRAIN) {
            throw new ClickHouseError(
              `ClickHouse refused more than ${MAX_REFUSED_ROWS_PER_DRAIN} ${this.target} rows in one flush; backing off instead of quarantining them all`,
              null,
              true,
              null,
              {
                cause: error,
              },
            );
          }
          await this.quarantine(entry, error, context);
        },
      });
      this.storage.sql.exec(
        "DELETE FROM meta WHERE key IN (?, ?)",
        `inflight_first:${this.queue}`,
        `inflight_last:${this.queue}`,
      );
    }
  }

  /**
   * The chunk being flushed: bounds persisted at its first attempt and reused on every retry,
   * so a retry never widens it (see dedup-token.ts). Null when the queue is empty.
   */
  private currentChunk(): { first: number; last: number } | null {
    const first = this.meta.number(`inflight_first:${this.queue}`, -1);
    const last = this.meta.number(`inflight_last:${this.queue}`, -1);
    if (first >= 0 && last >= first) return { first, last };
    const seqs = this.storage.sql
      .exec<{ seq: number }>(`SELECT seq FROM ${this.queue} ORDER BY seq LIMIT ?`, this.entriesPerInsert)
      .toArray();
    const chunkFirst = seqs[0]?.seq;
    const chunkLast = seqs[seqs.length - 1]?.seq;
    if (chunkFirst === undefined || chunkLast === undefined) return null;
    this.storage.transactionSync(() => {
      this.meta.set(`inflight_first:${this.queue}`, chunkFirst);
      this.meta.set(`inflight_last:${this.queue}`, chunkLast);
    });
    return { first: chunkFirst, last: chunkLast };
  }

  private remove(entries: SequencedRow<RowOf[T][]>[], now: number): void {
    const first = entries[0];
    const last = entries[entries.length - 1];
    if (first === undefined || last === undefined) return;
    const rows = entries.reduce((total, entry) => total + entry.row.length, 0);
    const counts = this.current();
    this.storage.transactionSync(() => {
      this.storage.sql.exec(`DELETE FROM ${this.queue} WHERE seq BETWEEN ? AND ?`, first.seq, last.seq);
      this.meta.set(`next_seq:${this.queue}`, counts.lastSeq);
      this.meta.count(`flushed_rows_${this.target}`, rows);
      this.meta.set("last_flush_at", now);
    });
    counts.size -= entries.length;
  }

  /** Moves one refused entry to ClickHouse's quarantine table (with its own dedup token), then drops it here. */
  private async quarantine(entry: SequencedRow<RowOf[T][]>, error: unknown, context: FlushContext): Promise<void> {
    const message = (error instanceof Error ? error.message : String(error)).slice(0, MAX_QUARANTINE_ERROR_LENGTH);
    const row: QuarantineRow = {
      site: context.scope.site,
      target_table: this.target,
      quarantined_at: toDateTime64(context.now),
      error: message,
      row: JSON.stringify(entry.row.length === 1 ? entry.row[0] : entry.row),
    };
    await context.clickhouse.insert(
      "quarantine",
      [row],
      dedupToken(context.scope, "quarantine", `${this.target}:${entry.seq}`),
    );
    this.storage.transactionSync(() => {
      this.storage.sql.exec(`DELETE FROM ${this.queue} WHERE seq = ?`, entry.seq);
      this.meta.set(`next_seq:${this.queue}`, this.current().lastSeq);
      this.meta.count("quarantined_rows", entry.row.length);
    });
    this.current().size -= 1;
  }
}
