/**
 * The live panel: headline numbers, the moving window chart, the funnel, top lists and p75
 * Web Vitals, all from the latest LiveView. Rendering only sets text that changed, rebuilds
 * tables whose rows changed and hands the chart new arrays, so an update costs well under a
 * millisecond of script time on a laptop (measured in the browser test's performance trace).
 */
import type { VitalMetric } from "../../protocol/events";
import type { LiveView } from "./live-state";
import { chartSeries, eventsPerSecond } from "./live-state";
import { DataTable } from "./data-table";
import { h, setText } from "./dom";
import { formatClock, formatCount, formatDecimal, formatMoney, formatPercent, formatRevenue } from "./format";
import { FunnelView } from "./funnel-view";
import { StatTile } from "./stat-tile";
import { vitalCell } from "./vital-cell";
import { WindowChart } from "./window-chart";

type TopPage = LiveView["overview"]["top_pages"][number];
type TopReferrer = LiveView["overview"]["top_referrers"][number];
type TopProduct = LiveView["overview"]["top_products"][number];
type PagePerformance = LiveView["performance"]["pages"][number];

const TABLE_ROWS = 10;
const VITAL_COLUMNS: readonly VitalMetric[] = ["LCP", "INP", "CLS"];

function card(title: string, ...content: HTMLElement[]): HTMLElement {
  return h("section", { class: "card" }, h("h3", {}, title), ...content);
}

/** What a click on a row of a live table filters by (the page, referrer or product of the row). */
export type LivePick = (dimension: "page" | "referrer" | "product", value: string) => void;

/** A filter button on a table's first column. */
function pickBy<T>(what: string, target: (row: T) => string, dimension: Parameters<LivePick>[0], onPick: LivePick) {
  return { label: () => `Filter by this ${what}`, onPick: (row: T) => onPick(dimension, target(row)) };
}

export class LiveViewPanel {
  /** The site's currency when it has one; amounts in top lists carry none of their own. */
  private currency = "";
  private readonly tiles = {
    online: new StatTile("Online now", "live-online"),
    pageViews: new StatTile("Page views today", "live-page-views"),
    visitors: new StatTile("Visitors today", "live-visitors"),
    rate: new StatTile("Events per second", "live-events-per-second"),
    revenue: new StatTile("Revenue today", "live-revenue"),
    orders: new StatTile("Orders today", "live-orders"),
    abandoned: new StatTile("Abandoned carts", "live-abandoned"),
  };
  private readonly chart: WindowChart;
  private readonly chartTitle: HTMLElement;
  private readonly funnel = new FunnelView("live-funnel");
  private readonly pages: DataTable<TopPage>;
  private readonly referrers: DataTable<TopReferrer>;
  private readonly products: DataTable<TopProduct>;
  private readonly vitals = new DataTable<PagePerformance>("p75 Web Vitals per page today", [
    { label: "Page", cell: (row) => row.path || "/" },
    ...VITAL_COLUMNS.map((metric) => ({
      label: metric,
      cell: (row: PagePerformance) => vitalCell(metric, row.vitals[metric]?.p75, row.vitals[metric]?.count),
      numeric: true,
    })),
  ]);
  private readonly footer: HTMLElement;

  /**
   * `header`: elements above the tiles (the filter chips and the note saying where filtered
   * figures come from); `onPick`: makes the first cell of pages, referrers and products a
   * filter button.
   */
  constructor(container: HTMLElement, header: readonly HTMLElement[] = [], onPick?: LivePick) {
    this.pages = new DataTable<TopPage>(
      "Top pages today",
      [
        { label: "Page", cell: (row) => row.path || "/" },
        { label: "Views", cell: (row) => formatCount(row.views), numeric: true },
      ],
      undefined,
      onPick && pickBy<TopPage>("page", (row) => row.path, "page", onPick),
    );
    this.referrers = new DataTable<TopReferrer>(
      "Top referrers today",
      [
        { label: "Referrer", cell: (row) => row.host || "(direct)" },
        { label: "Visits", cell: (row) => formatCount(row.visits), numeric: true },
      ],
      undefined,
      onPick && pickBy<TopReferrer>("referrer", (row) => row.host, "referrer", onPick),
    );
    this.products = new DataTable<TopProduct>(
      "Top products today",
      [
        { label: "Product", cell: (row) => row.name || row.product_id },
        { label: "Views", cell: (row) => formatCount(row.views), numeric: true },
        { label: "Cart adds", cell: (row) => formatCount(row.cart_adds), numeric: true },
        { label: "Bought", cell: (row) => formatCount(row.purchases), numeric: true },
        { label: "Revenue", cell: (row) => formatMoney(row.revenue, this.currency), numeric: true },
      ],
      undefined,
      onPick && pickBy<TopProduct>("product", (row) => row.product_id, "product", onPick),
    );
    const stats = h("dl", { class: "stats" }, ...Object.values(this.tiles).map((tile) => tile.element));
    const chartBox = h("div", { class: "chart", id: "live-chart" });
    this.chartTitle = h("h3", {}, "Page views and visitors per window");
    this.footer = h("p", { class: "muted", "data-testid": "live-updated" }, "Waiting for the first snapshot…");
    container.replaceChildren(
      ...header,
      stats,
      h("section", { class: "card wide" }, this.chartTitle, chartBox),
      h("div", { class: "grid" }, card("Funnel today", this.funnel.element), card("Top pages", this.pages.element)),
      h(
        "div",
        { class: "grid" },
        card("Top referrers", this.referrers.element),
        card("Top products", this.products.element),
      ),
      h("section", { class: "card wide" }, h("h3", {}, "Web Vitals (p75)"), this.vitals.element),
      this.footer,
    );
    this.chart = new WindowChart(chartBox, [
      { label: "Page views", colour: "#1d4ed8", bars: true },
      { label: "Visitors", colour: "#b45309" },
    ]);
  }

  render(view: LiveView): void {
    const { totals, overview } = view;
    this.currency = singleCurrency(totals.revenue_by_currency);
    this.tiles.online.set(formatCount(view.online), "visitors in the last 5 min");
    this.tiles.pageViews.set(formatCount(totals.page_views));
    this.tiles.visitors.set(formatCount(totals.visitors), `${formatCount(totals.sessions)} sessions`);
    this.tiles.rate.set(formatDecimal(eventsPerSecond(view)), "last minute");
    this.tiles.revenue.set(formatRevenue(totals.revenue_by_currency, totals.revenue));
    this.tiles.orders.set(formatCount(totals.purchases), `${formatPercent(overview.funnel.rates.overall)} of sessions`);
    this.tiles.abandoned.set(
      formatMoney(overview.abandoned_carts.value, this.currency),
      `${formatCount(overview.abandoned_carts.sessions)} sessions`,
    );

    const series = chartSeries(view);
    this.chart.setData(series.x, [series.pageViews, series.visitors]);
    const lastViews = series.pageViews.at(-1) ?? 0;
    const lastVisitors = series.visitors.at(-1) ?? 0;
    setText(this.chartTitle, `Page views and visitors per ${view.windowSeconds} s window`);
    this.chart.describe(
      `Chart of the last ${series.x.length} windows; the current window has ${lastViews} page views and ${lastVisitors} visitors.`,
    );

    this.funnel.update(overview.funnel);
    this.pages.update(overview.top_pages.slice(0, TABLE_ROWS));
    this.referrers.update(overview.top_referrers.slice(0, TABLE_ROWS));
    this.products.update(overview.top_products.slice(0, TABLE_ROWS));
    this.vitals.update(view.performance.pages.slice(0, TABLE_ROWS));
    setText(
      this.footer,
      `Updated ${formatClock(view.at)} · site ${view.site} · day ${overview.day} (${view.timeZone ?? "UTC"})`,
    );
  }

  /** Before the first snapshot (or after the filters went, when the feed has not spoken yet). */
  waiting(): void {
    setText(this.footer, "Waiting for the first snapshot…");
  }
}

/** The site's currency when it has exactly one, for amounts the feed reports without one. */
function singleCurrency(byCurrency: Readonly<Record<string, number>>): string {
  const currencies = Object.keys(byCurrency);
  return currencies.length === 1 ? (currencies[0] ?? "") : "";
}
