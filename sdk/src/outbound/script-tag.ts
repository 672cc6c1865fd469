/**
 * Entry of `ep.outbound.js`, a script tag of its own beside `ep.js`:
 * `<script defer src="https://COLLECTOR/ep.outbound.js"></script>`. Events go through
 * `window.edgepulse.push`, so they are queued even if this file runs before `ep.js`, and
 * `ep.js` pays no byte for an add-on most sites do not load.
 */
import { outbound } from "./index";
import type { QueuedCall } from "../types";
import type {} from "../global-queue";

outbound({
  track: (...call) => (window.edgepulse ||= []).push(["track", ...call] as QueuedCall),
});
