/**
 * Admission to the engine: how many queries run at once, and which ones may wait.
 *
 * Every running query holds one of `capacity` slots. Read-only queries (the SQL console,
 * the History tab, any GET) may hold at most `readOnlyCapacity` of them, so the remaining
 * slots always stay free for writes: however many hostile or slow reads arrive, a shard's
 * flush or a migration never waits behind them. Waiters are served in arrival order, except
 * that a write may pass reads held back by their share. Beyond `maxPending` admitted
 * queries (running or waiting), new ones are refused instead of buffered.
 */
import { ServerException } from "./server-exception";

export interface QuerySlotsOptions {
  capacity: number;
  readOnlyCapacity: number;
  maxPending: number;
}

interface Waiter {
  readOnly: boolean;
  grant: () => void;
}

export class QuerySlots {
  private running = 0;
  private runningReadOnly = 0;
  private readonly waiting: Waiter[] = [];

  constructor(private readonly options: QuerySlotsOptions) {
    if (options.capacity < 1 || options.readOnlyCapacity < 1 || options.readOnlyCapacity > options.capacity) {
      throw new RangeError(`invalid query slots: capacity ${options.capacity}, read-only ${options.readOnlyCapacity}`);
    }
  }

  get pending(): number {
    return this.running + this.waiting.length;
  }

  /**
   * Resolves with the function that gives the slot back (call it exactly once). Rejects with
   * TOO_MANY_SIMULTANEOUS_QUERIES beyond the bound, or QUERY_WAS_CANCELLED if `signal` fires
   * while waiting.
   */
  acquire(readOnly: boolean, signal?: AbortSignal): Promise<() => void> {
    if (this.pending >= this.options.maxPending) {
      return Promise.reject(
        ServerException.of(
          "TOO_MANY_SIMULTANEOUS_QUERIES",
          `Too many simultaneous queries. Maximum: ${this.options.maxPending}`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        readOnly,
        grant: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve(this.releaser(readOnly));
        },
      };
      const onAbort = () => {
        const index = this.waiting.indexOf(waiter);
        if (index < 0) return;
        this.waiting.splice(index, 1);
        reject(ServerException.of("QUERY_WAS_CANCELLED", "Query was cancelled while waiting for a free slot"));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiting.push(waiter);
      this.admit();
    });
  }

  private releaser(readOnly: boolean): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running -= 1;
      if (readOnly) this.runningReadOnly -= 1;
      this.admit();
    };
  }

  private admit(): void {
    for (let index = 0; index < this.waiting.length && this.running < this.options.capacity; ) {
      const waiter = this.waiting[index];
      if (waiter === undefined) break;
      if (waiter.readOnly && this.runningReadOnly >= this.options.readOnlyCapacity) {
        index += 1;
        continue;
      }
      this.waiting.splice(index, 1);
      this.running += 1;
      if (waiter.readOnly) this.runningReadOnly += 1;
      waiter.grant();
    }
  }
}
