/**
 * Items in arrival order, and a wait for the next one a test expects. The live-feed test
 * clients (workerd's and Node's) both keep their messages in one; it only needs setTimeout and
 * performance.now, so it runs in either runtime.
 */
export class ArrivalQueue<T> {
  readonly items: T[] = [];
  /** performance.now() at each item's arrival. */
  private readonly arrivals: number[] = [];
  private readonly listeners = new Set<() => void>();
  private cursor = 0;

  push(item: T): void {
    this.items.push(item);
    this.arrivals.push(performance.now());
    for (const listener of this.listeners) listener();
  }

  /** The next item (after those already taken) that satisfies `predicate`, and when it arrived. */
  async next(predicate: (item: T) => boolean, timeoutMs: number): Promise<{ item: T; at: number }> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      while (this.cursor < this.items.length) {
        const index = this.cursor++;
        const item = this.items[index];
        if (item !== undefined && predicate(item)) return { item, at: this.arrivals[index] ?? performance.now() };
      }
      const remaining = deadline - performance.now();
      if (remaining <= 0) throw new Error(`no matching message within ${timeoutMs} ms (${this.items.length} received)`);
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.listeners.delete(done);
          resolve();
        };
        const timer = setTimeout(done, remaining);
        this.listeners.add(done);
      });
    }
  }
}
