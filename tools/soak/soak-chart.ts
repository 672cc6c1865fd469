/**
 * The soak's chart as a self-contained SVG: one panel per series over the run's minutes,
 * drawn as polylines by hand (no charting dependency; the file opens in any browser and
 * renders on GitHub). Each panel scales from 0 to its own maximum, so growth shows as slope.
 */
import type { SoakSample } from "./interval-recorder";

export interface ChartSeries {
  title: string;
  unit: string;
  value: (sample: SoakSample) => number | null;
  /** A second line in the same panel (e.g. sent beside accepted). */
  second?: { label: string; value: (sample: SoakSample) => number | null };
  label?: string;
}

const MB = 1024 * 1024;

export const SOAK_SERIES: readonly ChartSeries[] = [
  {
    title: "events/s",
    unit: "events/s",
    label: "accepted",
    value: (sample) => sample.acceptedEventsPerSecond,
    second: { label: "sent", value: (sample) => sample.sentEventsPerSecond },
  },
  {
    title: "latency p99",
    unit: "ms",
    label: "ingest (POST → 202)",
    value: (sample) => sample.ingestP99Ms,
    second: { label: "event → live", value: (sample) => sample.liveP99Ms },
  },
  { title: "workerd memory (RSS)", unit: "MB", value: (sample) => mb(sample.workerdRssBytes) },
  {
    title: "IngestShard storage",
    unit: "MB",
    label: "SQLite databases",
    value: (sample) => mb(sample.shardStorageBytes),
    second: { label: "write-ahead logs", value: (sample) => mb(sample.shardWalBytes) },
  },
  { title: "ClickHouse active parts", unit: "parts", value: (sample) => sample.clickhouseParts },
  { title: "workerd CPU per batch", unit: "ms", value: (sample) => sample.cpuMsPerBatch },
  { title: "errors", unit: "per interval", value: (sample) => sample.errors },
];

function mb(bytes: number | null): number | null {
  return bytes === null ? null : bytes / MB;
}

const WIDTH = 720;
const PANEL_HEIGHT = 120;
const GAP = 36;
const LEFT = 64;
const RIGHT = 16;
const TOP = 28;
const COLOURS = ["#1f77b4", "#d62728"] as const;

/** Rounds up to 1, 2 or 5 × a power of ten, so axis maxima read cleanly. */
export function niceCeiling(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (value <= step * power) return step * power;
  return 10 * power;
}

function escapeXml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
}

function formatNumber(value: number): string {
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** Polyline points; a gap in the data (null) starts a new line. */
function lines(
  samples: readonly SoakSample[],
  value: (sample: SoakSample) => number | null,
  x: (minutes: number) => number,
  y: (value: number) => number,
): string[] {
  const result: string[] = [];
  let current: string[] = [];
  for (const sample of samples) {
    const point = value(sample);
    if (point === null || !Number.isFinite(point)) {
      if (current.length > 0) result.push(current.join(" "));
      current = [];
      continue;
    }
    current.push(`${x(sample.elapsedMs / 60_000).toFixed(1)},${y(point).toFixed(1)}`);
  }
  if (current.length > 0) result.push(current.join(" "));
  return result;
}

export function renderSoakChart(samples: readonly SoakSample[], title: string, series = SOAK_SERIES): string {
  const height = TOP + series.length * (PANEL_HEIGHT + GAP);
  const plotWidth = WIDTH - LEFT - RIGHT;
  const lastMinute = Math.max(1, ...samples.map((sample) => sample.elapsedMs / 60_000));
  const x = (minutes: number) => LEFT + (minutes / lastMinute) * plotWidth;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    `<text x="${LEFT}" y="18" font-size="13" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  series.forEach((panel, index) => {
    const top = TOP + index * (PANEL_HEIGHT + GAP) + 18;
    const values = samples.flatMap((sample) => [panel.value(sample), panel.second?.value(sample) ?? null]);
    const finite = values.filter((value): value is number => value !== null && Number.isFinite(value));
    const maximum = niceCeiling(Math.max(0, ...finite));
    const y = (value: number) => top + PANEL_HEIGHT - (Math.min(value, maximum) / maximum) * PANEL_HEIGHT;
    parts.push(
      `<text x="${LEFT}" y="${top - 6}" font-weight="bold">${escapeXml(`${panel.title} (${panel.unit})`)}</text>`,
      `<rect x="${LEFT}" y="${top}" width="${plotWidth}" height="${PANEL_HEIGHT}" fill="none" stroke="#ccc"/>`,
      `<text x="${LEFT - 6}" y="${top + 4}" text-anchor="end">${formatNumber(maximum)}</text>`,
      `<text x="${LEFT - 6}" y="${top + PANEL_HEIGHT}" text-anchor="end">0</text>`,
      `<text x="${LEFT}" y="${top + PANEL_HEIGHT + 13}">0</text>`,
      `<text x="${LEFT + plotWidth}" y="${top + PANEL_HEIGHT + 13}" text-anchor="end">${formatNumber(lastMinute)} min</text>`,
    );
    const drawn = [{ label: panel.label, value: panel.value }, ...(panel.second === undefined ? [] : [panel.second])];
    drawn.forEach((line, lineIndex) => {
      const colour = COLOURS[lineIndex] ?? "#000";
      for (const points of lines(samples, line.value, x, y)) {
        // A lone point would be an invisible line: mark it.
        if (!points.includes(" ")) {
          const [cx, cy] = points.split(",");
          parts.push(`<circle cx="${cx}" cy="${cy}" r="2.5" fill="${colour}"/>`);
        } else {
          parts.push(`<polyline points="${points}" fill="none" stroke="${colour}" stroke-width="1.5"/>`);
        }
      }
      if (line.label !== undefined)
        parts.push(
          `<text x="${LEFT + plotWidth - 4}" y="${top + 12 + lineIndex * 13}" text-anchor="end" fill="${colour}">${escapeXml(line.label)}</text>`,
        );
    });
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
