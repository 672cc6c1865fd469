/**
 * The change a KPI tile shows against the comparison period: a relative change for counts
 * and amounts, percentage points for rates (a bounce rate going from 40 % to 44 % is "+4 pp",
 * not "+10 %").
 */
export type DeltaDirection = "up" | "down" | "flat";

export interface Delta {
  text: string;
  direction: DeltaDirection;
}

const relative = new Intl.NumberFormat("en-US", {
  style: "percent",
  maximumFractionDigits: 1,
  signDisplay: "exceptZero",
});
const points = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1, signDisplay: "exceptZero" });

function direction(change: number): DeltaDirection {
  return change > 0 ? "up" : change < 0 ? "down" : "flat";
}

/** `current` against `previous`; from nothing to something has no percentage and says "new". */
export function formatDelta(current: number, previous: number): Delta {
  if (previous === 0) return current === 0 ? { text: "0%", direction: "flat" } : { text: "new", direction: "up" };
  const change = (current - previous) / Math.abs(previous);
  // Rounded before the direction is read, so "0%" is never shown with an arrow.
  const rounded = Math.round(change * 1000) / 1000;
  return { text: relative.format(rounded), direction: direction(rounded) };
}

/** Rates 0..1 compared in percentage points. */
export function formatRateDelta(current: number, previous: number): Delta {
  const change = Math.round((current - previous) * 1000) / 10;
  return { text: `${points.format(change)} pp`, direction: direction(change) };
}
