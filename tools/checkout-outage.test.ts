import { describe, expect, it } from "vitest";
import { BatchStream } from "./batch-stream";
import { withCheckoutOutage } from "./checkout-outage";

describe("checkout-outage scenario", () => {
  it("sends checkouts and purchases until the outage starts, none after, and everything else throughout", () => {
    let clock = 0;
    const next = withCheckoutOutage(
      () => stream.next(),
      1_000,
      () => clock,
    );
    const stream = new BatchStream({ seed: 7, runId: "outage" });
    const count = (batches: number) => {
      const types = { checkouts: 0, purchases: 0, page_views: 0 };
      for (let index = 0; index < batches; index++) {
        for (const event of next().batch.events) {
          if (event.type === "purchase") types.purchases++;
          if (event.type === "cart" && event.action === "checkout") types.checkouts++;
          if (event.type === "page_view") types.page_views++;
        }
      }
      return types;
    };
    const before = count(500);
    expect(before.checkouts).toBeGreaterThan(10);
    expect(before.purchases).toBeGreaterThan(5);
    clock = 1_000;
    const during = count(500);
    expect(during).toMatchObject({ checkouts: 0, purchases: 0 });
    expect(during.page_views).toBeGreaterThan(before.page_views / 2);
  });
});
