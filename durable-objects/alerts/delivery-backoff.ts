/**
 * Webhook delivery retries: bounded in attempts and in the queue's length, so a receiver
 * that is down for a day costs a fixed amount of storage and requests. Delays double from
 * 1 s to at most 5 minutes: 1, 2, 4 … 256 s, then 300 s: about 20 minutes over 12 attempts.
 */
export const MAX_DELIVERY_ATTEMPTS = 12;
/** Notifications waiting for delivery, over all rules of a site; the oldest is dropped beyond. */
export const MAX_OUTBOX = 500;
/** One webhook request may take this long. */
export const DELIVERY_TIMEOUT_MS = 5_000;
/** Requests in flight at once per engine. */
export const DELIVERY_CONCURRENCY = 8;

const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 5 * 60_000;

/** Delay before attempt `attempts + 1` after `attempts` failed ones; null when it should be given up. */
export function retryDelayMs(attempts: number): number | null {
  if (attempts >= MAX_DELIVERY_ATTEMPTS) return null;
  return Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1));
}

/** 2xx is delivered; 4xx other than 408/429 will not get better by retrying. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}
