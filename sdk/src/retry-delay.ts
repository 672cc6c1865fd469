/** The longest wait between two attempts to send a batch. */
export const MAX_RETRY_DELAY_MS = 60_000;

/**
 * How long to wait before attempt `attempt + 1` of a batch: exponential backoff from 1 s to a
 * minute with "equal jitter" (half fixed, half random), so many clients that failed together do
 * not come back together. A `Retry-After` in seconds (the collector's 429 and 503 send one) is a
 * floor: the retry never comes earlier than the server asked, and still gets the jitter on top.
 */
export const retryDelay = (attempt: number, retryAfter?: string | null, random = Math.random()): number => {
  const backoff = Math.min(1000 * 2 ** attempt, MAX_RETRY_DELAY_MS);
  return Math.max(+(retryAfter ?? 0) * 1000 || 0, backoff / 2) + (random * backoff) / 2;
};
