import type { NavigationTiming } from "./entry-types";
import { activationStart, onRestore } from "./page-lifecycle";
import { report } from "./reporter";

/** Time to First Byte: `responseStart` of the navigation, once the load event has finished; 0 after a back/forward-cache restore. */
export function onTTFB(): void {
  const measure = () => {
    const navigation = performance.getEntriesByType("navigation")[0] as NavigationTiming | undefined;
    // Browsers report 0, negative or future values in some cases (privacy, bugs): skip those.
    if (navigation && navigation.responseStart > 0 && navigation.responseStart < performance.now())
      report("TTFB", Math.max(navigation.responseStart - activationStart(), 0));
  };
  if (document.readyState == "complete") setTimeout(measure);
  else addEventListener("load", () => setTimeout(measure), true);
  onRestore(() => report("TTFB", 0));
}
