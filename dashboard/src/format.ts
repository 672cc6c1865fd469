/** Number, money, time and Web Vitals formatting, in the browser's locale. */
import type { VitalMetric } from "../../protocol/events";

const countFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const decimalFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const percentFormat = new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 1 });

export function formatCount(value: number): string {
  return countFormat.format(value);
}

export function formatDecimal(value: number): string {
  return decimalFormat.format(value);
}

/** `rate` is a share 0..1. */
export function formatPercent(rate: number): string {
  return percentFormat.format(rate);
}

const moneyFormats = new Map<string, Intl.NumberFormat>();

export function formatMoney(value: number, currency: string): string {
  if (!/^[A-Z]{3}$/.test(currency))
    return new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(value);
  let format = moneyFormats.get(currency);
  if (format === undefined) {
    format = new Intl.NumberFormat(undefined, { style: "currency", currency });
    moneyFormats.set(currency, format);
  }
  return format.format(value);
}

/** Revenue per currency, largest first; the plain total when no currency is known. */
export function formatRevenue(byCurrency: Readonly<Record<string, number>>, total: number): string {
  const entries = Object.entries(byCurrency).filter(([, value]) => value !== 0);
  if (entries.length === 0) return formatMoney(total, "");
  return entries
    .sort((a, b) => b[1] - a[1])
    .map(([currency, value]) => formatMoney(value, currency))
    .join(" + ");
}

export function formatDuration(seconds: number): string {
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole} s`;
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return `${minutes} min ${String(whole % 60).padStart(2, "0")} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

/** CLS is a unitless score; every other metric is milliseconds. */
export function formatVital(metric: VitalMetric, value: number): string {
  if (metric === "CLS") return value.toFixed(3);
  if (value >= 1000) return `${(value / 1000).toFixed(2)} s`;
  return `${Math.round(value)} ms`;
}

export function formatClock(ms: number): string {
  return new Date(ms).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

export function formatDateTime(ms: number): string {
  return new Date(ms).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** With seconds: alert windows can be a second long. */
export function formatDateTimeSeconds(ms: number): string {
  return new Date(ms).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}
