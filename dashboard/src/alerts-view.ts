/**
 * The Alerts tab: the site's rules with their state and last firing, a form to create or edit
 * one, and the history of a rule's firings. It polls while shown, so a rule that fires shows
 * it within a few seconds. The Worker validates every rule (`/v1/alerts`); the form only
 * shapes what it sends and shows the refusal's message as is.
 */
import { z } from "zod";
import {
  type AlertCondition,
  type AlertFiring,
  type AlertRule,
  alertFiringSchema,
  alertRuleSchema,
  changeAlertMetricSchema,
  alertMetricSchema,
  describeCondition,
} from "../../protocol/alerts";
import { apiDelete, apiGet, apiSend } from "./api";
import { DataTable } from "./data-table";
import { h, setText } from "./dom";
import { formatDateTimeSeconds } from "./format";

/** How often the shown tab refreshes rules and the open history. */
export const ALERTS_POLL_MS = 3_000;

const rulesResponseSchema = z.object({ site: z.string(), rules: z.array(alertRuleSchema) });
const firingsResponseSchema = z.object({ site: z.string(), rule_id: z.string(), firings: z.array(alertFiringSchema) });

export interface AlertsSource {
  site(): string;
  token(): string | null;
}

function formatValue(value: number | null): string {
  if (value === null) return "–";
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

function field(label: string, control: HTMLElement, hint?: string): HTMLElement {
  const id = control.id;
  return h(
    "div",
    { class: "form-field" },
    h("label", { for: id }, label),
    control,
    hint === undefined ? null : h("small", { class: "muted" }, hint),
  );
}

function select(id: string, options: readonly string[]): HTMLSelectElement {
  return h("select", { id, name: id }, ...options.map((option) => h("option", { value: option }, option)));
}

function numberInput(id: string, value: string, attributes: Record<string, string> = {}): HTMLInputElement {
  return h("input", { id, name: id, type: "number", value, step: "any", ...attributes });
}

export class AlertsPanel {
  private readonly status: HTMLElement;
  private readonly rulesTable: DataTable<AlertRule>;
  private readonly form: HTMLFormElement;
  private readonly formTitle: HTMLElement;
  private readonly formError: HTMLElement;
  private readonly historyTitle: HTMLElement;
  private readonly historyTable: DataTable<AlertFiring>;
  private readonly inputs: {
    name: HTMLInputElement;
    kind: HTMLSelectElement;
    metric: HTMLSelectElement;
    span: HTMLInputElement;
    op: HTMLSelectElement;
    value: HTMLInputElement;
    hysteresis: HTMLInputElement;
    baseline: HTMLSelectElement;
    baselineSpans: HTMLInputElement;
    direction: HTMLSelectElement;
    tolerance: HTMLInputElement;
    minBaseline: HTMLInputElement;
    forSeconds: HTMLInputElement;
    resolveAfter: HTMLInputElement;
    repeat: HTMLInputElement;
    webhookUrl: HTMLInputElement;
    format: HTMLSelectElement;
    enabled: HTMLInputElement;
    /** Read-only: the key of the X-EdgePulse-Signature HMAC, for the receiver. */
    secret: HTMLInputElement;
  };
  private readonly kindGroups: Record<AlertCondition["kind"], HTMLElement>;
  private rules: AlertRule[] = [];
  /** The rule being edited (null: creating), and the rule whose history is shown. */
  private editing: string | null = null;
  private historyRule: string | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    container: HTMLElement,
    private readonly source: AlertsSource,
  ) {
    this.status = h("p", {
      class: "status-line",
      role: "status",
      "aria-live": "polite",
      "data-testid": "alerts-status",
    });
    this.rulesTable = new DataTable<AlertRule>(
      "Alert rules",
      [
        { label: "Rule", cell: (rule) => rule.name },
        { label: "Condition", cell: (rule) => describeCondition(rule.condition) },
        {
          label: "State",
          cell: (rule) =>
            h(
              "span",
              {
                class: "alert-state",
                "data-state": rule.enabled ? rule.state.status : "disabled",
                "data-testid": `alert-state-${rule.name}`,
              },
              rule.enabled ? rule.state.status : "disabled",
            ),
        },
        { label: "Last value", numeric: true, cell: (rule) => formatValue(rule.state.last_value) },
        {
          label: "Last fired",
          cell: (rule) =>
            rule.state.last_fired_at === null ? "never" : formatDateTimeSeconds(rule.state.last_fired_at),
        },
        {
          label: "Webhook",
          cell: (rule) =>
            rule.state.last_delivery_error === null
              ? rule.webhook.format
              : `failing: ${rule.state.last_delivery_error}`,
        },
        {
          label: "Actions",
          cell: (rule) =>
            h(
              "span",
              { class: "row-actions" },
              this.actionButton("Edit", rule, () => this.edit(rule)),
              this.actionButton("History", rule, () => void this.showHistory(rule.id)),
              this.actionButton("Delete", rule, () => void this.remove(rule)),
            ),
        },
      ],
      "No alert rules yet",
    );

    const metricOptions = alertMetricSchema.options;
    this.inputs = {
      name: h("input", { id: "alert-name", name: "alert-name", required: "", maxlength: "100", autocomplete: "off" }),
      kind: select("alert-kind", ["threshold", "change", "no_data"]),
      metric: select("alert-metric", metricOptions),
      span: numberInput("alert-span", "300", { min: "1", step: "1" }),
      op: select("alert-op", ["<", "<=", ">", ">="]),
      value: numberInput("alert-value", "10"),
      hysteresis: numberInput("alert-hysteresis", "0", { min: "0" }),
      baseline: select("alert-baseline", ["rolling_mean", "last_week"]),
      baselineSpans: numberInput("alert-baseline-spans", "6", { min: "1", max: "48", step: "1" }),
      direction: select("alert-direction", ["down", "up"]),
      tolerance: numberInput("alert-tolerance", "50", { min: "1" }),
      minBaseline: numberInput("alert-min-baseline", "1", { min: "0" }),
      forSeconds: numberInput("alert-for", "0", { min: "0", step: "1" }),
      resolveAfter: numberInput("alert-resolve-after", "0", { min: "0", step: "1" }),
      repeat: numberInput("alert-repeat", "0", { min: "0", step: "1" }),
      webhookUrl: h("input", {
        id: "alert-webhook",
        name: "alert-webhook",
        type: "url",
        required: "",
        placeholder: "https://hooks.example/edgepulse",
        size: "40",
      }),
      format: select("alert-format", ["json", "slack"]),
      enabled: h("input", { id: "alert-enabled", name: "alert-enabled", type: "checkbox", checked: "" }),
      secret: h("input", {
        id: "alert-secret",
        name: "alert-secret",
        readonly: "",
        size: "40",
        placeholder: "generated when the rule is saved",
      }),
    };
    const i = this.inputs;
    this.kindGroups = {
      threshold: h(
        "div",
        { class: "form-row" },
        field("Comparison", i.op),
        field("Value", i.value),
        field("Hysteresis", i.hysteresis, "how far back to resolve"),
      ),
      change: h(
        "div",
        { class: "form-row" },
        field("Baseline", i.baseline),
        field("Baseline spans", i.baselineSpans, "rolling mean over"),
        field("Direction", i.direction),
        field("Tolerance %", i.tolerance),
        field("Min. baseline", i.minBaseline),
      ),
      no_data: h(
        "div",
        { class: "form-row" },
        h("p", { class: "muted" }, "Fires when no event at all arrived during the span."),
      ),
    };
    i.kind.addEventListener("change", () => this.showKindFields());

    this.formTitle = h("h3", {}, "New rule");
    this.formError = h("p", { class: "error", role: "alert", "data-testid": "alert-form-error" });
    const cancel = h("button", { type: "button" }, "Cancel");
    cancel.addEventListener("click", () => this.closeForm());
    this.form = h(
      "form",
      { class: "alert-form", "aria-label": "Alert rule", hidden: "" },
      this.formTitle,
      h(
        "div",
        { class: "form-row" },
        field("Name", i.name),
        field("Kind", i.kind),
        field("Metric", i.metric),
        field("Span (s)", i.span, "whole windows"),
      ),
      this.kindGroups.threshold,
      this.kindGroups.change,
      this.kindGroups.no_data,
      h(
        "div",
        { class: "form-row" },
        field("For (s)", i.forSeconds, "breached this long before firing"),
        field("Resolve after (s)", i.resolveAfter),
        field("Repeat every (s)", i.repeat, "0: once"),
      ),
      h(
        "div",
        { class: "form-row" },
        field("Webhook URL", i.webhookUrl),
        field("Format", i.format),
        field("Enabled", i.enabled),
      ),
      h(
        "div",
        { class: "form-row" },
        field("Signing secret", i.secret, "HMAC-SHA256 key of the X-EdgePulse-Signature header"),
      ),
      h("div", { class: "toolbar" }, h("button", { type: "submit" }, "Save rule"), cancel),
      this.formError,
    );
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.save();
    });

    this.historyTitle = h("h3", {}, "Firings");
    this.historyTable = new DataTable<AlertFiring>(
      "Firings",
      [
        { label: "Fired", cell: (firing) => formatDateTimeSeconds(firing.fired_at) },
        { label: "Value", numeric: true, cell: (firing) => formatValue(firing.value) },
        { label: "Baseline", numeric: true, cell: (firing) => formatValue(firing.baseline) },
        {
          label: "Resolved",
          cell: (firing) => (firing.resolved_at === null ? "still firing" : formatDateTimeSeconds(firing.resolved_at)),
        },
        { label: "Resolved at value", numeric: true, cell: (firing) => formatValue(firing.resolved_value) },
        { label: "Delivered", numeric: true, cell: (firing) => `${firing.delivered}/${firing.notifications}` },
      ],
      "This rule has not fired yet",
    );
    const history = h(
      "section",
      { class: "alert-history", "aria-label": "Firing history", "data-testid": "alert-history" },
      this.historyTitle,
      this.historyTable.element,
    );
    history.hidden = true;

    const newRule = h("button", { type: "button", "data-testid": "alert-new" }, "New rule");
    newRule.addEventListener("click", () => this.edit(null));
    const refresh = h("button", { type: "button" }, "Refresh");
    refresh.addEventListener("click", () => void this.load());
    container.replaceChildren(
      h("div", { class: "toolbar" }, newRule, refresh),
      this.status,
      this.rulesTable.element,
      this.form,
      history,
    );
    this.showKindFields();
  }

  /** Called when the tab is shown: loads now and polls until `stop`. */
  start(): void {
    void this.load();
    this.timer ??= setInterval(() => void this.load(), ALERTS_POLL_MS);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  async load(): Promise<void> {
    const token = this.source.token();
    if (token === null) {
      setText(this.status, "Enter a read token above first.");
      return;
    }
    try {
      const answer = await apiGet("/v1/alerts", { site: this.source.site() }, rulesResponseSchema, token);
      this.rules = answer.rules;
      this.rulesTable.update(this.rules);
      const firing = this.rules.filter((rule) => rule.enabled && rule.state.status === "firing").length;
      setText(this.status, `${this.rules.length} rules, ${firing} firing`);
      if (this.historyRule !== null) await this.showHistory(this.historyRule);
    } catch (error) {
      setText(this.status, `Could not load the rules: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private actionButton(label: string, rule: AlertRule, onClick: () => void): HTMLButtonElement {
    const button = h("button", { type: "button", "aria-label": `${label} ${rule.name}` }, label);
    button.addEventListener("click", onClick);
    return button;
  }

  private showKindFields(): void {
    const kind = this.inputs.kind.value;
    for (const [name, group] of Object.entries(this.kindGroups)) group.hidden = name !== kind;
    // A change rule compares per-window metrics; no-data has no metric.
    const allowed: readonly string[] = kind === "change" ? changeAlertMetricSchema.options : alertMetricSchema.options;
    for (const option of this.inputs.metric.options) option.disabled = !allowed.includes(option.value);
    if (!allowed.includes(this.inputs.metric.value)) this.inputs.metric.value = allowed[0] ?? "page_views";
    this.inputs.metric.disabled = kind === "no_data";
  }

  private edit(rule: AlertRule | null): void {
    const i = this.inputs;
    this.editing = rule?.id ?? null;
    setText(this.formTitle, rule === null ? "New rule" : `Edit “${rule.name}”`);
    setText(this.formError, "");
    i.name.value = rule?.name ?? "";
    const condition = rule?.condition;
    i.kind.value = condition?.kind ?? "threshold";
    i.span.value = String(condition?.span_seconds ?? 300);
    if (condition !== undefined && condition.kind !== "no_data") i.metric.value = condition.metric;
    if (condition?.kind === "threshold") {
      i.op.value = condition.op;
      i.value.value = String(condition.value);
      i.hysteresis.value = String(condition.hysteresis);
    }
    if (condition?.kind === "change") {
      i.baseline.value = condition.baseline;
      i.baselineSpans.value = String(condition.baseline_spans);
      i.direction.value = condition.direction;
      i.tolerance.value = String(condition.tolerance_pct);
      i.minBaseline.value = String(condition.min_baseline);
    }
    i.forSeconds.value = String(rule?.for_seconds ?? 0);
    i.resolveAfter.value = String(rule?.resolve_after_seconds ?? 0);
    i.repeat.value = String(rule?.repeat_seconds ?? 0);
    i.webhookUrl.value = rule?.webhook.url ?? "";
    i.format.value = rule?.webhook.format ?? "json";
    i.enabled.checked = rule?.enabled ?? true;
    i.secret.value = rule?.webhook.secret ?? "";
    this.showKindFields();
    this.form.hidden = false;
    i.name.focus();
  }

  private closeForm(): void {
    this.form.hidden = true;
    this.editing = null;
  }

  private condition(): unknown {
    const i = this.inputs;
    const span_seconds = Number(i.span.value);
    switch (i.kind.value) {
      case "change":
        return {
          kind: "change",
          metric: i.metric.value,
          span_seconds,
          baseline: i.baseline.value,
          baseline_spans: Number(i.baselineSpans.value),
          direction: i.direction.value,
          tolerance_pct: Number(i.tolerance.value),
          min_baseline: Number(i.minBaseline.value),
        };
      case "no_data":
        return { kind: "no_data", span_seconds };
      default:
        return {
          kind: "threshold",
          metric: i.metric.value,
          span_seconds,
          op: i.op.value,
          value: Number(i.value.value),
          hysteresis: Number(i.hysteresis.value),
        };
    }
  }

  private async save(): Promise<void> {
    const token = this.source.token();
    if (token === null) return;
    const i = this.inputs;
    const body = {
      site: this.source.site(),
      name: i.name.value,
      enabled: i.enabled.checked,
      condition: this.condition(),
      for_seconds: Number(i.forSeconds.value),
      resolve_after_seconds: Number(i.resolveAfter.value),
      repeat_seconds: Number(i.repeat.value),
      webhook: { url: i.webhookUrl.value, format: i.format.value },
    };
    const creating = this.editing === null;
    try {
      const saved = creating
        ? await apiSend("POST", "/v1/alerts", body, alertRuleSchema, token)
        : await apiSend("PUT", `/v1/alerts/${this.editing}`, body, alertRuleSchema, token);
      this.closeForm();
      await this.load();
      // Opened again for a new rule: its generated signing secret is shown there.
      if (creating) this.edit(saved);
    } catch (error) {
      setText(this.formError, error instanceof Error ? error.message : String(error));
    }
  }

  private async remove(rule: AlertRule): Promise<void> {
    const token = this.source.token();
    if (token === null || !confirm(`Delete the alert rule “${rule.name}”?`)) return;
    try {
      await apiDelete(`/v1/alerts/${rule.id}`, { site: this.source.site() }, token);
      if (this.historyRule === rule.id) this.historyRule = null;
      await this.load();
    } catch (error) {
      setText(this.status, `Could not delete: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private async showHistory(ruleId: string): Promise<void> {
    const token = this.source.token();
    const rule = this.rules.find((candidate) => candidate.id === ruleId);
    const section = this.historyTable.element.parentElement;
    if (token === null || rule === undefined || section === null) return;
    this.historyRule = ruleId;
    setText(this.historyTitle, `Firings of “${rule.name}”`);
    section.hidden = false;
    try {
      const answer = await apiGet(
        `/v1/alerts/${ruleId}/firings`,
        { site: this.source.site() },
        firingsResponseSchema,
        token,
      );
      this.historyTable.update(answer.firings);
    } catch (error) {
      setText(this.status, `Could not load the history: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
