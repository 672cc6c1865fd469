/**
 * Reconnect delays: exponential from 500 ms, capped at 30 s, with jitter between half and the
 * full delay, so dashboards that lost the same hub do not all come back in the same instant.
 */
export const RECONNECT_BASE_MS = 500;
export const RECONNECT_MAX_MS = 30_000;

/** `attempt` counts failures since the last good connection, starting at 0. */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(RECONNECT_MAX_MS, RECONNECT_BASE_MS * 2 ** Math.min(attempt, 16));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
