/**
 * AlertEngine: one per site. Holds the site's alert rules, evaluates them as windows seal and
 * delivers their notifications to webhooks.
 *
 * Transport and storage at the edge of the class; what a rule sees, how an alert's state
 * moves and what a notification says are the pure modules beside it. It reads live numbers
 * only through the LiveHub's RPC methods (`recentWindows`, `performance`) and history from
 * ClickHouse (baselines a week back, spans longer than the hub keeps, abandoned carts).
 *
 * The alarm is idempotent and re-armed last: each rule keeps the last window it evaluated in
 * the same transaction as its state, firing row and queued notification, so an alarm that
 * runs twice evaluates nothing twice; notification ids are deterministic, and a delivery
 * that succeeded is removed from the outbox before the next one is tried.
 */
import { DurableObject } from "cloudflare:workers";
import { createClickHouse, type ClickHouse } from "../../clickhouse/client";
import {
  ALERT_DELIVERY_HEADER,
  ALERT_SIGNATURE_HEADER,
  type AlertEvaluation,
  type AlertFiring,
  type AlertNotification,
  type AlertNotificationKind,
  type AlertRule,
  type AlertRuleInput,
  type Performance,
  type WindowMetrics,
  windowAlertMetrics,
} from "../../protocol";
import { loadConfig } from "../../common/config";
import { MAX_HUB_WINDOWS } from "../shard-to-hub/shard-live-state";
import { notificationSummary, webhookBody } from "./alert-message";
import { type AlertTiming, stepAlert } from "./alert-state-machine";
import { AlertStore, MAX_RULES, type OutboxItem, type RuleProgress, ruleView, type StoredRule } from "./alert-store";
import { DELIVERY_CONCURRENCY, DELIVERY_TIMEOUT_MS, isRetryableStatus, retryDelayMs } from "./delivery-backoff";
import { latestSealedWindowStart, nextEvaluationAt, type WindowTiming, windowsToEvaluate } from "./evaluation-schedule";
import {
  changeVerdict,
  emptySpanSums,
  isWindowMetric,
  noDataVerdict,
  rollingMeanBaseline,
  type SpanSums,
  spanValue,
  sumWindows,
  thresholdVerdict,
  type Verdict,
  worstPageP75,
} from "./rule-evaluation";
import { newWebhookSecret, signWebhookBody } from "./webhook-signature";

const WEEK_MS = 7 * 86_400_000;
/** Deliveries attempted per alarm; the rest go in the next one, set for right away. */
const DELIVERIES_PER_ALARM = 64;

/** What one rule measured for one window. */
interface Measurement {
  windowStart: number;
  spanStart: number;
  value: number | null;
  baseline: number | null;
  verdict: Verdict;
}

/** Data fetched once per alarm and shared by the rules. */
interface AlarmInputs {
  now: number;
  hubWindows: WindowMetrics[] | null;
  /** Hub windows cover window starts from here on (older ones the hub no longer keeps). */
  hubCoverageStart: number;
  performance: Performance | null;
}

export class AlertEngine extends DurableObject<Env> {
  private readonly store: AlertStore;
  private readonly timing: WindowTiming;
  private clickhouseClient: ClickHouse | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new AlertStore(ctx.storage.sql);
    const config = loadConfig(env);
    this.timing = { windowMs: config.windowSeconds * 1000, latenessMs: config.allowedLatenessSeconds * 1000 };
  }

  // ---- rules (the Worker's /v1/alerts routes) --------------------------------------------

  async listRules(site: string): Promise<AlertRule[]> {
    this.rememberSite(site);
    return this.store.rules().map((rule) => this.view(rule));
  }

  async getRule(site: string, id: string): Promise<AlertRule | null> {
    this.rememberSite(site);
    const rule = this.store.rule(id);
    return rule === null ? null : this.view(rule);
  }

  /** The new rule, or null when the site already has MAX_RULES rules. */
  async createRule(site: string, input: AlertRuleInput): Promise<AlertRule | null> {
    this.rememberSite(site);
    if (this.store.ruleCount() >= MAX_RULES) return null;
    const now = Date.now();
    const id = `r_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
    const rule: StoredRule = {
      id,
      definition: { ...input, webhook: { ...input.webhook, secret: input.webhook.secret ?? newWebhookSecret() } },
      createdAt: now,
      updatedAt: now,
    };
    this.ctx.storage.transactionSync(() => {
      this.store.saveRule(rule);
      this.store.saveProgress(id, { ...this.store.progress(id), lastWindowStart: this.firstWindowStartFor(now) });
    });
    await this.armAlarm();
    return this.view(rule);
  }

  /** Replaces a rule; a changed condition, or disabling or enabling, starts its state afresh (an open firing is closed without a notification). */
  async updateRule(site: string, id: string, input: AlertRuleInput): Promise<AlertRule | null> {
    this.rememberSite(site);
    const existing = this.store.rule(id);
    if (existing === null) return null;
    const now = Date.now();
    const rule: StoredRule = {
      ...existing,
      definition: {
        ...input,
        webhook: { ...input.webhook, secret: input.webhook.secret ?? existing.definition.webhook.secret },
      },
      updatedAt: Math.max(now, existing.updatedAt + 1),
    };
    const conditionChanged = JSON.stringify(existing.definition.condition) !== JSON.stringify(input.condition);
    this.ctx.storage.transactionSync(() => {
      this.store.saveRule(rule);
      if (conditionChanged || input.enabled !== existing.definition.enabled) {
        const progress = this.store.progress(id);
        if (progress.openFiringId !== null) this.store.resolveFiring(progress.openFiringId, now, null);
        this.store.saveProgress(id, {
          ...progress,
          state: { status: "ok", since: null, clearSince: null, lastNotifiedAt: null },
          openFiringId: null,
          lastWindowStart: this.firstWindowStartFor(now),
        });
      }
    });
    await this.armAlarm();
    return this.view(rule);
  }

  async deleteRule(site: string, id: string): Promise<boolean> {
    this.rememberSite(site);
    if (this.store.rule(id) === null) return false;
    this.ctx.storage.transactionSync(() => this.store.deleteRule(id));
    return true;
  }

  async firings(site: string, id: string, limit: number): Promise<AlertFiring[] | null> {
    this.rememberSite(site);
    return this.store.rule(id) === null ? null : this.store.firings(id, limit);
  }

  async evaluations(site: string, id: string, limit: number): Promise<AlertEvaluation[] | null> {
    this.rememberSite(site);
    return this.store.rule(id) === null ? null : this.store.evaluations(id, limit);
  }

  private view(rule: StoredRule): AlertRule {
    return ruleView(this.site(), rule, this.store.progress(rule.id), this.timing.windowMs);
  }

  private rememberSite(site: string): void {
    if (this.store.meta("site") !== site) this.store.setMeta("site", site);
  }

  private site(): string {
    const site = this.store.meta("site");
    if (site === null) throw new Error("alert engine: site unknown (no rule was ever managed here)");
    return site;
  }

  /** A new rule starts with the next window to seal: it never judges windows from before it existed. */
  private firstWindowStartFor(now: number): number {
    return latestSealedWindowStart(now, this.timing);
  }

  private get clickhouse(): ClickHouse {
    this.clickhouseClient ??= createClickHouse(loadConfig(this.env).clickhouse, { timeoutMs: 5_000 });
    return this.clickhouseClient;
  }

  // ---- the alarm: evaluate, deliver, re-arm ----------------------------------------------

  override async alarm(): Promise<void> {
    await this.runAt(Date.now());
  }

  /**
   * The alarm's work as of wall clock `now`: evaluate the windows sealed by then, deliver what
   * is due, re-arm. Public so that tests drive the engine with a fake clock, as the alarm
   * would at that time.
   */
  async runAt(now: number): Promise<void> {
    const rules = this.store.rules().filter((rule) => rule.definition.enabled);
    try {
      if (rules.length > 0) await this.evaluate(rules, now);
    } catch (error) {
      // The hub did not answer. Nothing was applied; the next alarm evaluates these windows too
      // (catch-up), so an error must not keep the alarm from being re-armed below.
      console.warn(`alert engine: evaluation failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    await this.deliverDue(now);
    await this.armAlarm(now);
  }

  /** Next alarm: the next window's evaluation, or an earlier retry. Set as the last step of every alarm. */
  private async armAlarm(now = Date.now()): Promise<void> {
    const candidates: number[] = [];
    if (this.store.rules().some((rule) => rule.definition.enabled))
      candidates.push(nextEvaluationAt(latestSealedWindowStart(now, this.timing), this.timing));
    const nextDelivery = this.store.nextOutboxAt();
    if (nextDelivery !== null) candidates.push(Math.max(now, nextDelivery));
    if (candidates.length === 0) {
      await this.ctx.storage.deleteAlarm();
      return;
    }
    await this.ctx.storage.setAlarm(Math.min(...candidates));
  }

  private async evaluate(rules: StoredRule[], now: number): Promise<void> {
    const site = this.site();
    const hub = this.env.LIVE_HUB.get(this.env.LIVE_HUB.idFromName(site));
    const needsPerformance = rules.some(
      (rule) => rule.definition.condition.kind === "threshold" && /_p75$/.test(rule.definition.condition.metric),
    );
    const [windows, performance] = await Promise.all([
      hub.recentWindows(site, MAX_HUB_WINDOWS).then((answer) => answer.windows),
      needsPerformance ? hub.performance(site) : Promise.resolve(null),
    ]);
    const inputs: AlarmInputs = {
      now,
      hubWindows: windows,
      // The hub drops windows older than its retention (merged-shards.ts retentionStart); one window of margin.
      hubCoverageStart:
        Math.floor(now / this.timing.windowMs) * this.timing.windowMs - (MAX_HUB_WINDOWS - 2) * this.timing.windowMs,
      performance,
    };
    for (const rule of rules) {
      const progress = this.store.progress(rule.id);
      const starts = windowsToEvaluate(progress.lastWindowStart, now, this.timing);
      if (starts.length === 0) continue;
      const measurements: Measurement[] = [];
      try {
        for (const start of starts) measurements.push(await this.measure(site, rule, start, inputs));
      } catch (error) {
        // ClickHouse unreachable: what was measured is applied, the rest is retried next alarm.
        console.warn(
          `alert engine: rule ${rule.id} not evaluated: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      if (measurements.length > 0) this.applyMeasurements(site, rule, measurements, now);
    }
  }

  /**
   * Sums over [from, to): the windows the hub still keeps from the hub (the newest are not in
   * ClickHouse yet when they are evaluated: shards flush a window just after sealing it), the
   * older part of the span from `window_metrics`, where windows an hour old have long been.
   */
  private async spanSums(site: string, from: number, to: number, inputs: AlarmInputs): Promise<SpanSums> {
    const split = inputs.hubWindows === null ? to : Math.min(to, Math.max(from, inputs.hubCoverageStart));
    const recent =
      inputs.hubWindows === null || split >= to ? emptySpanSums() : sumWindows(inputs.hubWindows, split, to);
    if (split <= from) return recent;
    const older = await this.clickhouseSums(site, from, split);
    const sums = emptySpanSums();
    for (const metric of windowAlertMetrics) sums[metric] = recent[metric] + older[metric];
    sums.revenue = Math.round(sums.revenue * 10_000) / 10_000;
    return sums;
  }

  private async clickhouseSums(site: string, from: number, to: number): Promise<SpanSums> {
    // One sum per window metric, named as the metric (the list in protocol/alerts.ts); revenue
    // as a string, since it is a Decimal.
    const columns = windowAlertMetrics
      .map((metric) => (metric === "revenue" ? "toString(sum(revenue)) AS revenue" : `sum(${metric}) AS ${metric}`))
      .join(", ");
    const rows = await this.clickhouse.query<Record<string, number | string>>(
      `SELECT ${columns}
       FROM window_metrics
       WHERE site = {site:String} AND window_start >= toDateTime({from:UInt32}, 'UTC') AND window_start < toDateTime({to:UInt32}, 'UTC')`,
      { site, from: Math.floor(from / 1000), to: Math.floor(to / 1000) },
      { readonly: "1" },
    );
    const row = rows[0] ?? {};
    const sums = emptySpanSums();
    for (const metric of windowAlertMetrics) sums[metric] = Number(row[metric] ?? 0);
    return sums;
  }

  private async abandonedCartValue(site: string, from: number, to: number): Promise<number> {
    const rows = await this.clickhouse.query<{ value: string }>(
      `SELECT toString(sum(cart_value)) AS value FROM sessions FINAL
       WHERE site = {site:String} AND purchased = 0 AND cart_value > 0
         AND ended_at >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND ended_at < fromUnixTimestamp64Milli({to:Int64}, 'UTC')`,
      { site, from, to },
      { readonly: "1" },
    );
    return Number(rows[0]?.value ?? 0);
  }

  private async measure(
    site: string,
    rule: StoredRule,
    windowStart: number,
    inputs: AlarmInputs,
  ): Promise<Measurement> {
    const { condition } = rule.definition;
    const end = windowStart + this.timing.windowMs;
    // A span is whole windows: a rule of 5 min over 10 s windows reads the last 30.
    const spanMs =
      Math.max(1, Math.ceil((condition.span_seconds * 1000) / this.timing.windowMs)) * this.timing.windowMs;
    const from = end - spanMs;
    const result = (value: number | null, baseline: number | null, verdict: Verdict): Measurement => ({
      windowStart,
      spanStart: from,
      value,
      baseline,
      verdict,
    });
    switch (condition.kind) {
      case "no_data": {
        const events = (await this.spanSums(site, from, end, inputs)).events;
        return result(events, null, noDataVerdict(events));
      }
      case "threshold": {
        const { metric } = condition;
        let value: number | null;
        if (metric === "lcp_p75" || metric === "inp_p75" || metric === "cls_p75")
          value = inputs.performance === null ? null : worstPageP75(inputs.performance, metric);
        else if (metric === "abandoned_cart_value") value = await this.abandonedCartValue(site, from, end);
        else
          value = spanValue(
            isWindowMetric(metric) ? metric : "conversion_rate",
            await this.spanSums(site, from, end, inputs),
          );
        return result(value, null, thresholdVerdict(condition, value));
      }
      case "change": {
        const value = spanValue(condition.metric, await this.spanSums(site, from, end, inputs));
        const baseline =
          condition.baseline === "last_week"
            ? spanValue(condition.metric, await this.spanSums(site, from - WEEK_MS, end - WEEK_MS, inputs))
            : rollingMeanBaseline(
                condition.metric,
                await this.spanSums(site, from - condition.baseline_spans * spanMs, from, inputs),
                condition.baseline_spans,
              );
        return result(value, baseline, changeVerdict(condition, value, baseline));
      }
    }
  }

  /** Steps the rule's state through its measurements and queues notifications, in one transaction. */
  private applyMeasurements(site: string, rule: StoredRule, measurements: Measurement[], now: number): void {
    const { definition } = rule;
    const timing: AlertTiming = {
      forMs: definition.for_seconds * 1000,
      resolveAfterMs: definition.resolve_after_seconds * 1000,
      repeatMs: definition.repeat_seconds * 1000,
    };
    this.ctx.storage.transactionSync(() => {
      // The rule may have been changed or deleted while this alarm awaited the hub or ClickHouse.
      const current = this.store.rule(rule.id);
      if (current === null || current.updatedAt !== rule.updatedAt) return;
      let progress: RuleProgress = this.store.progress(rule.id);
      for (const measurement of measurements) {
        if (progress.lastWindowStart !== null && measurement.windowStart <= progress.lastWindowStart) continue;
        const windowEnd = measurement.windowStart + this.timing.windowMs;
        const step = stepAlert(progress.state, measurement.verdict, windowEnd, timing);
        let openFiringId = progress.openFiringId;
        let lastFiredAt = progress.lastFiredAt;
        if (step.notify === "firing") {
          openFiringId = this.store.openFiring(rule.id, windowEnd, measurement.value, measurement.baseline);
          lastFiredAt = windowEnd;
        }
        const firingId = openFiringId;
        if (step.notify !== null && firingId !== null)
          this.enqueueNotification(site, rule, step.notify, firingId, measurement, now);
        if (step.notify === "resolved" && firingId !== null) {
          this.store.resolveFiring(firingId, windowEnd, measurement.value);
          openFiringId = null;
        }
        this.store.recordEvaluation({
          rule_id: rule.id,
          window_end: windowEnd,
          span_start: measurement.spanStart,
          value: measurement.value,
          baseline: measurement.baseline,
          breached: measurement.verdict.breached,
          status: step.state.status,
          evaluated_at: now,
        });
        progress = {
          ...progress,
          state: step.state,
          lastWindowStart: measurement.windowStart,
          lastValue: measurement.value,
          lastFiredAt,
          openFiringId,
        };
      }
      this.store.saveProgress(rule.id, progress);
    });
  }

  private enqueueNotification(
    site: string,
    rule: StoredRule,
    kind: AlertNotificationKind,
    firingId: number,
    measurement: Measurement,
    now: number,
  ): void {
    const { definition } = rule;
    const windowEnd = measurement.windowStart + this.timing.windowMs;
    const notification: AlertNotification = {
      id: `${rule.id}:${firingId}:${kind}:${windowEnd}`,
      kind,
      site,
      rule: { id: rule.id, name: definition.name, condition: definition.condition },
      firing_id: firingId,
      window_end: windowEnd,
      span_start: measurement.spanStart,
      value: measurement.value,
      baseline: measurement.baseline,
      summary: notificationSummary(
        kind,
        site,
        definition.name,
        definition.condition,
        measurement.value,
        measurement.baseline,
      ),
    };
    this.store.enqueue(
      {
        id: notification.id,
        ruleId: rule.id,
        firingId,
        url: definition.webhook.url,
        secret: definition.webhook.secret,
        body: webhookBody(notification, definition.webhook.format),
        attempts: 0,
        nextAt: now,
      },
      now,
    );
    this.store.countNotification(firingId, false);
  }

  // ---- delivery ---------------------------------------------------------------------------

  private async deliverDue(now: number): Promise<void> {
    const due = this.store.dueOutbox(now, DELIVERIES_PER_ALARM);
    for (let offset = 0; offset < due.length; offset += DELIVERY_CONCURRENCY) {
      await Promise.all(due.slice(offset, offset + DELIVERY_CONCURRENCY).map((item) => this.deliver(item, now)));
    }
  }

  private async deliver(item: OutboxItem, now: number): Promise<void> {
    let failure: string | null = null;
    let retryable = true;
    try {
      const response = await fetch(item.url, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "User-Agent": "EdgePulse-Alerts/1",
          [ALERT_SIGNATURE_HEADER]: await signWebhookBody(item.secret, item.body),
          [ALERT_DELIVERY_HEADER]: item.id,
        },
        body: item.body,
        signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
      });
      // The body is not needed; drain it so the connection is released.
      await response.body?.cancel();
      if (!response.ok) {
        failure = `HTTP ${response.status}`;
        retryable = isRetryableStatus(response.status);
      }
    } catch (error) {
      failure = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
    const attempts = item.attempts + 1;
    this.ctx.storage.transactionSync(() => {
      if (failure === null) {
        if (this.store.removeFromOutbox(item.id)) this.store.countNotification(item.firingId, true);
        this.store.setDeliveryError(item.ruleId, null);
        return;
      }
      this.store.setDeliveryError(item.ruleId, `${failure} (attempt ${attempts})`.slice(0, 300));
      const delay = retryable ? retryDelayMs(attempts) : null;
      if (delay === null) this.store.removeFromOutbox(item.id);
      else this.store.rescheduleOutbox(item.id, attempts, now + delay);
    });
  }
}
