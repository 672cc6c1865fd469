import type { LayoutShift } from "./entry-types";
import { observe, onHidden, onRestore } from "./page-lifecycle";
import { report, wasReported } from "./reporter";

/**
 * Cumulative Layout Shift: the largest session window of unexpected shifts (shifts less than
 * 1 s apart, within 5 s), reported when the page is hidden. As in web-vitals (and CrUX), only
 * for page views that had a First Contentful Paint.
 */
export function onCLS(): void {
  let value = 0;
  let sessionValue = 0;
  let sessionStart = 0;
  let lastShift = 0;
  const handle = (entries: PerformanceEntry[]) => {
    for (const entry of entries as LayoutShift[])
      if (!entry.hadRecentInput) {
        if (sessionValue && entry.startTime - lastShift < 1000 && entry.startTime - sessionStart < 5000)
          sessionValue += entry.value;
        else (sessionValue = entry.value), (sessionStart = entry.startTime);
        lastShift = entry.startTime;
        value = Math.max(value, sessionValue);
      }
  };
  const observer = observe("layout-shift", handle);
  if (!observer) return;
  onHidden(() => {
    handle(observer.takeRecords());
    if (wasReported("FCP")) report("CLS", value);
  });
  onRestore(() => (value = sessionValue = 0));
}
