/**
 * The Live tab with filters. The feed (WebSocket) sums the whole site, so while the page's URL
 * holds `filter`s the tab shows the answer of `GET /v1/live/filtered` instead, polled every
 * POLL_MS while the tab is shown, with a note saying it comes from ClickHouse and how far
 * behind it may be. The filters are the History view's (`filter` in the query string), so a
 * filtered view is one link for both tabs; chips change them with a new history entry.
 */
import type { LiveFilteredAnswer } from "../../protocol/live-filtered";
import { liveFilteredAnswerSchema } from "../../protocol/live-filtered";
import { apiGet } from "./api";
import { h, setText } from "./dom";
import { FilterChips } from "./filter-chips";
import {
  type FilterDimension,
  type HistoryFilter,
  formatFilter,
  withFilter,
  withOpToggled,
  withoutFilter,
} from "./history-filter";
import { decodeViewState, encodeViewState } from "./history-url-state";
import type { LiveView } from "./live-state";

/** How often the filtered figures are asked for: about the staleness ClickHouse adds anyway. */
export const POLL_MS = 2_000;

export interface LiveFilterSource {
  site(): string;
  token(): string | null;
}

/** The filtered answer as the live panel's view. */
export function liveViewOf(answer: LiveFilteredAnswer): LiveView {
  return {
    site: answer.site,
    at: answer.at,
    windowSeconds: answer.window_seconds,
    windows: answer.windows,
    totals: answer.totals,
    online: answer.online,
    overview: answer.overview,
    performance: answer.performance,
    timeZone: answer.time_zone,
  };
}

/**
 * Whole seconds the figures may lag the feed: the events still on their way to ClickHouse
 * (`flush_max_age_ms`) plus how long the answer took and has been shown, measured on this
 * clock from when it was asked for (so the server's clock does not matter).
 */
export function secondsBehind(askedAt: number, now: number, flushMaxAgeMs: number): number {
  return Math.max(1, Math.ceil((now - askedAt + flushMaxAgeMs) / 1000));
}

export class LiveFilters {
  readonly chips: FilterChips;
  readonly note: HTMLElement;
  private filters: HistoryFilter[] = [];
  private shown = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private controller: AbortController | null = null;
  /** Bumped on every restart, so an answer to an older request is dropped. */
  private generation = 0;

  constructor(
    private readonly source: LiveFilterSource,
    /** Called with the filtered view, or null when the filters are gone (show the feed again). */
    private readonly show: (view: LiveView | null) => void,
  ) {
    this.chips = new FilterChips(
      {
        toggle: (index) => this.navigate(withOpToggled(this.filters, index)),
        remove: (index) => this.navigate(withoutFilter(this.filters, index)),
        clear: () => this.navigate([]),
      },
      "live-filters",
    );
    this.note = h("p", { class: "status-line", role: "status", "data-testid": "live-source", hidden: "" });
    window.addEventListener("popstate", () => this.syncWithUrl());
    this.syncWithUrl();
  }

  /** True while filters are set: the feed's (unfiltered) numbers must not be shown. */
  active(): boolean {
    return this.filters.length > 0;
  }

  /** The Live tab was shown or hidden: poll only while it is shown. */
  setShown(shown: boolean): void {
    this.shown = shown;
    if (shown) this.syncWithUrl(true);
    else this.stop();
  }

  /** Filter by a row of a live table (a new history entry, like History's row clicks). */
  add(dimension: FilterDimension, value: string): void {
    this.navigate(withFilter(this.filters, { dimension, op: "is", value }));
  }

  /** Another site or token: ask again at once. */
  restart(): void {
    this.syncWithUrl(true);
  }

  /** Adopts the filters in the URL (History's chips, Back, a shared link); `force` restarts polling. */
  syncWithUrl(force = false): void {
    const filters = decodeViewState(location.search).filters;
    const changed = filters.map(formatFilter).join("\n") !== this.filters.map(formatFilter).join("\n");
    if (!changed && !force) return;
    this.filters = filters;
    this.chips.show(filters);
    this.stop();
    if (filters.length === 0) {
      this.note.hidden = true;
      if (changed) this.show(null);
      return;
    }
    this.note.hidden = false;
    if (changed) setText(this.note, "Filtered: asking ClickHouse…");
    if (this.shown) void this.poll();
  }

  private navigate(filters: HistoryFilter[]): void {
    const state = { ...decodeViewState(location.search), filters };
    const url = `${location.pathname}${encodeViewState(state, location.search)}${location.hash}`;
    if (url !== `${location.pathname}${location.search}${location.hash}`) history.pushState(null, "", url);
    this.syncWithUrl();
  }

  private stop(): void {
    this.generation += 1;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.controller?.abort();
    this.controller = null;
  }

  private async poll(): Promise<void> {
    const token = this.source.token();
    if (token === null) {
      setText(this.note, "Filtered: enter a read token above.");
      return;
    }
    const generation = this.generation;
    const controller = new AbortController();
    this.controller = controller;
    const askedAt = Date.now();
    try {
      const answer = await apiGet(
        "/v1/live/filtered",
        { site: this.source.site(), filter: this.filters.map(formatFilter) },
        liveFilteredAnswerSchema,
        token,
        controller.signal,
      );
      if (generation !== this.generation) return;
      this.show(liveViewOf(answer));
      this.note.dataset.state = "ok";
      setText(
        this.note,
        `Filtered (${this.filters.length}): from ClickHouse, ≤ ${secondsBehind(askedAt, Date.now(), answer.flush_max_age_ms)} s behind the live feed · today in ${answer.time_zone}`,
      );
    } catch (error) {
      if (generation !== this.generation) return;
      this.note.dataset.state = "error";
      setText(
        this.note,
        `Filtered: ClickHouse did not answer (${error instanceof Error ? error.message : String(error)}); retrying`,
      );
    }
    if (generation !== this.generation || !this.shown) return;
    this.timer = setTimeout(() => void this.poll(), Math.max(0, POLL_MS - (Date.now() - askedAt)));
  }
}
