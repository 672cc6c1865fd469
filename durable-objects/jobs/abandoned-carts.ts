/**
 * Abandoned carts: per day, the sessions that closed that day with value in their cart and no
 * purchase (session-state.ts isAbandonedCart), and the value left in them. Live:
 * `overview.abandoned_carts`. Built in before jobs existed: its record keeps its field
 * `abandoned` of the day's row.
 */
import { isAbandonedCart } from "../ingest-shard/session-state";
import { roundMoney } from "../shared/metric-counts";
import { fromMoneyUnits } from "../shared/money";
import type { AggregationJob } from "./aggregation-job";

export interface AbandonedCarts {
  sessions: number;
  /** Money units. */
  value_units: number;
}

export const abandonedCartsJob: AggregationJob<never, never, AbandonedCarts> = {
  name: "abandoned_carts",
  dayRecord: {
    rowField: "abandoned",
    empty: () => ({ sessions: 0, value_units: 0 }),
    takesClosedSession: isAbandonedCart,
    sessionClosed(abandoned, session) {
      abandoned.sessions += 1;
      abandoned.value_units += session.cart_units;
    },
    report(abandoned, partial) {
      partial.abandoned_carts = { sessions: abandoned.sessions, value: fromMoneyUnits(abandoned.value_units) };
    },
  },
  mergeDays() {
    const sum = { sessions: 0, value: 0 };
    return {
      add({ abandoned_carts }) {
        sum.sessions += abandoned_carts.sessions;
        sum.value = roundMoney(sum.value + abandoned_carts.value);
      },
      showInOverview(overview) {
        overview.abandoned_carts = sum;
      },
    };
  },
};
