/**
 * Entry of `ep.js`, the script-tag build:
 * `<script defer src="https://COLLECTOR/ep.js" data-site="demo"></script>`.
 * Options come from data attributes, the collector is the script's own origin unless
 * `data-endpoint` says otherwise, calls queued in `window.edgepulse = window.edgepulse || []`
 * before the script ran are replayed in order (a tracker already there, from the script loaded
 * twice, is left alone), and `data-vitals` loads `ep.vitals.js` beside it.
 */
import { init } from "./tracker";
import type { QueuedCall } from "./types";
import type {} from "./global-queue";

// Set while a classic script runs, deferred or async too (not for type="module").
const script = document.currentScript as HTMLScriptElement;
const data = script.dataset;
const queued = window.edgepulse;
const tracker = (window.edgepulse = init({
  site: data.site!,
  endpoint: data.endpoint || new URL(script.src).origin,
  auto: data.auto != "false",
  persist: data.persist != "false",
  respectGPC: "respectGpc" in data,
  respectDNT: "respectDnt" in data,
  allowAutomation: "allowAutomation" in data,
}));
(queued as QueuedCall[] | undefined)?.map?.(tracker.push);
// A dynamic import is the smallest way to load it; the collector serves both scripts with CORS,
// which a cross-origin module needs. ep.vitals.js is a classic IIFE and runs the same either way.
if ("vitals" in data) import(new URL("ep.vitals.js", script.src).href);
