/** `@edgepulse/sdk`: the tracker as an ES module. `init(options)` returns the same object the script tag exposes as `window.edgepulse`. */
export { init } from "./tracker";
export type { CartAction, CartData, Options, Props, PurchaseData, QueuedCall, Tracker, VitalMetric } from "./types";
