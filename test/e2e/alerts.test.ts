/**
 * Alerts end to end: the real stack (wrangler dev, Durable Objects, the embedded ClickHouse),
 * shop traffic from the load generator, and a local webhook receiver. Traffic with a checkout
 * outage makes a change rule fire; stopping the traffic makes a "no data" rule fire, and
 * sending again resolves it. Every evaluation is checked against `window_metrics` for the
 * same windows, and every webhook against its signature.
 */
import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AlertEvaluation,
  type AlertNotification,
  type AlertRule,
  alertNotificationSchema,
  alertRuleSchema,
} from "../../protocol";
import { BatchStream } from "../../tools/batch-stream";
import { withCheckoutOutage } from "../../tools/checkout-outage";
import { runLoad } from "../../tools/run-load";
import { startStack, type Stack } from "../support/stack";
import { startWebhookReceiver, type ReceivedWebhook, type WebhookReceiver } from "../support/webhook-receiver";

const SITE = "demo";
/** The stack's windows: WINDOW_SECONDS=1, ALLOWED_LATENESS_SECONDS=1. */
const W = 1_000;
const L = 1_000;

let stack: Stack;
let receiver: WebhookReceiver;

beforeAll(async () => {
  [stack, receiver] = await Promise.all([startStack(), startWebhookReceiver()]);
});

afterAll(async () => {
  await receiver?.close();
  await stack?.stop();
});

async function api(method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${stack.collectorUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${stack.adminToken}`, "Content-Type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return JSON.parse(text);
}

async function createRule(name: string, condition: object, extra: object = {}): Promise<AlertRule> {
  return alertRuleSchema.parse(
    await api("POST", "/v1/alerts", {
      site: SITE,
      name,
      condition,
      webhook: { url: `${receiver.url}/hook/${name}` },
      ...extra,
    }),
  );
}

function notification(webhook: ReceivedWebhook): AlertNotification {
  return alertNotificationSchema.parse(JSON.parse(webhook.body));
}

function expectSigned(webhook: ReceivedWebhook, rule: AlertRule): void {
  const expected = `sha256=${createHmac("sha256", rule.webhook.secret).update(webhook.body).digest("hex")}`;
  expect(webhook.headers["x-edgepulse-signature"]).toBe(expected);
}

async function load(durationMs: number, rate: number, outageAt: number | null): Promise<void> {
  const stream = new BatchStream({
    seed: Math.floor(Math.random() * 1e9),
    runId: `al${Date.now().toString(36)}`,
    sites: [SITE],
    visitorsPerSite: 5_000,
  });
  const next = () => stream.next();
  const report = await runLoad({
    url: stack.collectorUrl,
    rate,
    rateUnit: "batches",
    durationMs,
    maxBatches: 1e9,
    concurrency: 16,
    nextBatch: outageAt === null ? next : withCheckoutOutage(next, outageAt),
  });
  expect(report.abandoned).toBe(0);
}

describe("alerts end to end", () => {
  it("fires a change rule on a checkout outage, and a no-data rule when traffic stops, resolved when it returns", {
    timeout: 240_000,
  }, async () => {
    const checkoutsDown = await createRule(
      "checkouts-down",
      {
        kind: "change",
        metric: "checkouts",
        span_seconds: 5,
        baseline: "rolling_mean",
        baseline_spans: 4,
        direction: "down",
        tolerance_pct: 80,
        min_baseline: 4,
      },
      { for_seconds: 2 },
    );
    // Never fires; its evaluations are compared with window_metrics.
    const pageViews = await createRule("page-views", {
      kind: "threshold",
      metric: "page_views",
      span_seconds: 2,
      op: ">",
      value: 1e12,
    });

    // 32 s of shop traffic; checkouts stop reaching the collector after 18 s.
    const trafficStart = Date.now();
    const outageAt = trafficStart + 18_000;
    const traffic = load(32_000, 30, outageAt);
    // Created once traffic flows: a site that has had no events yet rightly has "no data".
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const noData = await createRule("no-data", { kind: "no_data", span_seconds: 3 });
    await traffic;
    const trafficEnd = Date.now();

    const changeFired = await receiver.waitFor(
      "checkouts-down",
      (webhook) => notification(webhook).kind === "firing",
      30_000,
    );
    const changeNotification = notification(changeFired);
    expectSigned(changeFired, checkoutsDown);
    expect(changeNotification.window_end).toBeGreaterThan(outageAt);
    expect(changeNotification.value).toBeLessThanOrEqual(2);
    expect(changeNotification.baseline).toBeGreaterThanOrEqual(4);

    // Traffic stopped: 3 s without events, sealed 2W + L later, then the webhook.
    const noDataFired = await receiver.waitFor("no-data", (webhook) => notification(webhook).kind === "firing", 30_000);
    expectSigned(noDataFired, noData);
    const fired = notification(noDataFired);
    expect(fired.value).toBe(0);
    expect(fired.span_start).toBeGreaterThanOrEqual(trafficEnd - 2 * W);
    expect(noDataFired.receivedAt).toBeGreaterThanOrEqual(fired.window_end + W + L);
    // Nothing fired for no data while traffic flowed.
    expect(receiver.received("no-data")).toHaveLength(1);

    // Traffic returns: the alert resolves.
    const resumedAt = Date.now();
    await load(6_000, 10, null);
    const resolvedHook = await receiver.waitFor(
      "no-data",
      (webhook) => notification(webhook).kind === "resolved",
      30_000,
    );
    expectSigned(resolvedHook, noData);
    const resolved = notification(resolvedHook);
    expect(resolved.firing_id).toBe(fired.firing_id);
    // The load generator dates a batch's events up to 2 s before it sends it.
    expect(resolved.window_end).toBeGreaterThan(resumedAt - 2_000);
    expect(resolved.value).toBeGreaterThan(0);

    const history = (await api("GET", `/v1/alerts/${noData.id}/firings?site=${SITE}`)) as {
      firings: { fired_at: number; resolved_at: number | null; delivered: number }[];
    };
    expect(history.firings).toEqual([
      expect.objectContaining({ fired_at: fired.window_end, resolved_at: resolved.window_end, delivered: 2 }),
    ]);

    // Every evaluation equals window_metrics over the same windows, once ClickHouse has them all.
    const evaluations = async (rule: AlertRule) =>
      (
        (await api("GET", `/v1/alerts/${rule.id}/evaluations?site=${SITE}&limit=200`)) as {
          evaluations: AlertEvaluation[];
        }
      ).evaluations;
    // Each window is flushed to ClickHouse within about a second of its sealing.
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    const sumOver = async (column: "page_views" | "checkouts", from: number, to: number) => {
      const rows = await stack.clickhouse.query<{ n: number }>(
        `SELECT sum(${column}) AS n FROM window_metrics WHERE site = {site:String}
           AND window_start >= fromUnixTimestamp64Milli({from:Int64}) AND window_start < fromUnixTimestamp64Milli({to:Int64})`,
        { site: SITE, from, to },
      );
      return Number(rows[0]?.n ?? 0);
    };
    let compared = 0;
    for (const [rule, column] of [
      [pageViews, "page_views"],
      [checkoutsDown, "checkouts"],
    ] as const) {
      for (const evaluation of await evaluations(rule)) {
        expect({ window_end: evaluation.window_end, value: evaluation.value }).toEqual({
          window_end: evaluation.window_end,
          value: await sumOver(column, evaluation.span_start, evaluation.window_end),
        });
        if ((evaluation.value ?? 0) > 0) compared++;
      }
    }
    expect(compared).toBeGreaterThan(40);
  });
});
