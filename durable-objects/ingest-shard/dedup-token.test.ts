import { describe, expect, it } from "vitest";
import { dedupToken, rangeKey } from "./dedup-token";

describe("dedup tokens", () => {
  it("derive only from site, shard, storage epoch, table and the rows' range", () => {
    const scope = { site: "shop", shard: 3, epoch: "a1b2" };
    expect(dedupToken(scope, "events", rangeKey(101, 5100))).toBe("shop:3:a1b2:events:101-5100");
    expect(dedupToken(scope, "events", rangeKey(101, 5100))).toBe(
      dedupToken({ ...scope }, "events", rangeKey(101, 5100)),
    );
    expect(dedupToken({ ...scope, epoch: "ffff" }, "events", rangeKey(101, 5100))).not.toBe(
      dedupToken(scope, "events", rangeKey(101, 5100)),
    );
  });
});
