import { describe, expect, it } from "vitest";
import { type AlertState, type AlertTiming, INITIAL_ALERT_STATE, stepAlert } from "./alert-state-machine";
import type { Verdict } from "./rule-evaluation";

const W = 10_000;
const BREACHED: Verdict = { breached: true, cleared: false };
const CLEARED: Verdict = { breached: false, cleared: true };
/** In the hysteresis band: not breached, not yet cleared. */
const BETWEEN: Verdict = { breached: false, cleared: false };

/** Steps through one verdict per window (ends W, 2W, …) and returns the statuses and notifications. */
function run(verdicts: Verdict[], timing: AlertTiming, state: AlertState = INITIAL_ALERT_STATE) {
  const trace: string[] = [];
  verdicts.forEach((verdict, index) => {
    const step = stepAlert(state, verdict, (index + 1) * W, timing);
    state = step.state;
    trace.push(step.notify === null ? state.status : `${state.status}!${step.notify}`);
  });
  return trace;
}

describe("stepAlert", () => {
  it("fires on the first breach without `for`, and resolves on the first clear", () => {
    expect(run([CLEARED, BREACHED, BREACHED, CLEARED], { forMs: 0, resolveAfterMs: 0, repeatMs: 0 })).toEqual([
      "ok",
      "firing!firing",
      "firing",
      "ok!resolved",
    ]);
  });

  it("stays pending for `for` and fires only if every window in between breached", () => {
    const timing = { forMs: 2 * W, resolveAfterMs: 0, repeatMs: 0 };
    expect(run([BREACHED, BREACHED, BREACHED, BREACHED], timing)).toEqual([
      "pending",
      "pending",
      "firing!firing",
      "firing",
    ]);
    // One window that is not breached (even in the hysteresis band) sends a pending alert back to ok.
    expect(run([BREACHED, BETWEEN, BREACHED, BREACHED, BREACHED], timing)).toEqual([
      "pending",
      "ok",
      "pending",
      "pending",
      "firing!firing",
    ]);
  });

  it("does not flap: windows in the hysteresis band keep it firing and restart the resolve count", () => {
    const timing = { forMs: 0, resolveAfterMs: W, repeatMs: 0 };
    expect(run([BREACHED, BETWEEN, BREACHED, BETWEEN, CLEARED, BETWEEN, CLEARED, CLEARED], timing)).toEqual([
      "firing!firing",
      "firing",
      "firing",
      "firing",
      "firing",
      "firing",
      "firing",
      "ok!resolved",
    ]);
  });

  it("repeats while breached every repeat interval, never in the band or after resolving", () => {
    const timing = { forMs: 0, resolveAfterMs: 0, repeatMs: 2 * W };
    expect(run([BREACHED, BREACHED, BREACHED, BETWEEN, BREACHED, BREACHED, CLEARED, BREACHED], timing)).toEqual([
      "firing!firing",
      "firing",
      "firing!repeat",
      "firing",
      "firing!repeat",
      "firing",
      "ok!resolved",
      "firing!firing",
    ]);
  });

  it("without a verdict either way, keeps whatever state it has", () => {
    const firing = stepAlert(INITIAL_ALERT_STATE, BREACHED, W, { forMs: 0, resolveAfterMs: 0, repeatMs: 0 }).state;
    expect(stepAlert(firing, BETWEEN, 2 * W, { forMs: 0, resolveAfterMs: 0, repeatMs: 0 })).toEqual({
      state: firing,
      notify: null,
    });
  });
});
