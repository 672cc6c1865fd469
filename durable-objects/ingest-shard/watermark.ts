/**
 * Event-time windowing: tumbling windows of WINDOW_SECONDS and the shard's watermark.
 *
 *   watermark = max( min(max event time seen, now) − ALLOWED_LATENESS,
 *                    now − ALLOWED_LATENESS − WINDOW )
 *
 * The first term is the classic "max event time minus allowed lateness": once an event at t
 * arrived, events before t − lateness are expected to be in. It is capped at the wall clock
 * because the Worker accepts event times up to 5 minutes ahead, and one fast client clock
 * must not seal everyone's open windows early. The second term moves the watermark when
 * traffic stops (no new event times): a window then seals WINDOW + LATENESS after its end,
 * which bounds how long a quiet shard keeps a window open. A window [start, end) is sealed
 * once watermark ≥ end. Events arriving after that are late: they are stored, flushed, and
 * counted in a new part of their window (window-sealing.ts), never dropped.
 */

export interface WatermarkInput {
  /** Largest event time this shard has accepted (ms), or null before the first event. */
  maxEventTs: number | null;
  /** Wall clock (ms). */
  now: number;
  windowMs: number;
  latenessMs: number;
}

export function watermarkOf({ maxEventTs, now, windowMs, latenessMs }: WatermarkInput): number {
  const byWallClock = now - latenessMs - windowMs;
  if (maxEventTs === null) return byWallClock;
  return Math.max(Math.min(maxEventTs, now) - latenessMs, byWallClock);
}

/** Start (ms, inclusive) of the tumbling window holding `ts`. */
export function windowStartOf(ts: number, windowMs: number): number {
  return Math.floor(ts / windowMs) * windowMs;
}

/** A window is sealed once the watermark has passed its (exclusive) end. */
export function isWindowSealedBy(windowStart: number, windowMs: number, watermark: number): boolean {
  return windowStart + windowMs <= watermark;
}

/** The wall-clock time at which a window seals even when no further event arrives. */
export function wallClockSealTime(windowStart: number, windowMs: number, latenessMs: number): number {
  return windowStart + 2 * windowMs + latenessMs;
}
