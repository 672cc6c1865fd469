/** A p75 value coloured by its Core Web Vitals rating, with the rating also in words (not colour alone). */
import type { VitalMetric } from "../../protocol/events";
import { type Child, h } from "./dom";
import { formatVital } from "./format";
import { VITAL_RATING_LABELS, rateVital } from "./vitals-rating";

export function vitalCell(metric: VitalMetric, value: number | undefined, count?: number): Child {
  if (value === undefined) return h("span", { class: "muted" }, "–");
  const rating = rateVital(metric, value);
  const title = count === undefined ? undefined : `${count} measurements`;
  return h(
    "span",
    { class: `vital vital-${rating}`, title, "data-rating": rating },
    formatVital(metric, value),
    h("span", { class: "vital-label" }, ` ${VITAL_RATING_LABELS[rating]}`),
  );
}
