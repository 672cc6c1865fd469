/**
 * The history filters, as the API takes them: `filter=<dimension>:<op>:<value>`, split on the
 * first two colons (a value may hold colons: a referrer URL, a `prop` of `key=value`). Filters
 * are ANDed; at most MAX_FILTERS.
 */
export const FILTER_DIMENSIONS = {
  page: "Page",
  entry_page: "Entry page",
  exit_page: "Exit page",
  referrer: "Referrer",
  channel: "Channel",
  source: "Source",
  utm_source: "UTM source",
  utm_medium: "Medium",
  utm_campaign: "Campaign",
  utm_term: "Term",
  utm_content: "Content",
  country: "Country",
  device: "Device",
  browser: "Browser",
  os: "OS",
  product: "Product",
  event: "Event",
  prop: "Property",
} as const;
export type FilterDimension = keyof typeof FILTER_DIMENSIONS;
export type FilterOp = "is" | "is_not";

export interface HistoryFilter {
  dimension: FilterDimension;
  op: FilterOp;
  value: string;
}

export const MAX_FILTERS = 10;

function isDimension(value: string): value is FilterDimension {
  return Object.hasOwn(FILTER_DIMENSIONS, value);
}

/** `null` for anything the API would refuse, so a hand-edited URL cannot break the view. */
export function parseFilter(text: string): HistoryFilter | null {
  const first = text.indexOf(":");
  const second = first < 0 ? -1 : text.indexOf(":", first + 1);
  if (second < 0) return null;
  const dimension = text.slice(0, first);
  const op = text.slice(first + 1, second);
  const value = text.slice(second + 1);
  if (!isDimension(dimension) || (op !== "is" && op !== "is_not")) return null;
  if (dimension === "prop" && !/^[^=]+=/.test(value)) return null;
  return { dimension, op, value };
}

export function formatFilter(filter: HistoryFilter): string {
  return `${filter.dimension}:${filter.op}:${filter.value}`;
}

/** What a `prop` filter is about: its key; every other dimension is one thing. */
function subject(filter: HistoryFilter): string {
  return filter.dimension === "prop" ? `prop:${filter.value.split("=")[0]}` : filter.dimension;
}

/**
 * Adds `filter`, replacing one on the same subject (two "page is" filters ANDed would match
 * nothing). The oldest filter makes room when MAX_FILTERS are set.
 */
export function withFilter(filters: readonly HistoryFilter[], filter: HistoryFilter): HistoryFilter[] {
  const kept = filters.filter((existing) => subject(existing) !== subject(filter));
  return [...kept, filter].slice(-MAX_FILTERS);
}

export function withoutFilter(filters: readonly HistoryFilter[], index: number): HistoryFilter[] {
  return filters.filter((_, position) => position !== index);
}

export function withOpToggled(filters: readonly HistoryFilter[], index: number): HistoryFilter[] {
  return filters.map((filter, position) =>
    position === index ? { ...filter, op: filter.op === "is" ? "is_not" : "is" } : filter,
  );
}

/** Chip text: `Channel is Paid Search`. */
export function describeFilter(filter: HistoryFilter): string {
  return `${FILTER_DIMENSIONS[filter.dimension]} ${filter.op === "is" ? "is" : "is not"} ${filter.value || "(none)"}`;
}
