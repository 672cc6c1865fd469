import { activationStart, doubleFrame, firstHiddenTime, observe, onRestore } from "./page-lifecycle";
import { report } from "./reporter";

/** First Contentful Paint, unless the page was hidden before it; after a back/forward-cache restore, the time to the next frames. */
export function onFCP(): void {
  observe("paint", (entries) => {
    for (const entry of entries)
      if (entry.name == "first-contentful-paint" && entry.startTime < firstHiddenTime())
        report("FCP", Math.max(entry.startTime - activationStart(), 0));
  });
  onRestore((event) => doubleFrame(() => report("FCP", performance.now() - event.timeStamp)));
}
