/**
 * `window.edgepulse` of the script-tag builds: an array of queued calls until `ep.js` runs
 * (`window.edgepulse = window.edgepulse || []; edgepulse.push(["track", "signup"])`), the
 * tracker afterwards. Both have `push`, so a page can use it without knowing which.
 */
import type { QueuedCall, Tracker } from "./types";

export type GlobalQueue = Tracker | QueuedCall[];

declare global {
  interface Window {
    edgepulse?: GlobalQueue;
  }
}
