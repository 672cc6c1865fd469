/**
 * Building the messages of the live feed (protocol/live.ts). The snapshot and every update
 * carry absolute values, so a client that missed a message is right again after the next.
 */
import type { LiveSnapshot, LiveUpdate, Overview, Performance, WindowMetrics } from "../../protocol";

/**
 * Upper bound of one message. The day views are capped by their top lists (≤ 50 entries each,
 * strings cut at the edge), which leaves room for hundreds of windows; past the bound the
 * oldest windows are left out (newest first), because they are the ones a dashboard can do
 * without and the next snapshot has them again.
 */
export const MAX_LIVE_MESSAGE_BYTES = 512 * 1024;

export interface LiveMessageParts {
  site: string;
  at: number;
  windowSeconds: number;
  /** Newest first. */
  windows: WindowMetrics[];
  overview: Overview;
  performance: Performance;
}

const encoder = new TextEncoder();

function build(
  type: "snapshot" | "update",
  parts: LiveMessageParts,
  windows: WindowMetrics[],
): LiveSnapshot | LiveUpdate {
  return {
    type,
    site: parts.site,
    at: parts.at,
    window_seconds: parts.windowSeconds,
    windows,
    totals: parts.overview.totals,
    online: parts.overview.online,
    overview: parts.overview,
    performance: parts.performance,
  };
}

/** The message as the JSON text sent on the socket, at most MAX_LIVE_MESSAGE_BYTES when it can be. */
export function liveMessageJson(
  type: "snapshot" | "update",
  parts: LiveMessageParts,
  maxBytes = MAX_LIVE_MESSAGE_BYTES,
): string {
  let windows = parts.windows;
  for (;;) {
    const json = JSON.stringify(build(type, parts, windows));
    if (windows.length === 0 || encoder.encode(json).byteLength <= maxBytes) return json;
    windows = windows.slice(0, Math.floor(windows.length / 2));
  }
}
