/**
 * When the AlertEngine evaluates. Every shard seals window [s, s + W) at the latest at wall
 * clock s + 2W + L (watermark.ts `wallClockSealTime`: the watermark moves with the wall clock
 * when traffic stops, and earlier with traffic). So at that time every shard's window is
 * final except for late events, and an evaluation of the window then sees what
 * `window_metrics` holds for it. The engine evaluates a little after that instant
 * (EVALUATION_GRACE_MS): a shard sends a change to a window that seals within a second at its
 * fast cadence (every 100 ms, ingest-shard/shard-engine.ts `sealsWithinIdleInterval`), even
 * while nobody watches the site live, so an event accepted just before the seal reaches the
 * hub within that.
 */
import { wallClockSealTime, windowStartOf } from "../ingest-shard/watermark";

export const EVALUATION_GRACE_MS = 300;
/** Windows evaluated at most per rule and alarm when catching up after a pause (older ones are skipped). */
export const MAX_CATCH_UP_WINDOWS = 30;

export interface WindowTiming {
  windowMs: number;
  latenessMs: number;
}

/** Start of the newest window that every shard has sealed by `now` (wall clock), counting the grace. */
export function latestSealedWindowStart(now: number, { windowMs, latenessMs }: WindowTiming): number {
  // wallClockSealTime(s) + grace ≤ now  ⇔  s ≤ now − grace − 2W − L
  return windowStartOf(now - EVALUATION_GRACE_MS - 2 * windowMs - latenessMs, windowMs);
}

/** When to evaluate the window after `windowStart`. */
export function nextEvaluationAt(windowStart: number, { windowMs, latenessMs }: WindowTiming): number {
  return wallClockSealTime(windowStart + windowMs, windowMs, latenessMs) + EVALUATION_GRACE_MS;
}

/**
 * Window starts to evaluate now, oldest first: those after `lastEvaluatedStart` up to the
 * newest sealed, at most MAX_CATCH_UP_WINDOWS (a rule's state is stepped once per window, so
 * `for` durations count in window time even after an outage of the engine).
 */
export function windowsToEvaluate(lastEvaluatedStart: number | null, now: number, timing: WindowTiming): number[] {
  const newest = latestSealedWindowStart(now, timing);
  const first = Math.max(
    lastEvaluatedStart === null ? newest : lastEvaluatedStart + timing.windowMs,
    newest - (MAX_CATCH_UP_WINDOWS - 1) * timing.windowMs,
  );
  const starts: number[] = [];
  for (let start = first; start <= newest; start += timing.windowMs) starts.push(start);
  return starts;
}
