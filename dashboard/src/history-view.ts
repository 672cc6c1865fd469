/**
 * The history panel: a range picker and, for that range, ClickHouse's answers from
 * `/v1/history/*` — timeseries, sessions, funnel, pages, referrers, countries, devices,
 * products and Web Vitals. All requests run in parallel; a failing one shows its error in
 * its own place without hiding the others.
 */
import type { VitalMetric } from "../../protocol/events";
import {
  type HistoryCountries,
  type HistoryDeviceRow,
  type HistoryPageRow,
  type HistoryProductRow,
  type HistoryReferrerRow,
  type HistoryVitalRow,
  historyCountriesSchema,
  historyDevicesSchema,
  historyFunnelSchema,
  historyPagesSchema,
  historyProductsSchema,
  historyReferrersSchema,
  historySessionsSchema,
  historyTimeseriesSchema,
  historyVitalsSchema,
} from "../../protocol/history";
import { apiGet } from "./api";
import { DataTable } from "./data-table";
import { h, setText } from "./dom";
import { formatCount, formatDateTime, formatDecimal, formatDuration, formatMoney, formatPercent } from "./format";
import { FunnelView } from "./funnel-view";
import { fillBuckets, intervalName } from "./history-series";
import {
  RANGE_PRESETS,
  type TimeRange,
  customRange,
  isRangePreset,
  presetRange,
  toLocalInputValue,
} from "./history-range";
import { StatTile } from "./stat-tile";
import { vitalCell } from "./vital-cell";
import { WindowChart } from "./window-chart";

type CountryRow = HistoryCountries["rows"][number];

interface VitalsByPage {
  path: string;
  vitals: Partial<Record<VitalMetric, HistoryVitalRow>>;
}

export interface HistorySource {
  site(): string;
  token(): string | null;
}

function card(title: string, ...content: HTMLElement[]): HTMLElement {
  return h("section", { class: "card" }, h("h3", {}, title), ...content);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class HistoryViewPanel {
  private readonly preset: HTMLSelectElement;
  private readonly fromInput: HTMLInputElement;
  private readonly toInput: HTMLInputElement;
  private readonly customFields: HTMLElement;
  private readonly status: HTMLElement;
  private readonly chart: WindowChart;
  private readonly chartTitle: HTMLElement;
  private readonly tiles = {
    pageViews: new StatTile("Page views", "history-page-views"),
    sessions: new StatTile("Closed sessions", "history-sessions"),
    duration: new StatTile("Average duration", "history-duration"),
    bounce: new StatTile("Bounce rate", "history-bounce-rate"),
    revenue: new StatTile("Revenue", "history-revenue"),
    abandoned: new StatTile("Abandoned carts", "history-abandoned"),
  };
  private readonly funnel = new FunnelView("history-funnel");
  private readonly pages = new DataTable<HistoryPageRow>("Pages", [
    { label: "Page", cell: (row) => row.path || "/" },
    { label: "Views", cell: (row) => formatCount(row.views), numeric: true },
    { label: "Visitors", cell: (row) => formatCount(row.visitors), numeric: true },
  ]);
  private readonly referrers = new DataTable<HistoryReferrerRow>("Referrers", [
    { label: "Referrer", cell: (row) => row.host },
    { label: "Visits", cell: (row) => formatCount(row.visits), numeric: true },
    { label: "Page views", cell: (row) => formatCount(row.page_views), numeric: true },
  ]);
  private readonly countries = new DataTable<CountryRow>("Countries", [
    { label: "Country", cell: (row) => row.country || "(unknown)" },
    { label: "Visitors", cell: (row) => formatCount(row.visitors), numeric: true },
    { label: "Page views", cell: (row) => formatCount(row.page_views), numeric: true },
  ]);
  private readonly devices = new DataTable<HistoryDeviceRow>("Devices, browsers and systems", [
    { label: "Kind", cell: (row) => row.dimension },
    { label: "Value", cell: (row) => row.value || "(unknown)" },
    { label: "Visitors", cell: (row) => formatCount(row.visitors), numeric: true },
    { label: "Page views", cell: (row) => formatCount(row.page_views), numeric: true },
  ]);
  private readonly products = new DataTable<HistoryProductRow>("Products", [
    { label: "Product", cell: (row) => row.name || row.product_id },
    { label: "Views", cell: (row) => formatCount(row.views), numeric: true },
    { label: "Cart adds", cell: (row) => formatCount(row.cart_adds), numeric: true },
    { label: "Units bought", cell: (row) => formatCount(row.purchases), numeric: true },
    { label: "Revenue", cell: (row) => formatMoney(row.revenue, ""), numeric: true },
  ]);
  private readonly vitals = new DataTable<VitalsByPage>("p75 Web Vitals per page", [
    { label: "Page", cell: (row) => row.path || "/" },
    ...(["LCP", "INP", "CLS"] as const).map((metric) => ({
      label: metric,
      cell: (row: VitalsByPage) => {
        const vital = row.vitals[metric];
        return vitalCell(metric, vital?.p75, vital?.count);
      },
      numeric: true,
    })),
  ]);
  private controller: AbortController | null = null;

  constructor(
    container: HTMLElement,
    private readonly source: HistorySource,
  ) {
    this.preset = h(
      "select",
      { id: "history-range" },
      ...Object.entries(RANGE_PRESETS).map(([value, preset]) => h("option", { value }, preset.label)),
      h("option", { value: "custom" }, "Custom…"),
    );
    this.preset.value = "1h";
    const now = Date.now();
    this.fromInput = h("input", {
      id: "history-from",
      type: "datetime-local",
      value: toLocalInputValue(now - 3600_000),
    });
    this.toInput = h("input", { id: "history-to", type: "datetime-local", value: toLocalInputValue(now) });
    this.customFields = h(
      "span",
      { class: "custom-range", hidden: "" },
      h("label", { for: "history-from" }, "From"),
      this.fromInput,
      h("label", { for: "history-to" }, "To"),
      this.toInput,
    );
    this.preset.addEventListener("change", () => {
      this.customFields.hidden = this.preset.value !== "custom";
      if (this.preset.value !== "custom") void this.load();
    });
    const form = h(
      "form",
      { class: "toolbar", "aria-label": "History range" },
      h("label", { for: "history-range" }, "Range"),
      this.preset,
      this.customFields,
      h("button", { type: "submit" }, "Show"),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.load();
    });
    this.status = h("p", {
      class: "status-line",
      role: "status",
      "aria-live": "polite",
      "data-testid": "history-status",
    });
    const chartBox = h("div", { class: "chart", id: "history-chart" });
    this.chartTitle = h("h3", {}, "Page views and visitors");
    container.replaceChildren(
      form,
      this.status,
      h("dl", { class: "stats" }, ...Object.values(this.tiles).map((tile) => tile.element)),
      h("section", { class: "card wide" }, this.chartTitle, chartBox),
      h("div", { class: "grid" }, card("Funnel", this.funnel.element), card("Pages", this.pages.element)),
      h("div", { class: "grid" }, card("Referrers", this.referrers.element), card("Countries", this.countries.element)),
      h("div", { class: "grid" }, card("Devices", this.devices.element), card("Products", this.products.element)),
      h("section", { class: "card wide" }, h("h3", {}, "Web Vitals"), this.vitals.element),
    );
    this.chart = new WindowChart(chartBox, [
      { label: "Page views", colour: "#1d4ed8", bars: true },
      { label: "Visitors", colour: "#b45309" },
    ]);
  }

  private range(): TimeRange | string {
    const value = this.preset.value;
    if (isRangePreset(value)) return presetRange(value, Date.now());
    return customRange(this.fromInput.value, this.toInput.value);
  }

  /** Fetches every history resource for the chosen range and renders what arrives. */
  async load(): Promise<void> {
    const token = this.source.token();
    if (token === null) {
      setText(this.status, "Enter a read token above to see history.");
      return;
    }
    const range = this.range();
    if (typeof range === "string") {
      setText(this.status, range);
      return;
    }
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    // "settled" once every panel's request has answered or failed: what tests and the render bench wait for.
    this.status.dataset.state = "loading";
    const site = this.source.site();
    const params = { site, from: range.from, to: range.to };
    const get = <T>(resource: string, schema: Parameters<typeof apiGet<T>>[2]) =>
      apiGet(`/v1/history/${resource}`, params, schema, token, controller.signal);
    setText(this.status, `Loading ${site} from ${formatDateTime(range.from)} to ${formatDateTime(range.to)}…`);
    const results = await Promise.allSettled([
      get("timeseries", historyTimeseriesSchema).then((answer) => {
        const series = fillBuckets(answer.points, answer.from, answer.to, answer.interval);
        this.chart.setData(series.x, [series.pageViews, series.visitors]);
        setText(this.chartTitle, `Page views and visitors per ${intervalName(answer.interval)}`);
        this.chart.describe(
          `Chart of ${series.x.length} buckets of ${answer.interval} seconds; ${answer.points.length} with data.`,
        );
        const sum = (pick: (point: (typeof answer.points)[number]) => number) =>
          answer.points.reduce((total, point) => total + pick(point), 0);
        this.tiles.pageViews.set(formatCount(sum((point) => point.page_views)));
        this.tiles.revenue.set(
          formatMoney(
            sum((point) => point.revenue),
            "",
          ),
          `${formatCount(sum((point) => point.purchases))} ${sum((point) => point.purchases) === 1 ? "order" : "orders"}`,
        );
      }),
      get("sessions", historySessionsSchema).then((answer) => {
        this.tiles.sessions.set(formatCount(answer.sessions), `${formatDecimal(answer.pages_per_session)} pages each`);
        this.tiles.duration.set(
          formatDuration(answer.avg_duration_seconds),
          `median ${formatDuration(answer.median_duration_seconds)}`,
        );
        this.tiles.bounce.set(formatPercent(answer.bounce_rate));
        this.tiles.abandoned.set(
          formatMoney(answer.abandoned_carts.value, ""),
          `${formatCount(answer.abandoned_carts.sessions)} sessions`,
        );
      }),
      get("funnel", historyFunnelSchema).then((answer) => this.funnel.update(answer.funnel)),
      get("pages", historyPagesSchema).then((answer) => this.pages.update(answer.rows)),
      get("referrers", historyReferrersSchema).then((answer) => this.referrers.update(answer.rows)),
      get("countries", historyCountriesSchema).then((answer) => this.countries.update(answer.rows)),
      get("devices", historyDevicesSchema).then((answer) => this.devices.update(answer.rows)),
      get("products", historyProductsSchema).then((answer) => this.products.update(answer.rows)),
      get("vitals", historyVitalsSchema).then((answer) => this.vitals.update(groupVitals(answer.rows))),
    ]);
    if (controller.signal.aborted) return;
    this.status.dataset.state = "settled";
    const failures = results.filter((result) => result.status === "rejected").map((result) => errorText(result.reason));
    setText(
      this.status,
      failures.length === 0
        ? `${site}: ${formatDateTime(range.from)} – ${formatDateTime(range.to)}`
        : `Some parts failed to load: ${[...new Set(failures)].join("; ")}`,
    );
  }
}

function groupVitals(rows: readonly HistoryVitalRow[]): VitalsByPage[] {
  const byPath = new Map<string, VitalsByPage>();
  for (const row of rows) {
    const page = byPath.get(row.path) ?? { path: row.path, vitals: {} };
    page.vitals[row.metric] = row;
    byPath.set(row.path, page);
  }
  return [...byPath.values()];
}
