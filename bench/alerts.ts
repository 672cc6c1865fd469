/**
 * Benchmark 7: window sealed → alert webhook. A threshold rule "page_views > 0 per window"
 * fires on every window that holds a probe's page view, at that window's evaluation, and
 * resolves at the next (empty) one. Measured: the webhook's arrival at a local receiver minus
 * the wall-clock time at which every shard has sealed the window (start + 2W + L, the latest
 * seal: with no other traffic on the site it is also the actual one). The engine evaluates
 * EVALUATION_GRACE_MS after that, so the figure includes the grace, the hub read, the
 * engine's transaction and the webhook request.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { alertNotificationSchema, alertRuleSchema, type BatchInput } from "../protocol";
import { startWebhookReceiver } from "../test/support/webhook-receiver";
import { LatencyHistogram, type LatencySummary } from "../tools/latency-histogram";
import { SeededRandom } from "../tools/seeded-random";

export interface AlertLatencyOptions {
  collectorUrl: string;
  site: string;
  token: string;
  probes: number;
  /** The collector's WINDOW_SECONDS and ALLOWED_LATENESS_SECONDS, in ms. */
  windowMs: number;
  latenessMs: number;
  runId: string;
}

export interface AlertLatencyResult {
  /** Window sealed → "firing" webhook received. */
  firing: LatencySummary;
  /** Next window sealed → "resolved" webhook received. */
  resolved: LatencySummary;
  probes: number;
  missed: number;
  windowSeconds: number;
  latenessSeconds: number;
}

export async function measureAlertLatency(options: AlertLatencyOptions): Promise<AlertLatencyResult> {
  const { collectorUrl, site, token, windowMs, latenessMs } = options;
  const receiver = await startWebhookReceiver();
  const firing = new LatencyHistogram();
  const resolved = new LatencyHistogram();
  const random = new SeededRandom(23);
  const headers = { Authorization: `Bearer ${token}`, "Content-Type": "application/json" };
  const hook = `bench-${options.runId}`;
  const created = await fetch(`${collectorUrl}/v1/alerts`, {
    method: "POST",
    headers,
    body: JSON.stringify({
      site,
      name: "bench: any page view",
      condition: { kind: "threshold", metric: "page_views", span_seconds: windowMs / 1000, op: ">", value: 0 },
      webhook: { url: `${receiver.url}/hook/${hook}` },
    }),
  });
  if (created.status !== 201)
    throw new Error(`creating the bench rule answered ${created.status}: ${await created.text()}`);
  const rule = alertRuleSchema.parse(await created.json());
  let missed = 0;
  try {
    // Start after the rule's first evaluation, so every probe's window is judged.
    await sleep(2 * windowMs + latenessMs + 1_000);
    for (let probe = 0; probe < options.probes; probe++) {
      // A random point in a window, so the probes sample the whole alarm period.
      await sleep(random.next() * windowMs);
      const now = Date.now();
      const windowEnd = Math.floor(now / windowMs) * windowMs + windowMs;
      const batch: BatchInput = {
        v: 1,
        site,
        batch: `alert-${options.runId}-${probe}`,
        sent_at: now,
        events: [{ type: "page_view", id: "e0", ts: now, url: `https://${site}.example/alert-probe` }],
      };
      const response = await fetch(`${collectorUrl}/v1/events`, {
        method: "POST",
        headers: { "Content-Type": "text/plain" },
        body: JSON.stringify(batch),
      });
      await response.arrayBuffer();
      if (response.status !== 202) throw new Error(`probe POST answered ${response.status}`);
      const sealedAt = windowEnd + windowMs + latenessMs;
      const timeout = sealedAt - Date.now() + 10_000;
      try {
        const fired = await receiver.waitFor(
          hook,
          (webhook) => {
            const notification = alertNotificationSchema.parse(JSON.parse(webhook.body));
            return notification.kind === "firing" && notification.window_end === windowEnd;
          },
          timeout,
        );
        firing.record(fired.receivedAt - sealedAt);
        const cleared = await receiver.waitFor(
          hook,
          (webhook) => {
            const notification = alertNotificationSchema.parse(JSON.parse(webhook.body));
            return notification.kind === "resolved" && notification.window_end === windowEnd + windowMs;
          },
          timeout + windowMs,
        );
        resolved.record(cleared.receivedAt - (sealedAt + windowMs));
      } catch {
        missed++;
        if (missed >= 3) break;
        // Let whatever state the rule is in settle before the next probe.
        await sleep(3 * windowMs + latenessMs);
      }
    }
  } finally {
    await fetch(`${collectorUrl}/v1/alerts/${rule.id}?site=${site}`, { method: "DELETE", headers }).catch(
      () => undefined,
    );
    await receiver.close();
  }
  return {
    firing: firing.summary(),
    resolved: resolved.summary(),
    probes: options.probes,
    missed,
    windowSeconds: windowMs / 1000,
    latenessSeconds: latenessMs / 1000,
  };
}
