/**
 * The public types of the SDK, derived from the wire protocol so a payload shape is declared
 * once (protocol/events.ts). Only types cross this boundary: the SDK bundles no zod.
 */
import type { BatchInput, EventInput } from "../../protocol";

type InputOf<T extends EventInput["type"]> = Extract<EventInput, { type: T }>;
/** What a caller passes for an event: everything but the fields the SDK fills in. */
type DataOf<T extends EventInput["type"]> = Omit<InputOf<T>, "type" | "id" | "ts">;

export type CartAction = InputOf<"cart">["action"];
/** `cart("add" | "remove", …)` takes a product; `cart("checkout", …)` takes `value` and `currency`. */
export type CartData = Omit<DataOf<"cart">, "action">;
export type PurchaseData = DataOf<"purchase">;
export type Props = NonNullable<InputOf<"custom">["props"]>;
export type VitalMetric = InputOf<"vital">["metric"];

/** A batch as it waits in the outbox: complete except `sent_at`, which each attempt sets. */
export type StoredBatch = Omit<BatchInput, "sent_at">;
/** One event as the SDK queues it. */
export type QueuedEvent = EventInput;

export interface Options {
  /** Public site key, e.g. "demo". */
  site: string;
  /**
   * Collector base URL without a trailing slash, e.g. "https://collector.example"; batches go to
   * `${endpoint}/v1/events`. Default: the page's own origin (the script tag: its own origin).
   */
  endpoint?: string;
  /** Track page views on load and SPA navigations (default true). */
  auto?: boolean;
  /** Your own consented visitor id, sent with every batch. Absent by default: the collector derives one without storing anything on the device. */
  visitor?: string;
  /** Your own consented session id. Absent by default: the collector assigns sessions. */
  session?: string;
  /** Send nothing when the browser sends Global Privacy Control (`navigator.globalPrivacyControl`). */
  respectGPC?: boolean;
  /** Send nothing when Do Not Track is on (`navigator.doNotTrack === "1"`). */
  respectDNT?: boolean;
  /** Keep unsent batches in localStorage across reloads (default true). `false` keeps them in memory only. */
  persist?: boolean;
  /** Track automated browsers too (`navigator.webdriver`); they are skipped by default. */
  allowAutomation?: boolean;
}

/** A call queued before the script loaded: `edgepulse.push(["track", "signup", { plan: "free" }])`. */
export type QueuedCall =
  | ["pageView", string?]
  | ["cart", CartAction, CartData?]
  | ["purchase", PurchaseData]
  | ["track", string, Props?]
  | ["vital", VitalMetric, number, string?]
  | ["flush"];

export interface Tracker {
  /** Sends a `page_view` for `url` (default: the current location). */
  pageView(url?: string): void;
  cart(action: CartAction, data?: CartData): void;
  purchase(data: PurchaseData): void;
  /** Sends a `custom` event. */
  track(name: string, props?: Props): void;
  /** Sends a `vital` event; the vitals add-on calls this. */
  vital(metric: VitalMetric, value: number, url?: string): void;
  /** Sends everything queued now instead of waiting for the batch timer. */
  flush(): void;
  /** Runs a queued call; lets `edgepulse.push([...])` work before and after the script loads. */
  push(call: QueuedCall): void;
  /** Events given up on this page: evicted from the bounded outbox, too big for any batch, or rejected with a 4xx. */
  dropped: number;
}
