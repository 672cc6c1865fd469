/**
 * The life of one alert: ok → pending → firing → (resolved) ok, stepped once per evaluated
 * window with that window's verdict. Time is the end of the evaluated window (event time),
 * not the wall clock, so an engine that catches up after a pause steps exactly as it would
 * have live, and a repeated step for the same window is refused by the caller (it keeps the
 * last evaluated window with the state).
 *
 * - `for`: the condition must be breached in every window over that long before firing;
 *   one window that is not breached sends a pending alert back to ok.
 * - hysteresis: a firing alert resolves only on `cleared` (stricter than "not breached"),
 *   held for `resolve_after`; a window in between restarts that count, so it never flaps.
 * - repeat: while firing and still breached, a reminder every `repeat` (0: never).
 */
import type { AlertNotificationKind, AlertStatus } from "../../protocol";
import type { Verdict } from "./rule-evaluation";

export interface AlertState {
  status: AlertStatus;
  /** Pending: end of the first breached window; firing: end of the window it fired at. */
  since: number | null;
  /** Firing: end of the first window of the current run of cleared windows. */
  clearSince: number | null;
  /** Window end at which the last notification (firing or repeat) was made. */
  lastNotifiedAt: number | null;
}

export interface AlertTiming {
  forMs: number;
  resolveAfterMs: number;
  repeatMs: number;
}

export interface AlertStep {
  state: AlertState;
  notify: AlertNotificationKind | null;
}

export const INITIAL_ALERT_STATE: AlertState = { status: "ok", since: null, clearSince: null, lastNotifiedAt: null };

/**
 * The next state after the verdict of the window ending at `at`. The window itself counts as
 * breached (or cleared) for the whole span up to `at`, so with `for` = 0 the first breach fires
 * and the first clear resolves.
 */
export function stepAlert(state: AlertState, verdict: Verdict, at: number, timing: AlertTiming): AlertStep {
  switch (state.status) {
    case "ok":
    case "pending": {
      if (!verdict.breached) return { state: INITIAL_ALERT_STATE, notify: null };
      const since = state.status === "pending" && state.since !== null ? state.since : at;
      // `for` counts from the end of the first breached window: with `for` = W the second one fires.
      if (at - since >= timing.forMs) {
        return { state: { status: "firing", since: at, clearSince: null, lastNotifiedAt: at }, notify: "firing" };
      }
      return { state: { status: "pending", since, clearSince: null, lastNotifiedAt: null }, notify: null };
    }
    case "firing": {
      if (verdict.cleared) {
        const clearSince = state.clearSince ?? at;
        if (at - clearSince >= timing.resolveAfterMs) return { state: INITIAL_ALERT_STATE, notify: "resolved" };
        return { state: { ...state, clearSince }, notify: null };
      }
      const kept: AlertState = { ...state, clearSince: null };
      if (
        verdict.breached &&
        timing.repeatMs > 0 &&
        state.lastNotifiedAt !== null &&
        at - state.lastNotifiedAt >= timing.repeatMs
      ) {
        return { state: { ...kept, lastNotifiedAt: at }, notify: "repeat" };
      }
      return { state: kept, notify: null };
    }
  }
}
