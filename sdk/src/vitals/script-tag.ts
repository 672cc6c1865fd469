/**
 * Entry of `ep.vitals.js`, which `ep.js` loads when its tag has `data-vitals`. Values go
 * through `window.edgepulse.push`, so they are queued even if this file runs before `ep.js`.
 */
import { vitals } from "./index";
import type { QueuedCall } from "../types";
import type {} from "../global-queue";

vitals({
  vital: (...call) => (window.edgepulse ||= []).push(["vital", ...call] as QueuedCall),
});
