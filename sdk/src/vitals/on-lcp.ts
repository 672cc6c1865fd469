import { activationStart, doubleFrame, firstHiddenTime, observe, onHidden, onRestore } from "./page-lifecycle";
import { report } from "./reporter";

/**
 * Largest Contentful Paint: the last candidate painted while the page was visible. Browsers
 * stop emitting candidates after the first input, so the value is final (and reported) on the
 * first trusted key press or click, or when the page is hidden.
 */
export function onLCP(): void {
  let value = -1;
  const handle = (entries: PerformanceEntry[]) => {
    const entry = entries.pop();
    if (entry && entry.startTime < firstHiddenTime()) value = Math.max(entry.startTime - activationStart(), 0);
  };
  const observer = observe("largest-contentful-paint", handle);
  if (!observer) return;
  const finalize = (event?: Event) => {
    if (event && !event.isTrusted) return;
    handle(observer.takeRecords());
    if (value >= 0) report("LCP", value);
  };
  for (const type of ["keydown", "click"]) addEventListener(type, finalize, true);
  onHidden(finalize);
  onRestore((event) => doubleFrame(() => report("LCP", performance.now() - event.timeStamp)));
}
