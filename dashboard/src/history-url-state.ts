/**
 * What the history view shows, in the page's query string, so a view is a link: `range`
 * (a preset, or `custom` with `from` / `to` dates), `compare`, repeated `filter` and repeated
 * `goal=page:<pattern>` (page goals the Goals panel counts). Other
 * parameters (`site`) are kept; the hash stays the tab's. Decoding drops what it does not
 * understand instead of failing: URLs are hand-edited and shared.
 */
import { type ComparisonMode, isComparisonMode } from "./history-comparison";
import { type HistoryFilter, MAX_FILTERS, formatFilter, parseFilter } from "./history-filter";
import { type RangePreset, isRangePreset } from "./range-presets";

export type RangeChoice = { preset: RangePreset } | { preset: "custom"; from: string; to: string };

export interface HistoryViewState {
  range: RangeChoice;
  compare: ComparisonMode;
  filters: HistoryFilter[];
  /** Path patterns of page goals, e.g. `/checkout/*`. */
  pageGoals: string[];
}

export const DEFAULT_VIEW_STATE: HistoryViewState = {
  range: { preset: "1h" },
  compare: "off",
  filters: [],
  pageGoals: [],
};

/** As many page goals as filters: one query each. */
export const MAX_PAGE_GOALS = MAX_FILTERS;
const PAGE_GOAL = "page:";
const KEYS = ["range", "from", "to", "compare", "filter", "goal"];
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function decodeViewState(search: string): HistoryViewState {
  const params = new URLSearchParams(search);
  const preset = params.get("range") ?? "";
  const from = params.get("from") ?? "";
  const to = params.get("to") ?? "";
  const range: RangeChoice = isRangePreset(preset)
    ? { preset }
    : preset === "custom" && DATE.test(from) && DATE.test(to)
      ? { preset: "custom", from, to }
      : DEFAULT_VIEW_STATE.range;
  const compare = params.get("compare") ?? "";
  const filters = params
    .getAll("filter")
    .map(parseFilter)
    .filter((filter) => filter !== null)
    .slice(0, MAX_FILTERS);
  const pageGoals = [
    ...new Set(
      params
        .getAll("goal")
        .filter((goal) => goal.startsWith(PAGE_GOAL) && goal.length > PAGE_GOAL.length)
        .map((goal) => goal.slice(PAGE_GOAL.length)),
    ),
  ].slice(0, MAX_PAGE_GOALS);
  return { range, compare: isComparisonMode(compare) ? compare : "off", filters, pageGoals };
}

/** The query string (with `?`, or "" when empty) for `state` over the page's other parameters. */
export function encodeViewState(state: HistoryViewState, search: string): string {
  const params = new URLSearchParams(search);
  for (const key of KEYS) params.delete(key);
  if (state.range.preset !== DEFAULT_VIEW_STATE.range.preset) params.set("range", state.range.preset);
  if (state.range.preset === "custom") {
    params.set("from", state.range.from);
    params.set("to", state.range.to);
  }
  if (state.compare !== "off") params.set("compare", state.compare);
  for (const filter of state.filters) params.append("filter", formatFilter(filter));
  for (const goal of pageGoalParams(state.pageGoals)) params.append("goal", goal);
  const text = params.toString();
  return text === "" ? "" : `?${text}`;
}

/** `goal` parameters of the goals request: `page:<pattern>` each. */
export function pageGoalParams(patterns: readonly string[]): string[] {
  return patterns.map((pattern) => `${PAGE_GOAL}${pattern}`);
}

/** True when the query string describes a history view: a shared link opens the History tab. */
export function describesHistoryView(search: string): boolean {
  const params = new URLSearchParams(search);
  return KEYS.some((key) => params.has(key));
}
