/**
 * The AlertEngine in workerd, with its real LiveHub and storage: rules managed through the
 * Worker's /v1/alerts routes, windows fed to the hub as shards would, and the engine's alarm
 * work run with a fake clock (`runAt`) so a test steps through windows without waiting.
 */
import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import {
  type AlertEvaluation,
  type AlertFiring,
  type AlertRule,
  alertNotificationSchema,
  alertRuleSchema,
  errorResponseSchema,
} from "../../protocol";
import { createClickHouse } from "../../clickhouse/client";
import { toDateTime } from "../../clickhouse/rows";
import { sessionRow } from "../../test/support/clickhouse-rows";
import { app } from "../../worker/app";
import { loadConfig } from "../../common/config";
import { addToSketch, emptySketch } from "../shared/quantile-sketch";
import { shardState, TEST_WINDOW_MS, windowPartial } from "../shard-to-hub/shard-state-fixture";
import { nextEvaluationAt } from "./evaluation-schedule";
import { verifyWebhookSignature } from "./webhook-signature";

const W = TEST_WINDOW_MS;
const TIMING = { windowMs: W, latenessMs: 5_000 };
const TOKEN = "alerts-engine-site-token-0123";
let siteCounter = 0;

function newSite() {
  const site = `alerts-${Date.now().toString(36)}-${siteCounter++}`;
  const testEnv: Env = { ...env, SITES: JSON.stringify([{ key: site, origins: ["*"], token: TOKEN }]) };
  const call = async (method: string, path: string, body?: unknown, token = TOKEN) => {
    const response = await app.fetch(
      new Request(`http://collector.test${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
      }),
      testEnv,
    );
    return { status: response.status, body: response.status === 204 ? null : ((await response.json()) as unknown) };
  };
  const engine = env.ALERT_ENGINE.get(env.ALERT_ENGINE.idFromName(site));
  const hub = env.LIVE_HUB.get(env.LIVE_HUB.idFromName(site));
  return { site, call, engine, hub };
}

declare module "vitest" {
  export interface ProvidedContext {
    /** test/support/workers-global-setup.ts: a test/support/webhook-receiver.ts server. */
    webhookReceiverUrl: string;
  }
}

const RECEIVER = inject("webhookReceiverUrl");
const DEAD_WEBHOOK = { url: `${RECEIVER}/hook/unused` };

interface Received {
  headers: Record<string, string>;
  body: string;
  status: number;
}
async function received(name: string): Promise<Received[]> {
  return (await (await fetch(`${RECEIVER}/received/${name}`)).json()) as Received[];
}

describe("/v1/alerts", () => {
  it("creates, lists, reads, updates and deletes rules, validating every field", async () => {
    const { site, call } = newSite();
    const bad = await call("POST", "/v1/alerts", {
      site,
      name: "x",
      condition: { kind: "threshold", metric: "nope", span_seconds: 60, op: "<", value: 1 },
      webhook: { url: "ftp://x" },
    });
    expect(bad.status).toBe(400);
    const issues = errorResponseSchema.parse(bad.body).error.issues?.map((issue) => issue.path) ?? [];
    expect(issues).toEqual(expect.arrayContaining(["condition.metric", "webhook.url"]));
    expect((await call("POST", "/v1/alerts", "{not json")).status).toBe(400);

    const created = await call("POST", "/v1/alerts", {
      site,
      name: "Few page views",
      condition: { kind: "threshold", metric: "page_views", span_seconds: 300, op: "<", value: 10 },
      webhook: DEAD_WEBHOOK,
    });
    expect(created.status).toBe(201);
    const rule = alertRuleSchema.parse(created.body);
    expect(rule).toMatchObject({
      site,
      name: "Few page views",
      enabled: true,
      for_seconds: 0,
      state: { status: "ok" },
    });
    expect(rule.webhook.secret).toMatch(/^[0-9a-f]{64}$/);

    const list = await call("GET", `/v1/alerts?site=${site}`);
    expect(list.body).toMatchObject({ site, rules: [{ id: rule.id }] });
    expect((await call("GET", `/v1/alerts/${rule.id}?site=${site}`)).body).toMatchObject({ id: rule.id });

    const updated = await call("PUT", `/v1/alerts/${rule.id}`, {
      site,
      name: "Renamed",
      condition: rule.condition,
      repeat_seconds: 600,
      webhook: { url: "https://hooks.example/x", format: "slack" },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({
      name: "Renamed",
      repeat_seconds: 600,
      webhook: { format: "slack", secret: rule.webhook.secret },
    });

    expect(
      (await call("GET", `/v1/alerts/${rule.id}?site=${site}`, undefined, "some-other-token-0123456")).status,
    ).toBe(403);
    expect((await call("GET", `/v1/alerts/r_0123456789abcdef?site=${site}`)).status).toBe(404);
    expect((await call("GET", `/v1/alerts/nonsense?site=${site}`)).status).toBe(404);
    expect((await call("DELETE", `/v1/alerts/${rule.id}?site=${site}`)).status).toBe(204);
    expect((await call("GET", `/v1/alerts/${rule.id}/firings?site=${site}`)).status).toBe(404);
  });
});

describe("AlertEngine evaluation", () => {
  it("steps threshold, no-data and change rules through sealed windows, exactly once, and keeps it across restarts", async () => {
    const { site, call, engine, hub } = newSite();
    const create = async (name: string, condition: unknown, webhook: object) =>
      alertRuleSchema.parse((await call("POST", "/v1/alerts", { site, name, condition, webhook })).body);
    const threshold = await create(
      "page views",
      { kind: "threshold", metric: "page_views", span_seconds: 10, op: "<", value: 5, hysteresis: 2 },
      { url: `${RECEIVER}/hook/${site}-threshold` },
    );
    // This receiver answers 503: the deliveries are retried with backoff.
    const noData = await create(
      "no data",
      { kind: "no_data", span_seconds: 20 },
      { url: `${RECEIVER}/hook/${site}-nodata?status=503` },
    );
    const change = await create(
      "checkouts down",
      {
        kind: "change",
        metric: "checkouts",
        span_seconds: 10,
        baseline: "rolling_mean",
        baseline_spans: 3,
        direction: "down",
        tolerance_pct: 50,
        min_baseline: 2,
      },
      { url: `${RECEIVER}/hook/${site}-change`, format: "slack" },
    );

    // The windows after the one each rule started from: S1 … S5 (S3 and S4 had no events).
    const first = threshold.state.last_evaluated_window_end ?? 0;
    const start = (index: number) => first + (index - 1) * W;
    const values = [
      { page_views: 10, events: 10, checkouts: 10 },
      { page_views: 2, events: 2, checkouts: 10 },
      null,
      null,
      { page_views: 8, events: 8, checkouts: 8 },
    ];
    const windows = values.flatMap((value, index) => (value === null ? [] : [windowPartial(start(index + 1), value)]));
    await hub.applyShardState(shardState(site, 0, 1, Date.now(), { windows }));

    const evaluateAt = nextEvaluationAt(start(4), TIMING);
    expect(evaluateAt).toBe(start(5) + 2 * W + 5_000 + 300);
    await engine.runAt(evaluateAt);
    // Run twice, as a repeated alarm would: nothing is evaluated or notified twice.
    await engine.runAt(evaluateAt);

    const evaluations = async (rule: AlertRule) => {
      const answer = (await call("GET", `/v1/alerts/${rule.id}/evaluations?site=${site}`)).body as {
        evaluations: AlertEvaluation[];
      };
      return answer.evaluations.reverse();
    };
    const firings = async (rule: AlertRule) =>
      ((await call("GET", `/v1/alerts/${rule.id}/firings?site=${site}`)).body as { firings: AlertFiring[] }).firings;

    expect((await evaluations(threshold)).map((e) => [e.window_end - first, e.value, e.status])).toEqual([
      [W, 10, "ok"],
      [2 * W, 2, "firing"],
      [3 * W, 0, "firing"],
      [4 * W, 0, "firing"],
      [5 * W, 8, "ok"],
    ]);
    expect((await evaluations(noData)).map((e) => [e.value, e.status])).toEqual([
      [10, "ok"],
      [12, "ok"],
      [2, "ok"],
      [0, "firing"],
      [8, "ok"],
    ]);
    expect(
      (await evaluations(change)).map((e) => [
        e.value,
        e.baseline === null ? null : Math.round(e.baseline * 100) / 100,
        e.status,
      ]),
    ).toEqual([
      [10, 0, "ok"],
      [10, 3.33, "ok"],
      [0, 6.67, "firing"],
      [0, 6.67, "firing"],
      [8, 3.33, "ok"],
    ]);
    expect(await firings(threshold)).toEqual([
      expect.objectContaining({
        fired_at: start(2) + W,
        value: 2,
        resolved_at: start(5) + W,
        resolved_value: 8,
        notifications: 2,
        delivered: 2,
      }),
    ]);
    expect(await firings(noData)).toEqual([
      expect.objectContaining({ fired_at: start(4) + W, resolved_at: start(5) + W, notifications: 2 }),
    ]);
    expect(await firings(change)).toEqual([
      expect.objectContaining({ fired_at: start(3) + W, value: 0, resolved_at: start(5) + W }),
    ]);

    // Delivered once each (the repeated run found them gone from the outbox), signed with the rule's secret.
    const thresholdHooks = await received(`${site}-threshold`);
    expect(thresholdHooks.map((hook) => alertNotificationSchema.parse(JSON.parse(hook.body)).kind)).toEqual([
      "firing",
      "resolved",
    ]);
    for (const hook of thresholdHooks) {
      expect(
        await verifyWebhookSignature(threshold.webhook.secret, hook.body, hook.headers["x-edgepulse-signature"] ?? ""),
      ).toBe(true);
      expect(hook.headers["x-edgepulse-delivery"]).toBe(JSON.parse(hook.body).id);
    }
    const firingHook = alertNotificationSchema.parse(JSON.parse(thresholdHooks[0]?.body ?? "{}"));
    expect(firingHook).toMatchObject({
      site,
      firing_id: expect.any(Number),
      window_end: start(2) + W,
      span_start: start(2),
      value: 2,
      rule: { id: threshold.id },
    });
    expect(firingHook.summary).toBe(`FIRING [${site}] page views: page_views per 10 s < 5 (value 2)`);
    const slack = (await received(`${site}-change`)).map(
      (hook) => JSON.parse(hook.body) as { text: string; blocks: unknown[] },
    );
    expect(slack.map((message) => message.text)).toEqual([
      expect.stringMatching(
        /^:rotating_light: FIRING .*checkouts per 10 s down 50 % vs mean of the 3 spans before \(value 0, baseline 6\.67\)$/,
      ),
      expect.stringMatching(/^:white_check_mark: RESOLVED /),
    ]);

    // The 503 receiver: each notification tried once, the failure recorded, retried a second later.
    expect(await received(`${site}-nodata`)).toHaveLength(2);
    const afterRun = alertRuleSchema.parse((await call("GET", `/v1/alerts/${noData.id}?site=${site}`)).body);
    expect(afterRun.state.last_delivery_error).toBe("HTTP 503 (attempt 1)");
    expect(afterRun.state.last_evaluated_window_end).toBe(start(5) + W);
    await engine.runAt(evaluateAt + 500);
    expect(await received(`${site}-nodata`)).toHaveLength(2);
    await engine.runAt(evaluateAt + 1_000);
    expect(await received(`${site}-nodata`)).toHaveLength(4);

    // Restarted, the engine knows every rule, state and firing from storage.
    await evictDurableObject(engine);
    const reloaded = alertRuleSchema.parse((await call("GET", `/v1/alerts/${noData.id}?site=${site}`)).body);
    expect(reloaded.state).toEqual({ ...afterRun.state, last_delivery_error: "HTTP 503 (attempt 2)" });
    expect(await firings(threshold)).toHaveLength(1);
  });

  it("compares with the same windows a week earlier, read from window_metrics", async () => {
    const { site, call, engine, hub } = newSite();
    const rule = alertRuleSchema.parse(
      (
        await call("POST", "/v1/alerts", {
          site,
          name: "checkouts vs last week",
          condition: {
            kind: "change",
            metric: "checkouts",
            span_seconds: 20,
            baseline: "last_week",
            direction: "down",
            tolerance_pct: 50,
            min_baseline: 5,
          },
          webhook: { url: `${RECEIVER}/hook/${site}` },
        })
      ).body,
    );
    const first = rule.state.last_evaluated_window_end ?? 0;
    const WEEK = 7 * 86_400_000;
    // Last week: 6 + 4 checkouts in S1's window (two parts of one window add up), none in S2's, 9 in S3's.
    const clickhouse = createClickHouse(loadConfig(env).clickhouse);
    const row = (start: number, checkouts: number) => ({
      site,
      window_start: toDateTime(start - WEEK),
      window_seconds: W / 1000,
      currency: "",
      events: checkouts,
      page_views: 0,
      visitors: 0,
      sessions: 0,
      bounces: 0,
      cart_adds: 0,
      cart_removes: 0,
      checkouts,
      purchases: 0,
      revenue: 0,
    });
    await clickhouse.insert(
      "window_metrics",
      [row(first, 6), row(first, 4), row(first + W, 0), row(first + 2 * W, 9)],
      `alerts-test-${site}`,
    );
    // This week: 3, 5, 5. Spans of two windows: 3 vs 10 (down 70 %: fires), 8 vs 10 (resolves), 10 vs 9.
    await hub.applyShardState(
      shardState(site, 0, 1, Date.now(), {
        windows: [
          windowPartial(first, { checkouts: 3 }),
          windowPartial(first + W, { checkouts: 5 }),
          windowPartial(first + 2 * W, { checkouts: 5 }),
        ],
      }),
    );
    await engine.runAt(nextEvaluationAt(first + W, TIMING));
    const answer = (await call("GET", `/v1/alerts/${rule.id}/evaluations?site=${site}`)).body as {
      evaluations: AlertEvaluation[];
    };
    expect(answer.evaluations.reverse().map((e) => [e.window_end - first, e.value, e.baseline, e.status])).toEqual([
      [W, 3, 10, "firing"],
      [2 * W, 8, 10, "ok"],
      [3 * W, 10, 9, "ok"],
    ]);
  });

  it("measures conversion rate, the worst page's LCP p75 and abandoned cart value", async () => {
    const { site, call, engine, hub } = newSite();
    const create = async (name: string, condition: unknown) =>
      alertRuleSchema.parse(
        (await call("POST", "/v1/alerts", { site, name, condition, webhook: { url: `${RECEIVER}/hook/${site}` } }))
          .body,
      );
    const conversion = await create("conversion", {
      kind: "threshold",
      metric: "conversion_rate",
      span_seconds: 20,
      op: "<",
      value: 1,
    });
    const lcp = await create("lcp", { kind: "threshold", metric: "lcp_p75", span_seconds: 300, op: ">", value: 4000 });
    const abandoned = await create("abandoned", {
      kind: "threshold",
      metric: "abandoned_cart_value",
      span_seconds: 20,
      op: ">",
      value: 100,
    });
    const first = conversion.state.last_evaluated_window_end ?? 0;

    // 400 sessions and 3 purchases over S0 and S1: 0.75 %. One slow page (LCP ≈ 5 s) among fast ones.
    const slow = emptySketch();
    const fast = emptySketch();
    for (let index = 0; index < 20; index++) {
      addToSketch(slow, 5_000 + index);
      addToSketch(fast, 1_000 + index);
    }
    await hub.applyShardState(
      shardState(site, 0, 1, Date.now(), {
        windows: [
          windowPartial(first - W, { sessions: 100, purchases: 1 }),
          windowPartial(first, { sessions: 300, purchases: 2 }),
        ],
        today: { vitals: { "/slow": { LCP: slow }, "/": { LCP: fast } } },
      }),
    );
    // Sessions that closed in S0–S1 with a cart and no purchase: 80 + 45.5; one bought, one closed earlier.
    const session = (id: string, endedAt: number, cartValue: number, purchased: 0 | 1) =>
      sessionRow(site, id, endedAt - 60_000, {
        visitor_id: `v-${id}`,
        events: 5,
        page_views: 3,
        exit_path: "/cart",
        product_views: 1,
        cart_adds: 1,
        cart_value: cartValue,
        purchased,
        currency: "EUR",
      });
    await createClickHouse(loadConfig(env).clickhouse).insert(
      "sessions",
      [
        session("a", first - W + 1, 80, 0),
        session("b", first + 5, 45.5, 0),
        session("c", first + 6, 300, 1),
        session("d", first - 2 * W, 500, 0),
      ],
      `alerts-sessions-${site}`,
    );

    await engine.runAt(nextEvaluationAt(first - W, TIMING));
    const last = async (rule: AlertRule) =>
      (
        (await call("GET", `/v1/alerts/${rule.id}/evaluations?site=${site}&limit=1`)).body as {
          evaluations: AlertEvaluation[];
        }
      ).evaluations[0];
    expect(await last(conversion)).toMatchObject({ window_end: first + W, value: 0.75, status: "firing" });
    expect((await last(lcp))?.value).toBeGreaterThan(4_900);
    expect((await last(lcp))?.status).toBe("firing");
    expect(await last(abandoned)).toMatchObject({ window_end: first + W, value: 125.5, status: "firing" });
  });
});
