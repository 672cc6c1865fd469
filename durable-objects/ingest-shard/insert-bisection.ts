/**
 * How one bad row never blocks the rest: a data error (ClickHouse refuses the rows) bisects the
 * chunk; halves that insert are done, a single refused row goes to `quarantine`. A half's
 * dedup token is its own first–last range, disjoint from every other chunk's (dedup-token.ts).
 */

export interface SequencedRow<R> {
  seq: number;
  row: R;
}

export interface BisectHandlers<R> {
  /** Inserts rows under a token; throws on failure. */
  insert(rows: R[], token: string): Promise<void>;
  /** Token of the rows with sequence numbers first..last. */
  tokenOf(firstSeq: number, lastSeq: number): string;
  /** True when retrying the same insert later can succeed (network, server down, overload). */
  isRetryable(error: unknown): boolean;
  /** These rows landed: delete them now, so progress survives a later failure. */
  onInserted(rows: SequencedRow<R>[]): void;
  /** ClickHouse refused this single row: move it aside. May throw a retryable error. */
  onRefused(row: SequencedRow<R>, error: unknown): Promise<void>;
}

/**
 * Inserts `rows` (ascending seq) as one insert; on a data error, splits in halves until the
 * refused rows are isolated. A retryable error is rethrown at once: the caller backs off and
 * retries the same persisted chunk later (rows already inserted are gone from it by then).
 */
export async function insertBisecting<R>(rows: SequencedRow<R>[], handlers: BisectHandlers<R>): Promise<void> {
  const first = rows[0];
  const last = rows[rows.length - 1];
  if (first === undefined || last === undefined) return;
  try {
    await handlers.insert(
      rows.map((entry) => entry.row),
      handlers.tokenOf(first.seq, last.seq),
    );
  } catch (error) {
    if (handlers.isRetryable(error)) throw error;
    if (rows.length === 1) {
      await handlers.onRefused(first, error);
      return;
    }
    const middle = Math.ceil(rows.length / 2);
    await insertBisecting(rows.slice(0, middle), handlers);
    await insertBisecting(rows.slice(middle), handlers);
    return;
  }
  handlers.onInserted(rows);
}
