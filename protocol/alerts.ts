/**
 * Alert rules, their state and their history, as `/v1/alerts` takes and answers them, and the
 * webhook payload an alert sends. Every rule belongs to one site and is evaluated by that
 * site's AlertEngine as windows seal (durable-objects/alerts/).
 */
import { z } from "zod";

/** Counters summed over the rule's span, from the sealed windows (the numbers of `window_metrics`). */
export const windowAlertMetrics = [
  "events",
  "page_views",
  "sessions",
  "bounces",
  "cart_adds",
  "cart_removes",
  "checkouts",
  "purchases",
  "revenue",
] as const;
/**
 * - `conversion_rate`: purchases ÷ sessions over the span, in percent (per-window sessions summed);
 * - `lcp_p75` / `inp_p75` (ms), `cls_p75`: the worst page's p75 today (the speed layer's sketch);
 * - `abandoned_cart_value`: cart value of sessions that closed in the span without a purchase (ClickHouse `sessions`).
 */
export const derivedAlertMetrics = [
  "conversion_rate",
  "lcp_p75",
  "inp_p75",
  "cls_p75",
  "abandoned_cart_value",
] as const;
export const alertMetricSchema = z.enum([...windowAlertMetrics, ...derivedAlertMetrics]);
export type AlertMetric = z.infer<typeof alertMetricSchema>;

/** Metrics a change rule can compare with a baseline: those that exist per window. */
export const changeAlertMetricSchema = z.enum([...windowAlertMetrics, "conversion_rate"]);

/** A span is whole windows in practice; bounds keep every evaluation one bounded read. */
const spanSeconds = z
  .number()
  .int()
  .min(1)
  .max(7 * 86_400);
const duration = z
  .number()
  .int()
  .min(0)
  .max(7 * 86_400);

export const thresholdConditionSchema = z.object({
  kind: z.literal("threshold"),
  metric: alertMetricSchema,
  span_seconds: spanSeconds,
  op: z.enum(["<", "<=", ">", ">="]),
  value: z.number().finite(),
  /** The value must move this far back past `value` (in the metric's units) before the alert resolves. */
  hysteresis: z.number().finite().min(0).default(0),
});

export const changeConditionSchema = z.object({
  kind: z.literal("change"),
  metric: changeAlertMetricSchema,
  span_seconds: spanSeconds,
  /** `last_week`: the same span 7 days earlier (ClickHouse); `rolling_mean`: the mean of the `baseline_spans` spans before. */
  baseline: z.enum(["last_week", "rolling_mean"]),
  baseline_spans: z.number().int().min(1).max(48).default(6),
  direction: z.enum(["down", "up"]),
  /** Fires when the value is this many percent below (down) or above (up) the baseline. */
  tolerance_pct: z.number().finite().min(1).max(10_000),
  /** Resolves only once the value is back within `tolerance_pct − hysteresis_pct` of the baseline. */
  hysteresis_pct: z.number().finite().min(0).max(100).default(0),
  /** A baseline below this is too small to compare with: the rule neither fires nor resolves on it. */
  min_baseline: z.number().finite().min(0).default(1),
});

export const noDataConditionSchema = z.object({
  kind: z.literal("no_data"),
  /** Fires when no event at all arrived for this long. */
  span_seconds: spanSeconds,
});

export const alertConditionSchema = z.discriminatedUnion("kind", [
  thresholdConditionSchema,
  changeConditionSchema,
  noDataConditionSchema,
]);
export type AlertCondition = z.infer<typeof alertConditionSchema>;
export type ThresholdCondition = z.infer<typeof thresholdConditionSchema>;
export type ChangeCondition = z.infer<typeof changeConditionSchema>;

export const webhookSchema = z.object({
  url: z
    .string()
    .max(2048)
    .url()
    .refine((url) => /^https?:\/\//i.test(url), "the webhook must be an http or https URL"),
  /** `json`: EdgePulse's payload (below); `slack`: a Slack incoming-webhook message (`text` + `blocks`). */
  format: z.enum(["json", "slack"]).default("json"),
  /** HMAC-SHA256 key of the `X-EdgePulse-Signature` header; generated when omitted on create, kept when omitted on update. */
  secret: z.string().min(16).max(128).optional(),
});

export const alertRuleInputSchema = z.object({
  name: z.string().trim().min(1).max(100),
  enabled: z.boolean().default(true),
  condition: alertConditionSchema,
  /** The condition must hold this long (window ends, event time) before the alert fires. */
  for_seconds: duration.default(0),
  /** A firing alert resolves after its condition was clear for this long (default: one window). */
  resolve_after_seconds: duration.default(0),
  /** While firing, the notification is sent again every this many seconds (0: once). */
  repeat_seconds: duration.default(0),
  webhook: webhookSchema,
});
export type AlertRuleInput = z.infer<typeof alertRuleInputSchema>;

/** `POST /v1/alerts` and `PUT /v1/alerts/:id`: the rule plus the site it belongs to. */
export const alertRuleRequestSchema = alertRuleInputSchema.extend({ site: z.string() });

export const alertStatusSchema = z.enum(["ok", "pending", "firing"]);
export type AlertStatus = z.infer<typeof alertStatusSchema>;

export const alertRuleSchema = alertRuleInputSchema.extend({
  id: z.string(),
  site: z.string(),
  created_at: z.number().int(),
  updated_at: z.number().int(),
  webhook: webhookSchema.extend({ secret: z.string() }),
  state: z.object({
    status: alertStatusSchema,
    /** Since when the rule is pending or firing (window end, ms), else null. */
    since: z.number().int().nullable(),
    /** End (ms, exclusive) of the last window evaluated, and the value seen there. */
    last_evaluated_window_end: z.number().int().nullable(),
    last_value: z.number().nullable(),
    last_fired_at: z.number().int().nullable(),
    last_delivery_error: z.string().nullable(),
  }),
});
export type AlertRule = z.infer<typeof alertRuleSchema>;

export const alertFiringSchema = z.object({
  id: z.number().int(),
  rule_id: z.string(),
  /** Window end (ms) at which the alert fired, the value and baseline then. */
  fired_at: z.number().int(),
  value: z.number().nullable(),
  baseline: z.number().nullable(),
  resolved_at: z.number().int().nullable(),
  resolved_value: z.number().nullable(),
  /** Notifications enqueued for this firing (firing, repeats, resolve) and how many reached the webhook. */
  notifications: z.number().int(),
  delivered: z.number().int(),
});
export type AlertFiring = z.infer<typeof alertFiringSchema>;

export const alertEvaluationSchema = z.object({
  rule_id: z.string(),
  /** The span evaluated: [window_end − span, window_end), ms. */
  window_end: z.number().int(),
  span_start: z.number().int(),
  value: z.number().nullable(),
  baseline: z.number().nullable(),
  breached: z.boolean(),
  status: alertStatusSchema,
  evaluated_at: z.number().int(),
});
export type AlertEvaluation = z.infer<typeof alertEvaluationSchema>;

export const alertNotificationKindSchema = z.enum(["firing", "repeat", "resolved"]);
export type AlertNotificationKind = z.infer<typeof alertNotificationKindSchema>;

/**
 * The JSON webhook body. Delivery is at least once: `id` is the same on every retry, so a
 * receiver drops repeats by it. The `X-EdgePulse-Signature: sha256=<hex>` header is
 * HMAC-SHA256 of the raw body under the rule's secret.
 */
export const alertNotificationSchema = z.object({
  id: z.string(),
  kind: alertNotificationKindSchema,
  site: z.string(),
  rule: z.object({ id: z.string(), name: z.string(), condition: alertConditionSchema }),
  firing_id: z.number().int(),
  /** Window end (ms) of the evaluation that produced the notification. */
  window_end: z.number().int(),
  span_start: z.number().int(),
  value: z.number().nullable(),
  baseline: z.number().nullable(),
  /** One line for humans, e.g. `FIRING [demo] Checkouts: checkouts per 1 h down 50 % vs same time last week (value 3, baseline 12)`. */
  summary: z.string(),
});
export type AlertNotification = z.infer<typeof alertNotificationSchema>;

export const ALERT_SIGNATURE_HEADER = "X-EdgePulse-Signature";
export const ALERT_DELIVERY_HEADER = "X-EdgePulse-Delivery";

/** Seconds as the dashboard and messages write them: `5 min`, `1 h`, `30 s`. */
export function formatSpan(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/** The rule's condition in words: `page_views per 5 min < 10`, `checkouts down 50 % vs last week`, `no events for 10 min`. */
export function describeCondition(condition: AlertCondition): string {
  switch (condition.kind) {
    case "threshold":
      // A vital's p75 is today's, whatever the span.
      if (/_p75$/.test(condition.metric))
        return `${condition.metric} (worst page today) ${condition.op} ${condition.value}`;
      return `${condition.metric} per ${formatSpan(condition.span_seconds)} ${condition.op} ${condition.value}`;
    case "change": {
      const baseline =
        condition.baseline === "last_week"
          ? "same time last week"
          : `mean of the ${condition.baseline_spans} spans before`;
      return `${condition.metric} per ${formatSpan(condition.span_seconds)} ${condition.direction} ${condition.tolerance_pct} % vs ${baseline}`;
    }
    case "no_data":
      return `no events for ${formatSpan(condition.span_seconds)}`;
  }
}
