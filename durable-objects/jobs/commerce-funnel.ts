/**
 * The commerce funnel: per day, the sessions that reached each step (product view → cart add
 * → checkout → purchase), each session once per step, in a closed funnel (session-state.ts
 * funnelDepth: a step counts only once every step before it is reached, so no rate exceeds
 * 100%). Steps come from the session state (`context.reached`); the funnel's `sessions` are
 * the day's sessions counter. Live: `overview.funnel` with its rates. Built in before jobs
 * existed: its record keeps its field `funnel` of the day's row.
 */
import { funnelWithRates } from "../shared/funnel";
import type { AggregationJob } from "./aggregation-job";

export interface FunnelStepCounts {
  product_views: number;
  cart_adds: number;
  checkouts: number;
  purchases: number;
}

export const commerceFunnelJob: AggregationJob<never, never, FunnelStepCounts> = {
  name: "commerce_funnel",
  dayRecord: {
    rowField: "funnel",
    empty: () => ({ product_views: 0, cart_adds: 0, checkouts: 0, purchases: 0 }),
    add(funnel, _event, { reached }) {
      if (reached.product_view) funnel.product_views += 1;
      if (reached.cart_add) funnel.cart_adds += 1;
      if (reached.checkout) funnel.checkouts += 1;
      if (reached.purchase) funnel.purchases += 1;
    },
    report(funnel, partial) {
      partial.funnel = { sessions: partial.counts.sessions, ...funnel };
    },
  },
  mergeDays() {
    const steps = { sessions: 0, product_views: 0, cart_adds: 0, checkouts: 0, purchases: 0 };
    return {
      add({ funnel }) {
        steps.sessions += funnel.sessions;
        steps.product_views += funnel.product_views;
        steps.cart_adds += funnel.cart_adds;
        steps.checkouts += funnel.checkouts;
        steps.purchases += funnel.purchases;
      },
      showInOverview(overview) {
        overview.funnel = funnelWithRates(steps);
      },
    };
  },
};
