/** What the commerce events mean, for every aggregation that reads them (counters, sessions, products). */
import type { EnrichedEvent } from "../../protocol";
import { toMoneyUnits } from "./money";

/** The custom event an app sends when a product page is viewed: `track("product_view", { product_id, name? })`. */
export const PRODUCT_VIEW_EVENT = "product_view";

/** Value a cart add/remove moves, money units: its explicit value, else price × quantity. */
export function cartLineUnits(event: EnrichedEvent): number {
  if (event.value > 0) return toMoneyUnits(event.value);
  return toMoneyUnits(event.price) * Math.max(event.quantity, 1);
}
