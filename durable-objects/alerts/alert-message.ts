/**
 * What a notification says, in EdgePulse's JSON or as a Slack incoming-webhook message. The
 * body is built once, when the notification is queued, and stored: every retry sends the
 * same bytes under the same signature.
 */
import type { AlertCondition, AlertNotification, AlertNotificationKind } from "../../protocol";

function formatNumber(value: number | null): string {
  if (value === null) return "n/a";
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

function formatSpan(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/** The rule's condition in words: `page_views per 5 min < 10`, `checkouts down 50 % vs last week`, `no events for 10 min`. */
export function describeCondition(condition: AlertCondition): string {
  switch (condition.kind) {
    case "threshold":
      return `${condition.metric} per ${formatSpan(condition.span_seconds)} ${condition.op} ${condition.value}`;
    case "change": {
      const baseline = condition.baseline === "last_week" ? "same time last week" : `mean of the ${condition.baseline_spans} spans before`;
      return `${condition.metric} per ${formatSpan(condition.span_seconds)} ${condition.direction} ${condition.tolerance_pct} % vs ${baseline}`;
    }
    case "no_data":
      return `no events for ${formatSpan(condition.span_seconds)}`;
  }
}

const LABELS: Record<AlertNotificationKind, string> = { firing: "FIRING", repeat: "STILL FIRING", resolved: "RESOLVED" };

export function notificationSummary(kind: AlertNotificationKind, site: string, ruleName: string, condition: AlertCondition, value: number | null, baseline: number | null): string {
  const measured = `value ${formatNumber(value)}${baseline === null ? "" : `, baseline ${formatNumber(baseline)}`}`;
  return `${LABELS[kind]} [${site}] ${ruleName}: ${describeCondition(condition)} (${measured})`;
}

/** The request body for the rule's webhook format. */
export function webhookBody(notification: AlertNotification, format: "json" | "slack"): string {
  if (format === "json") return JSON.stringify(notification);
  const emoji = notification.kind === "resolved" ? ":white_check_mark:" : ":rotating_light:";
  const when = new Date(notification.window_end).toISOString();
  return JSON.stringify({
    text: `${emoji} ${notification.summary}`,
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: `${emoji} *${notification.summary}*` } },
      { type: "context", elements: [{ type: "mrkdwn", text: `site \`${notification.site}\` · rule \`${notification.rule.id}\` · window ending ${when}` }] },
    ],
  });
}
