/**
 * Top products: per product, views (the `product_view` custom event), cart adds, items
 * purchased and their revenue, per window and per day, the day's top products live
 * (`overview.top_products`, ranked by purchases, revenue, adds, views). Built in before jobs
 * existed: its maps keep their name `products`.
 */
import type { EnrichedEvent } from "../../protocol";
import { admitKey, largestEntries } from "../shared/capped-map";
import { PRODUCT_VIEW_EVENT } from "../shared/commerce-events";
import { roundMoney } from "../shared/metric-counts";
import { fromMoneyUnits, toMoneyUnits } from "../shared/money";
import { emptyRecord } from "../shared/safe-record";
import { topEntries } from "../shared/top-list";
import { MAX_MAP_ENTRIES, type ProductPartial } from "../shard-to-hub/shard-live-state";
import type { AggregationJob } from "./aggregation-job";
import { DAY_MAP_STORE_CAP, WINDOW_MAP_CAP } from "./state-caps";

export interface ProductCounts {
  name: string;
  views: number;
  cart_adds: number;
  /** Items purchased (sum of quantities). */
  purchases: number;
  revenue_units: number;
}

export interface ProductTouch {
  product_id: string;
  name: string;
  views: number;
  cart_adds: number;
  purchases: number;
  revenue_units: number;
}

/** What the event does to per-product counts: a product view, a cart add, purchased items. */
export function productTouchesOf(event: EnrichedEvent): ProductTouch[] {
  if (event.type === "custom" && event.name === PRODUCT_VIEW_EVENT) {
    const id = event.props["product_id"];
    if (typeof id !== "string" && typeof id !== "number") return [];
    const name = event.props["name"];
    return [
      {
        product_id: String(id),
        name: typeof name === "string" ? name : "",
        views: 1,
        cart_adds: 0,
        purchases: 0,
        revenue_units: 0,
      },
    ];
  }
  if (event.type === "cart" && event.action === "add" && event.product_id !== "") {
    return [
      {
        product_id: event.product_id,
        name: event.product_name,
        views: 0,
        cart_adds: 1,
        purchases: 0,
        revenue_units: 0,
      },
    ];
  }
  if (event.type === "purchase") {
    return event.items.map((item) => ({
      product_id: item.product_id,
      name: item.name ?? "",
      views: 0,
      cart_adds: 0,
      purchases: item.quantity,
      revenue_units: toMoneyUnits(item.price) * item.quantity,
    }));
  }
  return [];
}

export function productWeight(product: ProductCounts): number {
  return product.views + product.cart_adds + product.purchases;
}

/** Adds product touches into a capped product map. */
export function addProductTouches(products: Record<string, ProductCounts>, touches: ProductTouch[], cap: number): void {
  for (const touch of touches) {
    if (!admitKey(products, touch.product_id, cap, productWeight)) continue;
    const product = products[touch.product_id] ?? { name: "", views: 0, cart_adds: 0, purchases: 0, revenue_units: 0 };
    if (touch.name !== "") product.name = touch.name;
    product.views += touch.views;
    product.cart_adds += touch.cart_adds;
    product.purchases += touch.purchases;
    product.revenue_units += touch.revenue_units;
    products[touch.product_id] = product;
  }
}

/** Whether the event touches any product: most events do not, and skip building touches. */
function touchesProducts(event: EnrichedEvent): boolean {
  return (
    event.type === "purchase" || event.type === "cart" || (event.type === "custom" && event.name === PRODUCT_VIEW_EVENT)
  );
}

function toProductPartial(product: ProductCounts): ProductPartial {
  return {
    name: product.name,
    views: product.views,
    cart_adds: product.cart_adds,
    purchases: product.purchases,
    revenue: fromMoneyUnits(product.revenue_units),
  };
}

/** Products rank by what the shop cares about most: purchases, then revenue, adds, views. */
const byProductImportance = (a: ProductPartial, b: ProductPartial) =>
  b.purchases - a.purchases || b.revenue - a.revenue || b.cart_adds - a.cart_adds || b.views - a.views;

export const topProductsJob: AggregationJob<ProductCounts, ProductCounts> = {
  name: "top_products",
  window: {
    storedMap: "products",
    legacyRowField: true,
    add(map, event) {
      if (touchesProducts(event)) addProductTouches(map, productTouchesOf(event), WINDOW_MAP_CAP);
    },
  },
  day: {
    storedMap: "products",
    legacyRowField: true,
    add(map, event) {
      if (touchesProducts(event)) addProductTouches(map, productTouchesOf(event), DAY_MAP_STORE_CAP);
    },
    report(map, partial) {
      const products = emptyRecord<ProductPartial>();
      for (const [id, product] of Object.entries(largestEntries(map, MAX_MAP_ENTRIES, productWeight)))
        products[id] = toProductPartial(product);
      partial.products = products;
    },
  },
  mergeDays() {
    const products = new Map<string, ProductPartial>();
    return {
      add(partial) {
        for (const [productId, product] of Object.entries(partial.products)) {
          const sum = products.get(productId);
          if (sum === undefined) {
            products.set(productId, { ...product });
            continue;
          }
          if (sum.name === "") sum.name = product.name;
          sum.views += product.views;
          sum.cart_adds += product.cart_adds;
          sum.purchases += product.purchases;
          sum.revenue = roundMoney(sum.revenue + product.revenue);
        }
      },
      showInOverview(overview) {
        overview.top_products = topEntries(products, byProductImportance).map(([productId, product]) => ({
          product_id: productId,
          name: product.name,
          views: product.views,
          cart_adds: product.cart_adds,
          purchases: product.purchases,
          revenue: product.revenue,
        }));
      },
    };
  },
};
