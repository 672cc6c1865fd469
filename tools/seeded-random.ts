/**
 * A small seeded random source and the distributions the traffic generator draws from.
 *
 * Seeded so a load run, a benchmark data set or a demo is the same every time for the same
 * seed: a figure that moves between runs then moved because the code did, not the traffic.
 * The generator is sfc32 (fast, 128-bit state, passes PractRand far beyond what we draw).
 */
export class SeededRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    // Spread one 32-bit seed over the state with splitmix32, then discard the first outputs
    // so nearby seeds do not start with correlated values.
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.uint32();
  }

  /** Uniform 32-bit unsigned integer. */
  uint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.uint32() / 4_294_967_296;
  }

  /** Uniform integer in [min, max] (both inclusive). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError("pick from an empty list");
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Picks an item with probability proportional to its weight. */
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, weight] of items) total += weight;
    let target = this.next() * total;
    for (const [item, weight] of items) {
      target -= weight;
      if (target < 0) return item;
    }
    const last = items[items.length - 1];
    if (last === undefined) throw new RangeError("weighted pick from an empty list");
    return last[0];
  }

  /** Exponential with the given mean: the gap between Poisson arrivals. */
  exponential(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }

  /** Number of trials up to and including the first success, success probability `p` (≥ 1, mean 1/p). */
  geometric(p: number): number {
    if (p >= 1) return 1;
    return 1 + Math.floor(Math.log(1 - this.next()) / Math.log(1 - p));
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Log-normal given its median and the standard deviation of its logarithm. */
  logNormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }
}

/**
 * Zipf(s) over ranks 0..n-1: rank k has weight 1/(k+1)^s. A few products get most views, the
 * long tail still appears — what product catalogues look like. Sampling is a binary search
 * over the precomputed cumulative weights (O(log n), no allocation).
 */
export class ZipfDistribution {
  private readonly cumulative: Float64Array;

  constructor(
    readonly size: number,
    readonly exponent: number,
  ) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError("Zipf size must be a positive integer");
    this.cumulative = new Float64Array(size);
    let total = 0;
    for (let rank = 0; rank < size; rank++) {
      total += 1 / (rank + 1) ** exponent;
      this.cumulative[rank] = total;
    }
    for (let rank = 0; rank < size; rank++) this.cumulative[rank] = (this.cumulative[rank] ?? 0) / total;
  }

  /** A rank in [0, size). */
  sample(random: SeededRandom): number {
    const target = random.next();
    let low = 0;
    let high = this.size - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.cumulative[middle] ?? 1) > target) high = middle;
      else low = middle + 1;
    }
    return low;
  }

  /** Probability of `rank`. */
  probability(rank: number): number {
    const upTo = this.cumulative[rank] ?? 0;
    return rank === 0 ? upTo : upTo - (this.cumulative[rank - 1] ?? 0);
  }
}
