/** Builders of enriched batches and events for the IngestShard tests. */
import {
  emptyEnrichedFields,
  type EnrichedBatch,
  type EnrichedEvent,
  type PropValue,
  type PurchaseItem,
} from "../../protocol";

let eventCounter = 0;

export function enrichedEvent(overrides: Partial<EnrichedEvent> & Pick<EnrichedEvent, "type" | "ts">): EnrichedEvent {
  return {
    event_id: `e${eventCounter++}`,
    ...emptyEnrichedFields(),
    ...overrides,
  };
}

export const pageView = (ts: number, path = "/", referrerHost = ""): EnrichedEvent =>
  enrichedEvent({ type: "page_view", ts, url: `https://shop.example${path}`, path, referrer_host: referrerHost });

export const productView = (ts: number, productId: string, name = ""): EnrichedEvent => {
  const props: Record<string, PropValue> = { product_id: productId };
  if (name !== "") props["name"] = name;
  return enrichedEvent({ type: "custom", ts, name: "product_view", props });
};

export const cartAdd = (ts: number, productId: string, price: number, quantity = 1, currency = "EUR"): EnrichedEvent =>
  enrichedEvent({
    type: "cart",
    ts,
    action: "add",
    product_id: productId,
    product_name: `name of ${productId}`,
    price,
    quantity,
    currency,
  });

export const cartRemove = (ts: number, productId: string, price: number, quantity = 1): EnrichedEvent =>
  enrichedEvent({ type: "cart", ts, action: "remove", product_id: productId, price, quantity });

export const checkout = (ts: number, value: number, currency = "EUR"): EnrichedEvent =>
  enrichedEvent({ type: "cart", ts, action: "checkout", value, currency });

export const purchase = (ts: number, value: number, currency = "EUR", items: PurchaseItem[] = []): EnrichedEvent =>
  enrichedEvent({ type: "purchase", ts, order_id: `o-${eventCounter}`, value, currency, items });

export const vital = (ts: number, path: string, metric: string, value: number): EnrichedEvent =>
  enrichedEvent({ type: "vital", ts, url: `https://shop.example${path}`, path, metric, metric_value: value });

let batchCounter = 0;

export function enrichedBatch(
  site: string,
  events: EnrichedEvent[],
  overrides: Partial<EnrichedBatch> = {},
): EnrichedBatch {
  return {
    site,
    shard: 0,
    batch_id: `b-${Date.now().toString(36)}-${batchCounter++}`,
    received_at: Date.now(),
    visitor_id: "v-1",
    session_id: null,
    country: "DE",
    device: "desktop",
    browser: "Firefox",
    os: "Linux",
    events,
    ...overrides,
  };
}
