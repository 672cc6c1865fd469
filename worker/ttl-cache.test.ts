import { describe, expect, it } from "vitest";
import { TtlCache } from "./ttl-cache";

describe("TtlCache", () => {
  it("forgets an entry once its TTL has passed", () => {
    let now = 1_000;
    const cache = new TtlCache<string>(10, 5_000, () => now);
    cache.set("a", "x");
    now += 4_999;
    expect(cache.get("a")).toBe("x");
    now += 1;
    expect(cache.get("a")).toBeUndefined();
  });

  it("never holds more than its bound, dropping the oldest first", () => {
    const cache = new TtlCache<number>(3, 60_000);
    for (let index = 0; index < 10; index++) cache.set(`k${index}`, index);
    expect(cache.size).toBe(3);
    expect(cache.get("k6")).toBeUndefined();
    expect(cache.get("k9")).toBe(9);
  });

  it("loads a missing key once for concurrent callers and caches the answer, null included", async () => {
    const cache = new TtlCache<string | null>(10, 60_000);
    let loads = 0;
    const load = async () => {
      loads++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return null;
    };
    expect(await Promise.all([cache.getOrLoad("t", load), cache.getOrLoad("t", load)])).toEqual([null, null]);
    expect(await cache.getOrLoad("t", load)).toBeNull();
    expect(loads).toBe(1);
  });

  it("does not cache a failed load", async () => {
    const cache = new TtlCache<number>(10, 60_000);
    await expect(cache.getOrLoad("x", async () => Promise.reject(new Error("down")))).rejects.toThrow("down");
    expect(await cache.getOrLoad("x", async () => 7)).toBe(7);
  });

  it("drops keys by prefix", () => {
    const cache = new TtlCache<number>(10, 60_000);
    cache.set("site:a", 1);
    cache.set("site:b", 2);
    cache.set("token:c", 3);
    cache.deletePrefix("site:");
    expect([cache.get("site:a"), cache.get("site:b"), cache.get("token:c")]).toEqual([undefined, undefined, 3]);
  });
});
