/**
 * The history view: range, comparison and filters (all three in the URL, see
 * history-url-state.ts), and for them ClickHouse's answers from `/v1/history/*` — KPI tiles
 * with deltas against the comparison period, a chart with the comparison as a dashed series,
 * the funnel and one panel per breakdown. Clicking a panel's row adds a filter; every request
 * carries the filters. All requests run in parallel; a failing one shows its error in its own
 * place without hiding the others, and a route this server lacks shows "Not available".
 */
import type { z } from "zod";
import type { VitalMetric } from "../../protocol/events";
import {
  type HistoryCampaignRow,
  type HistoryChannelRow,
  type HistorySourceRow,
  historyCampaignsSchema,
  historyChannelsSchema,
  historySourcesSchema,
} from "../../protocol/campaign-history";
import {
  type HistoryCountryRow,
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
import { type HistoryGoalRow, historyGoalsSchema } from "../../protocol/goal-history";
import {
  type HistoryEntryPageRow,
  type HistoryExitPageRow,
  historyEntryPagesSchema,
  historyExitPagesSchema,
} from "../../protocol/session-page-history";
import { type QueryValue, apiGet } from "./api";
import type { Column } from "./data-table";
import { h, setText } from "./dom";
import { FilterChips } from "./filter-chips";
import { formatCount, formatDateTime, formatDecimal, formatDuration, formatMoney, formatPercent } from "./format";
import { type Delta, formatDelta, formatRateDelta } from "./format-delta";
import { FunnelView } from "./funnel-view";
import { COMPARISON_MODES, comparisonRange, isComparisonMode } from "./history-comparison";
import {
  type FilterDimension,
  type HistoryFilter,
  formatFilter,
  withFilter,
  withOpToggled,
  withoutFilter,
} from "./history-filter";
import { HistoryPanel } from "./history-panel";
import { RANGE_PRESETS, type TimeRange, customRange, isRangePreset, presetRange, rangeDates } from "./range-presets";
import { fillBuckets, intervalName } from "./history-series";
import {
  type HistoryViewState,
  MAX_PAGE_GOALS,
  decodeViewState,
  encodeViewState,
  pageGoalParams,
} from "./history-url-state";
import { PageGoalForm } from "./page-goal-form";
import { StatTile } from "./stat-tile";
import { vitalCell } from "./vital-cell";
import { WindowChart } from "./window-chart";
import { browserTimeZone, dateValue, isTimeZone } from "./zoned-time";

interface VitalsByPage {
  path: string;
  vitals: Partial<Record<VitalMetric, HistoryVitalRow>>;
}

export interface HistorySource {
  site(): string;
  token(): string | null;
}

type Getter = <T>(
  resource: string,
  schema: z.ZodType<T>,
  range: TimeRange,
  extra?: Record<string, QueryValue>,
) => Promise<T>;

/** A panel and how to fill it from one resource. */
interface PanelLoad {
  panel: { fail(error: unknown): boolean };
  load(get: Getter, range: TimeRange, scope: string): Promise<void>;
}

const timeseriesSchema = historyTimeseriesSchema;

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Columns every session-outcome panel (channels, sources, campaigns) ends with. */
function outcomeColumns<
  T extends { visitors: number; sessions: number; conversion_rate: number; revenue: number },
>(): Column<T>[] {
  return [
    { label: "Visitors", cell: (row) => formatCount(row.visitors), numeric: true },
    { label: "Sessions", cell: (row) => formatCount(row.sessions), numeric: true },
    { label: "Conversion rate", cell: (row) => formatPercent(row.conversion_rate), numeric: true },
    { label: "Revenue", cell: (row) => formatMoney(row.revenue, ""), numeric: true },
  ];
}

/** The first columns of the entry and exit panels. */
function landingColumns<T extends { path: string; sessions: number; visitors: number }>(label: string): Column<T>[] {
  return [
    { label, cell: (row) => row.path || "/" },
    { label: "Sessions", cell: (row) => formatCount(row.sessions), numeric: true },
    { label: "Visitors", cell: (row) => formatCount(row.visitors), numeric: true },
  ];
}

interface Kpis {
  pageViews: number;
  revenue: number;
  orders: number;
}

function timeseriesKpis(points: readonly { page_views: number; revenue: number; purchases: number }[]): Kpis {
  const sum = (pick: (point: (typeof points)[number]) => number) =>
    points.reduce((total, point) => total + pick(point), 0);
  return {
    pageViews: sum((point) => point.page_views),
    revenue: sum((point) => point.revenue),
    orders: sum((point) => point.purchases),
  };
}

export class HistoryViewPanel {
  private readonly preset: HTMLSelectElement;
  private readonly compare: HTMLSelectElement;
  private readonly fromInput: HTMLInputElement;
  private readonly toInput: HTMLInputElement;
  private readonly customFields: HTMLElement;
  private readonly status: HTMLElement;
  private readonly chips: FilterChips;
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
  private readonly panels: PanelLoad[] = [];
  private readonly pageGoals = new PageGoalForm({
    add: (pattern) =>
      this.navigate({
        ...this.state,
        pageGoals: [...this.state.pageGoals.filter((goal) => goal !== pattern), pattern].slice(-MAX_PAGE_GOALS),
      }),
    remove: (index) =>
      this.navigate({ ...this.state, pageGoals: this.state.pageGoals.filter((_, position) => position !== index) }),
  });
  private state: HistoryViewState;
  /** The zone ranges are computed in: the browser's until an answer names the site's. */
  private zone = browserTimeZone();
  private controller: AbortController | null = null;

  constructor(
    container: HTMLElement,
    private readonly source: HistorySource,
  ) {
    this.state = decodeViewState(location.search);
    this.preset = h(
      "select",
      { id: "history-range" },
      ...Object.entries(RANGE_PRESETS).map(([value, preset]) => h("option", { value }, preset.label)),
      h("option", { value: "custom" }, "Custom…"),
    );
    this.compare = h(
      "select",
      { id: "history-compare" },
      ...Object.entries(COMPARISON_MODES).map(([value, label]) => h("option", { value }, label)),
    );
    this.fromInput = h("input", { id: "history-from", type: "date" });
    this.toInput = h("input", { id: "history-to", type: "date" });
    this.customFields = h(
      "span",
      { class: "custom-range", hidden: "" },
      h("label", { for: "history-from" }, "From"),
      this.fromInput,
      h("label", { for: "history-to" }, "To"),
      this.toInput,
    );
    this.preset.addEventListener("change", () => {
      if (this.preset.value === "custom") {
        // Starts from the range on screen, so "Custom" is a small edit of what was shown.
        const shown = this.resolveRange();
        if (typeof shown !== "string") {
          const dates = rangeDates(shown, this.zone);
          this.fromInput.value = dates.from;
          this.toInput.value = dates.to;
        }
        this.customFields.hidden = false;
        this.fromInput.focus();
        return;
      }
      if (isRangePreset(this.preset.value)) this.navigate({ ...this.state, range: { preset: this.preset.value } });
    });
    this.compare.addEventListener("change", () => {
      if (isComparisonMode(this.compare.value)) this.navigate({ ...this.state, compare: this.compare.value });
    });
    const form = h(
      "form",
      { class: "toolbar", "aria-label": "History range" },
      h("label", { for: "history-range" }, "Range"),
      this.preset,
      this.customFields,
      h("label", { for: "history-compare" }, "Compare"),
      this.compare,
      h("button", { type: "submit" }, "Show"),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (this.preset.value === "custom")
        this.navigate({
          ...this.state,
          range: { preset: "custom", from: this.fromInput.value, to: this.toInput.value },
        });
      else void this.load();
    });
    this.chips = new FilterChips({
      toggle: (index) => this.navigate({ ...this.state, filters: withOpToggled(this.state.filters, index) }),
      remove: (index) => this.navigate({ ...this.state, filters: withoutFilter(this.state.filters, index) }),
      clear: () => this.navigate({ ...this.state, filters: [] }),
    });
    this.status = h("p", {
      class: "status-line",
      role: "status",
      "aria-live": "polite",
      "data-testid": "history-status",
    });
    const chartBox = h("div", { class: "chart", id: "history-chart" });
    this.chartTitle = h("h3", {}, "Page views and visitors");
    const { pages, entry, exit, channels, sources, campaigns, referrers, countries, devices, products, goals, vitals } =
      this.buildPanels();
    container.replaceChildren(
      form,
      this.chips.element,
      this.status,
      h("dl", { class: "stats" }, ...Object.values(this.tiles).map((tile) => tile.element)),
      h("section", { class: "card wide" }, this.chartTitle, chartBox),
      h("div", { class: "grid" }, h("section", { class: "card" }, h("h3", {}, "Funnel"), this.funnel.element), pages),
      h("div", { class: "grid" }, entry, exit),
      h("div", { class: "grid" }, channels, sources),
      h("div", { class: "grid" }, campaigns, referrers),
      h("div", { class: "grid" }, countries, devices),
      h("div", { class: "grid" }, products, goals),
      vitals,
    );
    this.chart = new WindowChart(chartBox, [
      { label: "Page views", colour: "#1d4ed8", bars: true },
      { label: "Visitors", colour: "#b45309" },
      { label: "Page views (comparison)", colour: "#6b7280", dash: [6, 4] },
    ]);
    this.showState();
    // Back and forward restore the view the URL describes.
    window.addEventListener("popstate", () => {
      this.state = decodeViewState(location.search);
      this.showState();
      void this.load();
    });
  }

  /**
   * Adopts the view the URL describes when another tab changed it (the Live tab's chips push
   * their own entries); true when it differs from the one shown, which then needs a load.
   */
  syncWithUrl(): boolean {
    const next = decodeViewState(location.search);
    if (encodeViewState(next, "") === encodeViewState(this.state, "")) return false;
    this.state = next;
    this.showState();
    return true;
  }

  /** The filters the view is showing (for tests and the SQL console's hints). */
  filters(): readonly HistoryFilter[] {
    return this.state.filters;
  }

  private addFilter(dimension: FilterDimension, value: string): void {
    this.navigate({ ...this.state, filters: withFilter(this.state.filters, { dimension, op: "is", value }) });
  }

  private panel<T, A>(
    title: string,
    slug: string,
    columns: readonly Column<T>[],
    schema: z.ZodType<A>,
    rowsOf: (answer: A) => readonly T[],
    filterBy?: (row: T) => [FilterDimension, string] | null,
    more: { wide?: boolean; extra?: HTMLElement; params?: () => Record<string, QueryValue> } = {},
  ): HTMLElement {
    const panel = new HistoryPanel<T>({
      title,
      slug,
      columns,
      wide: more.wide,
      extra: more.extra,
      pick:
        filterBy === undefined
          ? undefined
          : {
              label: (row) => {
                const target = filterBy(row);
                return target === null ? "" : `Filter by this ${title.toLowerCase().replace(/s$/, "")}`;
              },
              onPick: (row) => {
                const target = filterBy(row);
                if (target !== null) this.addFilter(...target);
              },
            },
    });
    this.panels.push({
      panel,
      load: async (get, range, scope) => panel.show(rowsOf(await get(slug, schema, range, more.params?.())), scope),
    });
    return panel.element;
  }

  private buildPanels() {
    const pages = this.panel<HistoryPageRow, z.infer<typeof historyPagesSchema>>(
      "Pages",
      "pages",
      [
        { label: "Page", cell: (row) => row.path || "/" },
        { label: "Views", cell: (row) => formatCount(row.views), numeric: true },
        { label: "Visitors", cell: (row) => formatCount(row.visitors), numeric: true },
      ],
      historyPagesSchema,
      (answer) => answer.rows,
      (row) => ["page", row.path],
    );
    const entry = this.panel<HistoryEntryPageRow, z.infer<typeof historyEntryPagesSchema>>(
      "Entry pages",
      "entry-pages",
      [
        ...landingColumns<HistoryEntryPageRow>("Entry page"),
        { label: "Bounce rate", cell: (row) => formatPercent(row.bounce_rate), numeric: true },
      ],
      historyEntryPagesSchema,
      (answer) => answer.rows,
      (row) => ["entry_page", row.path],
    );
    const exit = this.panel<HistoryExitPageRow, z.infer<typeof historyExitPagesSchema>>(
      "Exit pages",
      "exit-pages",
      [
        ...landingColumns<HistoryExitPageRow>("Exit page"),
        { label: "Page views", cell: (row) => formatCount(row.page_views), numeric: true },
        { label: "Exit rate", cell: (row) => formatPercent(row.exit_rate), numeric: true },
      ],
      historyExitPagesSchema,
      (answer) => answer.rows,
      (row) => ["exit_page", row.path],
    );
    const channels = this.panel<HistoryChannelRow, z.infer<typeof historyChannelsSchema>>(
      "Channels",
      "channels",
      [{ label: "Channel", cell: (row) => row.channel }, ...outcomeColumns<HistoryChannelRow>()],
      historyChannelsSchema,
      (answer) => answer.rows,
      (row) => ["channel", row.channel],
    );
    const sources = this.panel<HistorySourceRow, z.infer<typeof historySourcesSchema>>(
      "Sources",
      "sources",
      [{ label: "Source", cell: (row) => row.source }, ...outcomeColumns<HistorySourceRow>()],
      historySourcesSchema,
      (answer) => answer.rows,
      // The `source` dimension is exactly what this panel groups by, "(direct)" included.
      (row) => ["source", row.source],
    );
    const campaigns = this.panel<HistoryCampaignRow, z.infer<typeof historyCampaignsSchema>>(
      "Campaigns",
      "campaigns",
      [
        { label: "Campaign", cell: (row) => row.campaign },
        { label: "Source / medium", cell: (row) => `${row.source} / ${row.medium}` },
        ...outcomeColumns<HistoryCampaignRow>(),
      ],
      historyCampaignsSchema,
      (answer) => answer.rows,
      (row) => ["utm_campaign", row.campaign],
    );
    const referrers = this.panel<HistoryReferrerRow, z.infer<typeof historyReferrersSchema>>(
      "Referrers",
      "referrers",
      [
        { label: "Referrer", cell: (row) => row.host },
        { label: "Visits", cell: (row) => formatCount(row.visits), numeric: true },
        { label: "Page views", cell: (row) => formatCount(row.page_views), numeric: true },
      ],
      historyReferrersSchema,
      (answer) => answer.rows,
      (row) => ["referrer", row.host],
    );
    const countries = this.panel<HistoryCountryRow, z.infer<typeof historyCountriesSchema>>(
      "Countries",
      "countries",
      [
        { label: "Country", cell: (row) => row.country || "(unknown)" },
        { label: "Visitors", cell: (row) => formatCount(row.visitors), numeric: true },
        { label: "Page views", cell: (row) => formatCount(row.page_views), numeric: true },
      ],
      historyCountriesSchema,
      (answer) => answer.rows,
      (row) => ["country", row.country],
    );
    const devices = this.panel<HistoryDeviceRow, z.infer<typeof historyDevicesSchema>>(
      "Devices, browsers and systems",
      "devices",
      [
        { label: "Value", cell: (row) => row.value || "(unknown)" },
        { label: "Kind", cell: (row) => row.dimension },
        { label: "Visitors", cell: (row) => formatCount(row.visitors), numeric: true },
        { label: "Page views", cell: (row) => formatCount(row.page_views), numeric: true },
      ],
      historyDevicesSchema,
      (answer) => answer.rows,
      (row) => [row.dimension, row.value],
    );
    const products = this.panel<HistoryProductRow, z.infer<typeof historyProductsSchema>>(
      "Products",
      "products",
      [
        { label: "Product", cell: (row) => row.name || row.product_id },
        { label: "Views", cell: (row) => formatCount(row.views), numeric: true },
        { label: "Cart adds", cell: (row) => formatCount(row.cart_adds), numeric: true },
        { label: "Units bought", cell: (row) => formatCount(row.purchases), numeric: true },
        { label: "Revenue", cell: (row) => formatMoney(row.revenue, ""), numeric: true },
      ],
      historyProductsSchema,
      (answer) => answer.rows,
      (row) => ["product", row.product_id],
    );
    const goals = this.panel<HistoryGoalRow, z.infer<typeof historyGoalsSchema>>(
      "Goals",
      "goals",
      [
        { label: "Goal", cell: (row) => row.name },
        { label: "Kind", cell: (row) => row.type },
        { label: "Conversions", cell: (row) => formatCount(row.conversions), numeric: true },
        { label: "Conversion rate", cell: (row) => formatPercent(row.conversion_rate), numeric: true },
        { label: "Events", cell: (row) => formatCount(row.events), numeric: true },
        { label: "Revenue", cell: (row) => formatMoney(row.revenue, ""), numeric: true },
      ],
      historyGoalsSchema,
      (answer) => answer.goals,
      // A page goal is a pattern, not a page: only event goals become filters.
      (row) => (row.type === "page" ? null : ["event", row.name]),
      { extra: this.pageGoals.element, params: () => ({ goal: pageGoalParams(this.state.pageGoals) }) },
    );
    const vitals = this.panel<VitalsByPage, z.infer<typeof historyVitalsSchema>>(
      "p75 Web Vitals per page",
      "vitals",
      [
        { label: "Page", cell: (row) => row.path || "/" },
        ...(["LCP", "INP", "CLS"] as const).map((metric) => ({
          label: metric,
          cell: (row: VitalsByPage) => {
            const vital = row.vitals[metric];
            return vitalCell(metric, vital?.p75, vital?.count);
          },
          numeric: true,
        })),
      ],
      historyVitalsSchema,
      (answer) => groupVitals(answer.rows),
      (row) => ["page", row.path],
      { wide: true },
    );
    return { pages, entry, exit, channels, sources, campaigns, referrers, countries, devices, products, goals, vitals };
  }

  /** Puts the state into the controls and chips (after a navigation or Back). */
  private showState(): void {
    const range = this.state.range;
    this.preset.value = range.preset;
    this.customFields.hidden = range.preset !== "custom";
    if (range.preset === "custom") {
      this.fromInput.value = range.from;
      this.toInput.value = range.to;
    }
    this.compare.value = this.state.compare;
    this.chips.show(this.state.filters);
    this.pageGoals.show(this.state.pageGoals);
  }

  /** A new view: a new history entry (so Back returns to the previous one), then a load. */
  private navigate(state: HistoryViewState): void {
    this.state = state;
    const url = `${location.pathname}${encodeViewState(state, location.search)}${location.hash}`;
    if (url !== `${location.pathname}${location.search}${location.hash}`) history.pushState(null, "", url);
    this.showState();
    void this.load();
  }

  private resolveRange(): TimeRange | string {
    const choice = this.state.range;
    return choice.preset === "custom"
      ? customRange(choice.from, choice.to, this.zone)
      : presetRange(choice.preset, Date.now(), this.zone);
  }

  /** Fetches every history resource for the view's range and filters and renders what arrives. */
  async load(): Promise<void> {
    const token = this.source.token();
    if (token === null) {
      setText(this.status, "Enter a read token above to see history.");
      return;
    }
    const range = this.resolveRange();
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
    const filter = this.state.filters.map(formatFilter);
    const get: Getter = (resource, schema, over, extra = {}) => {
      const params: Record<string, QueryValue> = { site, from: over.from, to: over.to, filter, ...extra };
      return apiGet(`/v1/history/${resource}`, params, schema, token, controller.signal);
    };
    const comparison = comparisonRange(range, this.state.compare, this.zone);
    const against = this.state.compare === "off" ? "" : COMPARISON_MODES[this.state.compare].toLowerCase();
    const scope = `${site}-${dateValue(range.from, this.zone)}-${dateValue(range.to - 1, this.zone)}${filter.length > 0 ? "-filtered" : ""}`;
    setText(this.status, `Loading ${site} from ${formatDateTime(range.from)} to ${formatDateTime(range.to)}…`);

    const timeseries = get("timeseries", timeseriesSchema, range);
    const sessions = get("sessions", historySessionsSchema, range);
    const previousTimeseries = comparison === null ? null : get("timeseries", timeseriesSchema, comparison);
    const previousSessions = comparison === null ? null : get("sessions", historySessionsSchema, comparison);
    // Awaited only once the current period answered: if that fails or the view is replaced
    // first, their rejection must not surface as an unhandled one.
    for (const previous of [previousTimeseries, previousSessions]) previous?.catch(() => undefined);
    /** The delta of one tile once both periods answered; none without a comparison. */
    const delta = async <A>(previous: Promise<A> | null, current: A, change: (now: A, before: A) => Delta) =>
      previous === null ? null : change(current, await previous);

    const results = await Promise.allSettled([
      timeseries.then(async (answer) => {
        const series = fillBuckets(answer.points, answer.from, answer.to, answer.interval);
        let earlier: (number | null)[] = series.x.map(() => null);
        const kpis = timeseriesKpis(answer.points);
        this.tiles.pageViews.set(formatCount(kpis.pageViews));
        this.tiles.revenue.set(
          formatMoney(kpis.revenue, ""),
          `${formatCount(kpis.orders)} ${kpis.orders === 1 ? "order" : "orders"}`,
        );
        if (previousTimeseries !== null) {
          const before = await previousTimeseries;
          const previousKpis = timeseriesKpis(before.points);
          this.tiles.pageViews.setDelta(formatDelta(kpis.pageViews, previousKpis.pageViews), against);
          this.tiles.revenue.setDelta(formatDelta(kpis.revenue, previousKpis.revenue), against);
          // Bucket by bucket from the start of each period, so the two lines overlay.
          const shifted = fillBuckets(before.points, before.from, before.to, before.interval);
          earlier = series.x.map((_, index) => shifted.pageViews[index] ?? null);
        } else {
          this.tiles.pageViews.setDelta(null);
          this.tiles.revenue.setDelta(null);
        }
        if (controller.signal.aborted) return;
        this.chart.setData(series.x, [series.pageViews, series.visitors, earlier]);
        setText(this.chartTitle, `Page views and visitors per ${intervalName(answer.interval)}`);
        this.chart.describe(
          `Chart of ${series.x.length} buckets of ${answer.interval} seconds; ${answer.points.length} with data${previousTimeseries === null ? "" : `; dashed: ${against}`}.`,
        );
        this.adoptTimeZone(answer.time_zone);
      }),
      sessions.then(async (answer) => {
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
        const deltas = {
          sessions: await delta(previousSessions, answer, (now, before) => formatDelta(now.sessions, before.sessions)),
          duration: await delta(previousSessions, answer, (now, before) =>
            formatDelta(now.avg_duration_seconds, before.avg_duration_seconds),
          ),
          bounce: await delta(previousSessions, answer, (now, before) =>
            formatRateDelta(now.bounce_rate, before.bounce_rate),
          ),
          abandoned: await delta(previousSessions, answer, (now, before) =>
            formatDelta(now.abandoned_carts.value, before.abandoned_carts.value),
          ),
        };
        for (const [tile, value] of Object.entries(deltas) as [keyof typeof deltas, Delta | null][])
          this.tiles[tile].setDelta(value, against);
      }),
      get("funnel", historyFunnelSchema, range).then((answer) => this.funnel.update(answer.funnel)),
      ...this.panels.map((entry) =>
        entry.load(get, range, scope).catch((error: unknown) => {
          if (controller.signal.aborted) return;
          // A missing route is shown in its panel only; anything else also goes to the status line.
          if (entry.panel.fail(error)) throw error;
        }),
      ),
    ]);
    if (controller.signal.aborted) return;
    this.status.dataset.state = "settled";
    const failures = results.filter((result) => result.status === "rejected").map((result) => errorText(result.reason));
    const filtered = this.state.filters.length > 0 ? `, ${this.state.filters.length} filter(s)` : "";
    const compared =
      comparison === null
        ? ""
        : `, compared with ${formatDateTime(comparison.from)} – ${formatDateTime(comparison.to)}`;
    setText(
      this.status,
      failures.length === 0
        ? `${site}: ${formatDateTime(range.from)} – ${formatDateTime(range.to)}${filtered}${compared}`
        : `Some parts failed to load: ${[...new Set(failures)].join("; ")}`,
    );
  }

  /** Ranges follow the site's zone once an answer names it; a change reloads in the right zone. */
  private adoptTimeZone(zone: string | undefined): void {
    if (zone === undefined || zone === this.zone || !isTimeZone(zone)) return;
    this.zone = zone;
    void this.load();
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
