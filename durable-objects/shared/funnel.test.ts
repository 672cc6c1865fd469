import { describe, expect, it } from "vitest";
import { funnelSchema } from "../../protocol";
import { funnelWithRates } from "./funnel";

describe("funnelWithRates", () => {
  it("divides each step by the one before and purchases by sessions", () => {
    const funnel = funnelWithRates({ sessions: 200, product_views: 100, cart_adds: 25, checkouts: 10, purchases: 5 });
    expect(funnel.rates).toEqual({ product_view: 0.5, cart_add: 0.25, checkout: 0.4, purchase: 0.5, overall: 0.025 });
    expect(funnelSchema.parse(funnel)).toEqual(funnel);
  });

  it("reports 0, never NaN, after an empty step", () => {
    const funnel = funnelWithRates({ sessions: 0, product_views: 0, cart_adds: 0, checkouts: 0, purchases: 0 });
    expect(Object.values(funnel.rates)).toEqual([0, 0, 0, 0, 0]);
  });
});
