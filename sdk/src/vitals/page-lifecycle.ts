/**
 * The page lifecycle the way the web-vitals library models it, shared by the five metrics:
 * when the page was first hidden (paints after that are not the user's experience), a hook for
 * the moment it is hidden (the last reliable moment to report final values), and a hook for a
 * restore from the back/forward cache (a new page view to the user, so every metric restarts).
 * Nothing runs at import: `watchLifecycle()` starts it, so importing is safe during SSR.
 */
import type { NavigationTiming } from "./entry-types";

let firstHidden = Infinity;
const hideCallbacks: (() => void)[] = [];

const hiddenNow = () => (document.visibilityState == "hidden" ? 0 : Infinity);

export const firstHiddenTime = (): number => firstHidden;

export const onHidden = (callback: () => void): void => {
  hideCallbacks.push(callback);
};

export const onRestore = (callback: (event: PageTransitionEvent) => void): void =>
  addEventListener("pageshow", (event) => event.persisted && callback(event), true);

/** Start of the page for vitals: its activation when it was prerendered, else navigation start. */
export const activationStart = (): number =>
  (performance.getEntriesByType("navigation")[0] as NavigationTiming | undefined)?.activationStart || 0;

export const doubleFrame = (callback: () => void): number =>
  requestAnimationFrame(() => requestAnimationFrame(callback));

/** Observes buffered entries of one type; undefined where the browser does not support it. */
export function observe(
  type: string,
  handle: (entries: PerformanceEntry[]) => void,
  options?: object,
): PerformanceObserver | undefined {
  try {
    const observer = new PerformanceObserver((list) => handle(list.getEntries()));
    observer.observe({ type, buffered: true, ...options });
    return observer;
  } catch {
    return undefined;
  }
}

export function watchLifecycle(): void {
  // A page hidden before this script ran (opened in a background tab) was hidden from the start.
  firstHidden =
    performance.getEntriesByType("visibility-state").find((entry) => entry.name == "hidden")?.startTime ?? hiddenNow();
  // Capturing on window runs before the tracker's own (bubbling) listener, so the final values
  // are queued before it flushes the page's last batch.
  addEventListener(
    "visibilitychange",
    (event) => {
      if (document.visibilityState == "hidden") {
        firstHidden = Math.min(firstHidden, event.timeStamp);
        hideCallbacks.forEach((callback) => callback());
      }
    },
    true,
  );
  // The restored page is visible once the browser had a task to update its state.
  onRestore(() => setTimeout(() => (firstHidden = hiddenNow())));
}
