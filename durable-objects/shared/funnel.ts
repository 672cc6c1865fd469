/** The commerce funnel with its conversion rates, as protocol/live.ts defines them. */
import type { Funnel } from "../../protocol";

export type FunnelSteps = Omit<Funnel, "rates">;

/** `part / whole`, 0 when nobody reached the step before (no NaN or Infinity on the wire). */
function rate(part: number, whole: number): number {
  return whole > 0 ? part / whole : 0;
}

export function funnelWithRates(steps: FunnelSteps): Funnel {
  return {
    ...steps,
    rates: {
      product_view: rate(steps.product_views, steps.sessions),
      cart_add: rate(steps.cart_adds, steps.product_views),
      checkout: rate(steps.checkouts, steps.cart_adds),
      purchase: rate(steps.purchases, steps.checkouts),
      overall: rate(steps.purchases, steps.sessions),
    },
  };
}
