import { describe, expect, it } from "vitest";
import { fnv1a32, ingestShardName, shardIndexFor } from "./shard-routing";

describe("shard routing", () => {
  it("computes FNV-1a 32 (reference values)", () => {
    expect(fnv1a32("")).toBe(0x811c9dc5);
    expect(fnv1a32("a")).toBe(0xe40c292c);
    expect(fnv1a32("foobar")).toBe(0xbf9cf968);
  });

  it("sends a visitor to the same shard every time, within range", () => {
    for (let index = 0; index < 200; index++) {
      const shard = shardIndexFor(`v-${index}`, 8);
      expect(shard).toBeGreaterThanOrEqual(0);
      expect(shard).toBeLessThan(8);
      expect(shardIndexFor(`v-${index}`, 8)).toBe(shard);
    }
  });

  it("spreads visitors over every shard", () => {
    const used = new Set(Array.from({ length: 400 }, (_, index) => shardIndexFor(`v-${index}`, 8)));
    expect(used.size).toBe(8);
  });

  it("names one object per site and shard", () => {
    expect(ingestShardName("demo", 3)).toBe("demo:3");
  });
});
