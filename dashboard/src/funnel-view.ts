/**
 * The commerce funnel: sessions → product views → cart adds → checkouts → purchases, each with
 * its share of the step before (as protocol/live.ts defines the rates) and a bar relative
 * to all sessions.
 */
import type { Funnel } from "../../protocol/live";
import { h, setText } from "./dom";
import { formatCount, formatPercent } from "./format";

const STEPS = [
  { key: "sessions", label: "Sessions", rate: null },
  { key: "product_views", label: "Viewed a product", rate: "product_view" },
  { key: "cart_adds", label: "Added to cart", rate: "cart_add" },
  { key: "checkouts", label: "Checked out", rate: "checkout" },
  { key: "purchases", label: "Purchased", rate: "purchase" },
] as const;

export class FunnelView {
  readonly element: HTMLElement;
  private readonly rows: { count: HTMLElement; rate: HTMLElement; bar: HTMLElement }[] = [];
  private readonly overall: HTMLElement;

  constructor(testIdPrefix: string) {
    const list = h("ol", { class: "funnel" });
    for (const step of STEPS) {
      const count = h("span", { class: "funnel-count", "data-testid": `${testIdPrefix}-${step.key}` }, "0");
      const rate = h("span", { class: "funnel-rate" });
      const bar = h("span", { class: "funnel-bar" });
      list.append(
        h(
          "li",
          {},
          h("span", { class: "funnel-label" }, step.label),
          count,
          rate,
          h("span", { class: "funnel-track", "aria-hidden": "true" }, bar),
        ),
      );
      this.rows.push({ count, rate, bar });
    }
    this.overall = h("p", { class: "funnel-overall" });
    this.element = h("div", {}, list, this.overall);
  }

  update(funnel: Funnel): void {
    STEPS.forEach((step, index) => {
      const row = this.rows[index];
      if (row === undefined) return;
      const value = funnel[step.key];
      setText(row.count, formatCount(value));
      setText(row.rate, step.rate === null ? "" : `${formatPercent(funnel.rates[step.rate])} of previous step`);
      row.bar.style.width = `${funnel.sessions > 0 ? Math.min(100, (value / funnel.sessions) * 100) : 0}%`;
    });
    setText(this.overall, `Overall conversion: ${formatPercent(funnel.rates.overall)} of sessions purchased`);
  }
}
