import type { EventTiming, PerformanceWithInteractions } from "./entry-types";
import { observe, onHidden, onRestore } from "./page-lifecycle";
import { report } from "./reporter";

/** Interactions kept as INP candidates: the longest few are all a p98 over ≤ 500 interactions needs. */
const CANDIDATES = 10;

const interactionCount = () => (performance as PerformanceWithInteractions).interactionCount || 0;

/**
 * Interaction to Next Paint: the longest event duration per interaction, and of those the
 * 98th percentile (one interaction skipped per 50 on the page), reported when the page is
 * hidden. Event entries under 40 ms are not observed (as in web-vitals), except the first input.
 */
export function onINP(): void {
  if (!("interactionId" in (globalThis.PerformanceEventTiming?.prototype ?? {}))) return;
  let longest: { id: number; latency: number }[] = [];
  /** Interactions before the current page view began; undefined for the load itself. */
  let countAtStart: number | undefined;
  const handle = (entries: PerformanceEntry[]) => {
    for (const { interactionId: id, duration } of entries as EventTiming[])
      if (id) {
        const interaction = longest.find((candidate) => candidate.id == id);
        if (interaction) interaction.latency = Math.max(interaction.latency, duration);
        else longest.push({ id, latency: duration });
        longest.sort((a, b) => b.latency - a.latency).splice(CANDIDATES);
      }
  };
  const observer = observe("event", handle, { durationThreshold: 40 });
  if (!observer) return;
  observe("first-input", handle);
  onHidden(() => {
    handle(observer.takeRecords());
    const interactions = interactionCount() - (countAtStart ?? 0);
    // After a restore, interactions too short to observe (under 40 ms, and no first-input entry
    // any more) still happened: web-vitals reports them as 8 ms, one frame's rounding.
    const latency =
      longest[Math.min(longest.length - 1, (interactions / 50) | 0)]?.latency ??
      (countAtStart !== undefined && interactions ? 8 : -1);
    if (latency >= 0) report("INP", latency);
  });
  onRestore(() => {
    longest = [];
    countAtStart = interactionCount();
  });
}
