/**
 * Benchmark 5b: the History tab fully rendered in Chromium, as a person waits for it.
 *
 * The dashboard (served by the collector) opens on the History tab with the preset in its URL
 * (`range=30d`, the view's URL state: dashboard/src/history-url-state.ts), and is then reloaded
 * `loads` times with its Show button. (Setting the range select's value does not change the
 * view's range: the view reads it from its state, which a change event or the URL sets; before
 * the range went into the URL this bench timed the default one-hour view.) One load is timed inside
 * the page, from the click to the frame painted after the view marks itself settled
 * (`data-state="settled"` on the history status line, set once every panel's request has
 * answered or failed: dashboard/src/history-view.ts), so Playwright's round trips are not in
 * the figure. A load in which any panel failed is an error, not a fast sample.
 *
 * `urlSuffix` adds to the dashboard URL, e.g. `?country=DE` or `#history&compare=previous`:
 * its query joins `site=…`, and a hash replaces `#history`, so filtered and comparison
 * views can be timed the same way once the view reads them.
 */
import { launchChromium } from "../sdk/test/browser";
import { LatencyHistogram } from "../tools/latency-histogram";

export interface RenderOptions {
  collectorUrl: string;
  site: string;
  token: string;
  /** Timed loads after one untimed warm-up. */
  loads: number;
  /** The range preset to time (dashboard/src/range-presets.ts). */
  preset: string;
  urlSuffix?: string;
}

export interface RenderTiming {
  url: string;
  /** What was added to the dashboard URL ('' for the plain 30-day tab). */
  urlSuffix: string;
  preset: string;
  loads: number;
  p50: number;
  p95: number;
  max: number;
}

/** A timed view, or why it could not be timed. */
export type RenderOutcome = RenderTiming | { error: string; urlSuffix: string };

/**
 * The dashboard URL for `site` with `suffix` merged in (its query added, its hash instead of
 * `#history`), showing `preset` unless the suffix names a range.
 */
export function dashboardUrl(collectorUrl: string, site: string, suffix = "", preset?: string): string {
  const hashAt = suffix.indexOf("#");
  const query = hashAt < 0 ? suffix : suffix.slice(0, hashAt);
  const hash = hashAt < 0 ? "#history" : suffix.slice(hashAt);
  const search = new URLSearchParams(query.replace(/^\?/, ""));
  if (preset !== undefined && !search.has("range")) search.set("range", preset);
  search.set("site", site);
  return `${collectorUrl}/?${search}${hash}`;
}

const SETTLED_TIMEOUT_MS = 60_000;

export async function timeHistoryRender(options: RenderOptions): Promise<RenderTiming> {
  const url = dashboardUrl(options.collectorUrl, options.site, options.urlSuffix, options.preset);
  const browser = await launchChromium();
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addInitScript((token: string) => sessionStorage.setItem("edgepulse.token", token), options.token);
    const page = await context.newPage();
    const status = page.getByTestId("history-status");
    await page.goto(url);
    await status.and(page.locator('[data-state="settled"]')).waitFor({ timeout: SETTLED_TIMEOUT_MS });
    const samples: number[] = [];
    for (let load = 0; load <= options.loads; load++) {
      const result = await page.evaluate(
        async ({ preset, timeoutMs }) => {
          const select = document.querySelector<HTMLSelectElement>("#history-range");
          const line = document.querySelector<HTMLElement>('[data-testid="history-status"]');
          const show = select?.form?.querySelector<HTMLButtonElement>('button[type="submit"]');
          if (!select || !line || !show) throw new Error("the History tab is not on the page");
          // The view shows its state's range in the select: anything else is not the view to time.
          if (select.value !== preset) throw new Error(`the History tab shows ${select.value}, not ${preset}`);
          const settled = new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error("the History tab did not settle")), timeoutMs);
            new MutationObserver((_records, observer) => {
              if (line.dataset.state !== "settled") return;
              observer.disconnect();
              clearTimeout(timer);
              resolve();
            }).observe(line, { attributes: true, attributeFilter: ["data-state"] });
          });
          const began = performance.now();
          show.click();
          await settled;
          // Rendered = the frame after the last panel's data went into the DOM has been produced.
          await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
          return { ms: performance.now() - began, status: line.textContent ?? "" };
        },
        { preset: options.preset, timeoutMs: SETTLED_TIMEOUT_MS },
      );
      if (/failed/i.test(result.status)) throw new Error(`History tab: ${result.status}`);
      if (load > 0) samples.push(result.ms);
    }
    const histogram = new LatencyHistogram();
    for (const sample of samples) histogram.record(sample);
    return {
      url,
      urlSuffix: options.urlSuffix ?? "",
      preset: options.preset,
      loads: samples.length,
      p50: histogram.quantile(0.5),
      p95: histogram.quantile(0.95),
      max: Math.max(...samples),
    };
  } finally {
    await browser.close();
  }
}
