/**
 * A time chart (uPlot: ~50 KB, canvas, fast enough to redraw on every live update). It takes
 * the container's width and follows it, so it works from phone to desktop. The canvas is
 * hidden from assistive technology; `describe` keeps a text summary in the container's label.
 */
import uPlot from "uplot";

export interface ChartLine {
  label: string;
  colour: string;
  /** Draw as bars (counts per bucket) instead of a line. */
  bars?: boolean;
  /** Dash pattern, e.g. [6, 4] for a comparison series. */
  dash?: number[];
}

const CHART_HEIGHT = 220;

export class WindowChart {
  private readonly plot: uPlot;
  private readonly resizeObserver: ResizeObserver;

  constructor(
    private readonly container: HTMLElement,
    lines: readonly ChartLine[],
  ) {
    container.setAttribute("role", "img");
    const bars = uPlot.paths.bars?.({ size: [0.7, 40] });
    const options: uPlot.Options = {
      width: Math.max(280, container.clientWidth),
      height: CHART_HEIGHT,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_plot, _min, max) => [0, Math.max(1, max)] } },
      // Wider spacing on the time axis: its two-line labels overlap at uPlot's default.
      axes: [
        { stroke: "#3b4252", space: 80 },
        { stroke: "#3b4252", size: 48 },
      ],
      series: [
        {},
        ...lines.map((line) => ({
          label: line.label,
          stroke: line.colour,
          width: 2,
          fill: line.bars ? `${line.colour}55` : undefined,
          paths: line.bars ? bars : undefined,
          dash: line.dash,
          points: { show: false },
        })),
      ],
    };
    this.plot = new uPlot(options, [[], ...lines.map(() => [])], container);
    this.plot.root.querySelector("canvas")?.setAttribute("aria-hidden", "true");
    this.resizeObserver = new ResizeObserver(() => {
      const width = Math.max(280, this.container.clientWidth);
      if (width !== this.plot.width) this.plot.setSize({ width, height: CHART_HEIGHT });
    });
    this.resizeObserver.observe(container);
  }

  /** `x` in seconds since the epoch; one array per line, same length as `x` (null: no value there). */
  setData(x: readonly number[], ys: readonly (readonly (number | null)[])[]): void {
    this.plot.setData([x.slice(), ...ys.map((y) => y.slice())]);
  }

  describe(text: string): void {
    this.container.setAttribute("aria-label", text);
  }

  destroy(): void {
    this.resizeObserver.disconnect();
    this.plot.destroy();
  }
}
