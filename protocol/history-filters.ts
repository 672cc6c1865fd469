/**
 * Filters of every `GET /v1/history/*` route: a repeated query parameter
 * `filter=<dimension>:<op>:<value>`, split on the first two colons (the value may hold more),
 * all filters ANDed. The dashboard builds them with `formatHistoryFilter`, the Worker reads them
 * with `parseHistoryFilter`; what each dimension means for each answer is in docs/design.md
 * ("History filters").
 */
import { z } from "zod";

export const MAX_HISTORY_FILTERS = 10;
export const MAX_HISTORY_FILTER_VALUE_LENGTH = 500;

/**
 * Three kinds, because they live in different places:
 * - event attributes: columns every stored event has (its page, referrer host, country …);
 * - session attributes: the session's first touch (`source`: its attributed source, see
 *   docs/design.md) and its first and last page (`sessions`);
 * - occurrences: something that happened in a session (a custom event, one of its properties,
 *   a product viewed, carted or bought), which marks the session, not the event.
 */
export const EVENT_FILTER_DIMENSIONS = ["page", "referrer", "country", "device", "browser", "os"] as const;
export const SESSION_FILTER_DIMENSIONS = [
  "entry_page",
  "exit_page",
  "channel",
  "source",
  "utm_source",
  "utm_medium",
  "utm_campaign",
  "utm_term",
  "utm_content",
] as const;
export const OCCURRENCE_FILTER_DIMENSIONS = ["product", "event", "prop"] as const;

export const historyFilterDimensionSchema = z.enum([
  ...EVENT_FILTER_DIMENSIONS,
  ...SESSION_FILTER_DIMENSIONS,
  ...OCCURRENCE_FILTER_DIMENSIONS,
]);
export type HistoryFilterDimension = z.infer<typeof historyFilterDimensionSchema>;

export const historyFilterOpSchema = z.enum(["is", "is_not"]);
export type HistoryFilterOp = z.infer<typeof historyFilterOpSchema>;

export const historyFilterSchema = z.object({
  dimension: historyFilterDimensionSchema,
  op: historyFilterOpSchema,
  /** For `prop`: `key=value` (split on the first `=`). */
  value: z.string().max(MAX_HISTORY_FILTER_VALUE_LENGTH),
});
export type HistoryFilter = z.infer<typeof historyFilterSchema>;

/** `prop` values: a property key as the collector accepts it, `=`, then the value (may be empty). */
const PROP_VALUE = /^([A-Za-z][A-Za-z0-9_.:-]{0,63})=(.*)$/s;

/** The key and value of a `prop` filter, or null when the value is not `key=value`. */
export function propFilterParts(value: string): { key: string; value: string } | null {
  const match = PROP_VALUE.exec(value);
  return match === null ? null : { key: match[1] ?? "", value: match[2] ?? "" };
}

/** One `filter` parameter, or the reason it is refused (shown to the client with the filter). */
export function parseHistoryFilter(raw: string): HistoryFilter | string {
  const first = raw.indexOf(":");
  const second = first < 0 ? -1 : raw.indexOf(":", first + 1);
  if (second < 0) return "must be <dimension>:<op>:<value>";
  const dimension = historyFilterDimensionSchema.safeParse(raw.slice(0, first));
  if (!dimension.success) return `unknown dimension; one of ${historyFilterDimensionSchema.options.join(", ")}`;
  const op = historyFilterOpSchema.safeParse(raw.slice(first + 1, second));
  if (!op.success) return "unknown op; one of is, is_not";
  const value = raw.slice(second + 1);
  if (value.length > MAX_HISTORY_FILTER_VALUE_LENGTH)
    return `the value may be at most ${MAX_HISTORY_FILTER_VALUE_LENGTH} characters`;
  if (dimension.data === "prop" && propFilterParts(value) === null)
    return "a prop filter's value must be key=value (key: a letter, then up to 63 letters, digits or _ . : -)";
  return { dimension: dimension.data, op: op.data, value };
}

export function formatHistoryFilter(filter: HistoryFilter): string {
  return `${filter.dimension}:${filter.op}:${filter.value}`;
}
