/**
 * The demo shop at /demo/: a few products, a cart, checkout and purchase, tracked by the SDK
 * loaded with the one-line script tag (`window.edgepulse`). Product pages are SPA navigations
 * (`?product=…` with pushState), which the SDK counts as page views by itself; everything
 * else is an explicit call, exactly as a real shop would make it.
 */
import type {} from "../../sdk/src/global-queue";
import type { QueuedCall } from "../../sdk/src/types";
import { byId, h, setText } from "./dom";
import { formatMoney } from "./format";

interface Product {
  id: string;
  name: string;
  price: number;
  description: string;
  colour: string;
}

const CURRENCY = "EUR";
const PRODUCTS: readonly Product[] = [
  {
    id: "mug-blue",
    name: "Blue mug",
    price: 12.5,
    description: "Stoneware, 350 ml, dishwasher safe.",
    colour: "#1d4ed8",
  },
  {
    id: "beans-espresso",
    name: "Espresso beans",
    price: 9.9,
    description: "250 g, medium-dark roast, chocolate notes.",
    colour: "#78350f",
  },
  {
    id: "kettle-pourover",
    name: "Pour-over kettle",
    price: 39,
    description: "Gooseneck, 1 l, for slow mornings.",
    colour: "#374151",
  },
  {
    id: "towel-tea",
    name: "Tea towel",
    price: 7.5,
    description: "Linen, striped, dries every cup.",
    colour: "#b45309",
  },
];

/** Calls the tracker whether or not ep.js has loaded yet (a queue until then, as the SDK documents). */
function track(call: QueuedCall): void {
  window.edgepulse ??= [];
  window.edgepulse.push(call);
}

const cart = new Map<string, number>();
const status = byId("shop-status", HTMLElement);
const detail = byId("product-detail", HTMLElement);
const cartContent = byId("cart-content", HTMLElement);
const cartCount = byId("cart-count", HTMLAnchorElement);

function productById(id: string | null): Product | undefined {
  return PRODUCTS.find((product) => product.id === id);
}

function cartValue(): number {
  let value = 0;
  for (const [id, quantity] of cart) value += (productById(id)?.price ?? 0) * quantity;
  return Math.round(value * 100) / 100;
}

function say(text: string): void {
  setText(status, text);
}

function addToCart(product: Product): void {
  cart.set(product.id, (cart.get(product.id) ?? 0) + 1);
  track([
    "cart",
    "add",
    { product_id: product.id, name: product.name, price: product.price, quantity: 1, currency: CURRENCY },
  ]);
  say(`Added ${product.name} to the cart.`);
  renderCart();
}

function removeFromCart(product: Product): void {
  const quantity = cart.get(product.id) ?? 0;
  if (quantity <= 1) cart.delete(product.id);
  else cart.set(product.id, quantity - 1);
  track([
    "cart",
    "remove",
    { product_id: product.id, name: product.name, price: product.price, quantity: 1, currency: CURRENCY },
  ]);
  say(`Removed one ${product.name}.`);
  renderCart();
}

function checkout(): void {
  const value = cartValue();
  track(["cart", "checkout", { value, currency: CURRENCY }]);
  say(`Checkout started: ${formatMoney(value, CURRENCY)}.`);
  renderCart(true);
}

function buy(): void {
  const value = cartValue();
  const items = [...cart].flatMap(([id, quantity]) => {
    const product = productById(id);
    return product ? [{ product_id: product.id, name: product.name, price: product.price, quantity }] : [];
  });
  const orderId = `o-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  track(["purchase", { order_id: orderId, value, currency: CURRENCY, items }]);
  // A purchase often ends the visit: send it now rather than after the batch delay.
  track(["flush"]);
  cart.clear();
  say(`Thank you! Order ${orderId} (${formatMoney(value, CURRENCY)}) is on its way.`);
  renderCart();
}

function renderCart(checkingOut = false): void {
  const count = [...cart.values()].reduce((sum, quantity) => sum + quantity, 0);
  setText(cartCount, `Cart (${count})`);
  if (cart.size === 0) {
    cartContent.replaceChildren(h("p", { class: "muted" }, "Your cart is empty."));
    return;
  }
  const rows = [...cart].map(([id, quantity]) => {
    const product = productById(id);
    if (product === undefined) return null;
    const remove = h("button", { type: "button", "aria-label": `Remove one ${product.name}` }, "Remove one");
    remove.addEventListener("click", () => removeFromCart(product));
    return h("li", {}, `${quantity} × ${product.name} — ${formatMoney(product.price * quantity, CURRENCY)} `, remove);
  });
  const total = h("p", { class: "cart-total" }, `Total: ${formatMoney(cartValue(), CURRENCY)}`);
  const action = checkingOut
    ? h("button", { type: "button", "data-testid": "buy" }, "Buy now")
    : h("button", { type: "button", "data-testid": "checkout" }, "Checkout");
  action.addEventListener("click", checkingOut ? buy : checkout);
  cartContent.replaceChildren(h("ul", { class: "cart-items" }, ...rows), total, action);
}

function showProduct(product: Product | undefined): void {
  if (product === undefined) {
    detail.hidden = true;
    return;
  }
  const add = h("button", { type: "button", "data-testid": `detail-add-${product.id}` }, "Add to cart");
  add.addEventListener("click", () => addToCart(product));
  detail.replaceChildren(
    h("h2", {}, product.name),
    h("p", {}, product.description),
    h("p", { class: "price" }, formatMoney(product.price, CURRENCY)),
    add,
  );
  detail.hidden = false;
  track(["track", "product_view", { product_id: product.id, name: product.name }]);
}

function openProduct(product: Product): void {
  const url = new URL(location.href);
  url.searchParams.set("product", product.id);
  // The SDK sees pushState and sends the page view of the product page.
  history.pushState(null, "", url);
  showProduct(product);
  detail.focus();
}

function renderProducts(): void {
  const list = byId("products", HTMLUListElement);
  list.replaceChildren(
    ...PRODUCTS.map((product) => {
      const view = h("button", { type: "button", "data-testid": `view-${product.id}` }, "View");
      view.addEventListener("click", () => openProduct(product));
      const add = h("button", { type: "button", "data-testid": `add-${product.id}` }, "Add to cart");
      add.addEventListener("click", () => addToCart(product));
      const swatch = h("span", { class: "swatch", "aria-hidden": "true" });
      swatch.style.background = product.colour;
      return h(
        "li",
        { class: "card product" },
        swatch,
        h("h3", {}, product.name),
        h("p", { class: "price" }, formatMoney(product.price, CURRENCY)),
        view,
        " ",
        add,
      );
    }),
  );
}

detail.tabIndex = -1;
renderProducts();
renderCart();
showProduct(productById(new URLSearchParams(location.search).get("product")));
addEventListener("popstate", () => showProduct(productById(new URLSearchParams(location.search).get("product"))));
