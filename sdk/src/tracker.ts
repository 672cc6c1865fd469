import { splitIntoBatches } from "./batches";
import { trackNavigations } from "./navigation";
import { createOutbox } from "./outbox";
import { randomId } from "./random-id";
import { retryDelay } from "./retry-delay";
import type { Options, QueuedCall, QueuedEvent, StoredBatch, Tracker } from "./types";
import { MAX_EVENTS_PER_BATCH } from "../../protocol/limits";

/** How long events wait to be batched: short, because the live dashboard shows the first page view within about a second. */
export const BATCH_DELAY_MS = 500;

/** An event before `add` stamps it with an id and a time. */
type Draft = QueuedEvent extends infer Event ? (Event extends QueuedEvent ? Omit<Event, "id" | "ts"> : never) : never;

type BrowserNavigator = Navigator & { globalPrivacyControl?: boolean };

/**
 * Starts a tracker. Events are batched for BATCH_DELAY_MS (or until a batch is full), each
 * batch gets an id and goes to the outbox, and the outbox is sent oldest first, one request at a
 * time. A batch leaves the outbox when the collector answered it: 2xx (accepted, or a duplicate
 * of a batch it already counted), or 4xx other than 429, which no resend can fix, so it is
 * dropped and counted. Network errors, 429 and 5xx keep it and retry it with the same id after a
 * backoff (`retryDelay`); while the browser is offline nothing is attempted and the `online`
 * event resumes. When the page is hidden or left, the outbox goes out by `sendBeacon`.
 */
export function init(options: Options): Tracker {
  const { site, visitor, session } = options;
  const browser: BrowserNavigator = navigator;
  const url = (options.endpoint ?? "") + "/v1/events";
  const off =
    (options.respectGPC && browser.globalPrivacyControl) ||
    (options.respectDNT && browser.doNotTrack == "1") ||
    (browser.webdriver && !options.allowAutomation);
  let pending: QueuedEvent[] = [];
  let eventCount = 0;
  /** Failed attempts at the head of the outbox; non-zero means the collector is backing us off. */
  let attempt = 0;
  /** A request is in flight, or a retry is waiting for its time. */
  let busy = false;
  let flushTimer: ReturnType<typeof setTimeout> | 0 = 0;

  const drop = (events: number) => {
    tracker.dropped += events;
  };
  const [read, write] = createOutbox(options.persist ?? true, drop);
  const remove = (batch: string) => write(read().filter((stored) => stored.batch != batch));
  const post = (body: string, keepalive?: boolean) => fetch(url, { method: "POST", body, keepalive });
  // sent_at is set at every attempt: the collector corrects event times by received_at - sent_at.
  // The batch is marked attempted (retry: 1) before its first attempt leaves, so every later
  // one, from this page or the next, says it is a resend: the collector then looks for its id
  // on every shard (a changed IP or User-Agent routes it to another one). The caller writes it.
  const body = (batch: StoredBatch) => {
    const data = JSON.stringify({ ...batch, sent_at: Date.now() });
    batch.retry = 1;
    return data;
  };

  const send = (hiding?: unknown) => {
    const batches = read();
    if (off || !batches[0] || !browser.onLine) return;
    if (hiding) {
      // A page being hidden may never run again: hand every batch to the browser now, unless the
      // collector asked us to wait (then they stay in the outbox for the next page load).
      if (!attempt) {
        const data = batches.map(body);
        write(batches);
        batches.map((batch, i) =>
          // A string is sent as text/plain, like the fetch below: no CORS preflight.
          browser.sendBeacon(url, data[i]!)
            ? remove(batch.batch)
            : // Beacon queue full: try a keepalive fetch, and keep the batch unless it is answered.
              post(data[i]!, true).then(
                (response) => response.ok && remove(batch.batch),
                () => {},
              ),
        );
      }
      return;
    }
    if (busy) return;
    busy = true;
    const batch = batches[0];
    const retry = (retryAfter?: string | null) =>
      setTimeout(
        () => {
          busy = false;
          send();
        },
        retryDelay(attempt++, retryAfter),
      );
    const data = body(batch);
    write(batches);
    post(data).then(
      (response) => {
        if (response.status == 429 || response.status > 499) return retry(response.headers.get("Retry-After"));
        busy = false;
        attempt = 0;
        if (!response.ok) drop(batch.events.length);
        remove(batch.batch);
        send();
      },
      () => retry(),
    );
  };

  const flush = (hiding?: unknown) => {
    clearTimeout(flushTimer);
    flushTimer = 0;
    for (const events of splitIntoBatches(pending, drop))
      write([...read(), { v: 1, site, batch: randomId(), retry: 0, visitor, session, events }]);
    pending = [];
    send(hiding);
  };

  const add = (draft: Draft) => {
    if (off) return;
    pending.push({ ...draft, id: "" + ++eventCount, ts: Date.now() } as QueuedEvent);
    // Events queued while the page is being hidden (the vitals add-on's final values) go out
    // with the hide flush: its listeners run before the tracker's.
    if (pending.length < MAX_EVENTS_PER_BATCH) flushTimer ||= setTimeout(flush, BATCH_DELAY_MS);
    else flush();
  };

  const tracker: Tracker = {
    pageView: (page) =>
      add({
        type: "page_view",
        url: new URL(page || "", location.href).href,
        referrer: document.referrer,
        title: document.title,
      }),
    cart: (action, data) => add({ ...data, type: "cart", action }),
    purchase: (data) => add({ ...data, type: "purchase" }),
    track: (name, props) => add({ type: "custom", name, props, url: location.href }),
    vital: (metric, value, page = location.href) => add({ type: "vital", metric, value, url: page }),
    flush: () => flush(),
    push: ([method, ...args]: QueuedCall) => (tracker[method] as (...args: unknown[]) => void)(...args),
    dropped: 0,
  };

  if (!off) {
    // Batches a previous page left unsent go first.
    send();
    addEventListener("online", () => send());
    addEventListener("pagehide", flush);
    // Window, bubbling: runs after the vitals add-on's capturing listener has queued final values.
    addEventListener("visibilitychange", () => document.hidden && flush(true));
    if (options.auto ?? true) trackNavigations(tracker.pageView);
  }
  return tracker;
}
