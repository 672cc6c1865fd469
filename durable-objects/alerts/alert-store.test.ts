/**
 * The AlertEngine's storage on a real Durable Object's SQLite: the outbox stays bounded,
 * history and evaluations are trimmed per rule, and retries follow the backoff.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { AlertStore, EVALUATIONS_KEPT } from "./alert-store";
import { MAX_DELIVERY_ATTEMPTS, MAX_OUTBOX, isRetryableStatus, retryDelayMs } from "./delivery-backoff";

let counter = 0;
async function withStore(test: (store: AlertStore) => void): Promise<void> {
  const stub = env.ALERT_ENGINE.get(env.ALERT_ENGINE.idFromName(`alert-store-${Date.now()}-${counter++}`));
  await runInDurableObject(stub, (_instance, state) => test(new AlertStore(state.storage.sql)));
}

describe("AlertStore", () => {
  it("keeps at most MAX_OUTBOX notifications, dropping the oldest and counting them", async () => {
    await withStore((store) => {
      for (let index = 0; index < MAX_OUTBOX + 7; index++) {
        store.enqueue(
          {
            id: `n${index}`,
            ruleId: "r",
            firingId: 1,
            url: "http://x",
            secret: "s",
            body: "{}",
            attempts: 0,
            nextAt: index,
          },
          index,
        );
      }
      expect(store.outboxLength()).toBe(MAX_OUTBOX);
      expect(store.meta("dropped_notifications")).toBe("7");
      expect(store.dueOutbox(Number.MAX_SAFE_INTEGER, 1)[0]?.id).toBe("n7");
      // The same notification queued twice (a repeated alarm) is one entry.
      store.enqueue(
        { id: "n600", ruleId: "r", firingId: 1, url: "http://x", secret: "s", body: "{}", attempts: 0, nextAt: 0 },
        1_000,
      );
      store.enqueue(
        { id: "n600", ruleId: "r", firingId: 1, url: "http://x", secret: "s", body: "{}", attempts: 0, nextAt: 0 },
        1_000,
      );
      expect(store.outboxLength()).toBe(MAX_OUTBOX);
      expect(store.nextOutboxAt()).toBe(0);
    });
  });

  it("keeps the last EVALUATIONS_KEPT evaluations of a rule", async () => {
    await withStore((store) => {
      for (let end = 1; end <= EVALUATIONS_KEPT + 5; end++) {
        store.recordEvaluation({
          rule_id: "r",
          window_end: end,
          span_start: end - 1,
          value: end,
          baseline: null,
          breached: false,
          status: "ok",
          evaluated_at: end,
        });
      }
      const kept = store.evaluations("r", 1_000);
      expect(kept).toHaveLength(EVALUATIONS_KEPT);
      expect(kept[0]?.window_end).toBe(EVALUATIONS_KEPT + 5);
      expect(kept.at(-1)?.window_end).toBe(6);
    });
  });
});

describe("delivery backoff", () => {
  it("doubles from 1 s to at most 5 min and gives up after MAX_DELIVERY_ATTEMPTS", () => {
    expect([1, 2, 3, 4].map(retryDelayMs)).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(retryDelayMs(MAX_DELIVERY_ATTEMPTS - 1)).toBe(300_000);
    expect(retryDelayMs(MAX_DELIVERY_ATTEMPTS)).toBeNull();
    expect([408, 429, 500, 503].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 404, 410].some(isRetryableStatus)).toBe(false);
  });
});
