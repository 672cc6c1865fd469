/**
 * What a notification says, in EdgePulse's JSON or as a Slack incoming-webhook message. The
 * body is built once, when the notification is queued, and stored: every retry sends the
 * same bytes under the same signature.
 */
import {
  type AlertCondition,
  type AlertNotification,
  type AlertNotificationKind,
  describeCondition,
} from "../../protocol";

function formatNumber(value: number | null): string {
  if (value === null) return "n/a";
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

const LABELS: Record<AlertNotificationKind, string> = {
  firing: "FIRING",
  repeat: "STILL FIRING",
  resolved: "RESOLVED",
};

export function notificationSummary(
  kind: AlertNotificationKind,
  site: string,
  ruleName: string,
  condition: AlertCondition,
  value: number | null,
  baseline: number | null,
): string {
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
      {
        type: "context",
        elements: [
          {
            type: "mrkdwn",
            text: `site \`${notification.site}\` · rule \`${notification.rule.id}\` · window ending ${when}`,
          },
        ],
      },
    ],
  });
}
