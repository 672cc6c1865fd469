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
  let countAtStart = 0;
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
    const inp = longest[Math.min(longest.length - 1, ((interactionCount() - countAtStart) / 50) | 0)];
    if (inp) report("INP", inp.latency);
  });
  onRestore(() => {
    longest = [];
    countAtStart = interactionCount();
  });
}
