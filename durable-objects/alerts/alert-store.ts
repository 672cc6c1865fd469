/**
 * The AlertEngine's SQLite storage: rules, each rule's state machine, the history of firings,
 * recent evaluations and the delivery outbox. Storage is the truth: an evicted or restarted
 * engine reloads everything from here, and an evaluation's state change, firing row and queued
 * notification are written in one transaction, so a crash never sends a notification for a
 * state that was not saved (nor saves one whose notification was lost).
 *
 * Bounded: EVALUATIONS_KEPT evaluations and FIRINGS_KEPT firings per rule, MAX_OUTBOX queued
 * notifications per site, MAX_RULES rules per site.
 */
import {
  type AlertEvaluation,
  type AlertFiring,
  type AlertRule,
  type AlertRuleInput,
  alertRuleInputSchema,
  type AlertStatus,
} from "../../protocol";
import type { AlertState } from "./alert-state-machine";
import { MAX_OUTBOX } from "./delivery-backoff";

export const MAX_RULES = 100;
export const EVALUATIONS_KEPT = 200;
export const FIRINGS_KEPT = 500;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS alert_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alert_rule (
  id TEXT PRIMARY KEY, definition TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS alert_state (
  rule_id TEXT PRIMARY KEY, status TEXT NOT NULL, since INTEGER, clear_since INTEGER, last_notified_at INTEGER,
  last_window_start INTEGER, last_value REAL, last_fired_at INTEGER, last_delivery_error TEXT, open_firing_id INTEGER
);
CREATE TABLE IF NOT EXISTS alert_firing (
  id INTEGER PRIMARY KEY AUTOINCREMENT, rule_id TEXT NOT NULL, fired_at INTEGER NOT NULL, value REAL, baseline REAL,
  resolved_at INTEGER, resolved_value REAL, notifications INTEGER NOT NULL DEFAULT 0, delivered INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS alert_firing_rule ON alert_firing (rule_id, id);
CREATE TABLE IF NOT EXISTS alert_evaluation (
  rule_id TEXT NOT NULL, window_end INTEGER NOT NULL, span_start INTEGER NOT NULL, value REAL, baseline REAL,
  breached INTEGER NOT NULL, status TEXT NOT NULL, evaluated_at INTEGER NOT NULL, PRIMARY KEY (rule_id, window_end)
);
CREATE TABLE IF NOT EXISTS alert_outbox (
  id TEXT PRIMARY KEY, rule_id TEXT NOT NULL, firing_id INTEGER NOT NULL, url TEXT NOT NULL, secret TEXT NOT NULL,
  body TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL, created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_outbox_due ON alert_outbox (next_at);
`;

type MetaKey = "site" | "dropped_notifications";

/** A stored rule: the validated input with its secret, plus ids and times. */
export interface StoredRule {
  id: string;
  definition: AlertRuleInput & { webhook: { secret: string } };
  createdAt: number;
  updatedAt: number;
}

export interface RuleProgress {
  state: AlertState;
  /** Start of the last evaluated window, or null before the first. */
  lastWindowStart: number | null;
  lastValue: number | null;
  lastFiredAt: number | null;
  lastDeliveryError: string | null;
  openFiringId: number | null;
}

export interface OutboxItem {
  id: string;
  ruleId: string;
  firingId: number;
  url: string;
  secret: string;
  body: string;
  attempts: number;
  nextAt: number;
}

// A type, not an interface: sql.exec<T> needs an index-signature-compatible row.
type StateRow = {
  status: string;
  since: number | null;
  clear_since: number | null;
  last_notified_at: number | null;
  last_window_start: number | null;
  last_value: number | null;
  last_fired_at: number | null;
  last_delivery_error: string | null;
  open_firing_id: number | null;
};

function statusOf(value: string): AlertStatus {
  return value === "pending" || value === "firing" ? value : "ok";
}

export class AlertStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(SCHEMA);
  }

  meta(key: MetaKey): string | null {
    return (
      this.sql.exec<{ value: string }>("SELECT value FROM alert_meta WHERE key = ?", key).toArray()[0]?.value ?? null
    );
  }

  setMeta(key: MetaKey, value: string): void {
    this.sql.exec("INSERT OR REPLACE INTO alert_meta (key, value) VALUES (?, ?)", key, value);
  }

  // ---- rules ------------------------------------------------------------------------------

  rules(): StoredRule[] {
    const rules: StoredRule[] = [];
    for (const row of this.sql.exec<{ id: string; definition: string; created_at: number; updated_at: number }>(
      "SELECT id, definition, created_at, updated_at FROM alert_rule ORDER BY created_at, id",
    )) {
      const rule = this.parseRule(row);
      if (rule !== null) rules.push(rule);
    }
    return rules;
  }

  rule(id: string): StoredRule | null {
    const row = this.sql
      .exec<{ id: string; definition: string; created_at: number; updated_at: number }>(
        "SELECT id, definition, created_at, updated_at FROM alert_rule WHERE id = ?",
        id,
      )
      .toArray()[0];
    return row === undefined ? null : this.parseRule(row);
  }

  /** A definition stored by an older version that no longer parses is skipped, never fatal. */
  private parseRule(row: {
    id: string;
    definition: string;
    created_at: number;
    updated_at: number;
  }): StoredRule | null {
    let json: unknown;
    try {
      json = JSON.parse(row.definition);
    } catch {
      return null;
    }
    const parsed = alertRuleInputSchema.safeParse(json);
    const secret = parsed.success ? parsed.data.webhook.secret : undefined;
    if (!parsed.success || secret === undefined) return null;
    return {
      id: row.id,
      definition: { ...parsed.data, webhook: { ...parsed.data.webhook, secret } },
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
  }

  ruleCount(): number {
    return this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM alert_rule").one().n;
  }

  saveRule(rule: StoredRule): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO alert_rule (id, definition, created_at, updated_at) VALUES (?, ?, ?, ?)",
      rule.id,
      JSON.stringify(rule.definition),
      rule.createdAt,
      rule.updatedAt,
    );
  }

  deleteRule(id: string): void {
    for (const table of ["alert_rule", "alert_state", "alert_firing", "alert_evaluation", "alert_outbox"] as const) {
      this.sql.exec(`DELETE FROM ${table} WHERE ${table === "alert_rule" ? "id" : "rule_id"} = ?`, id);
    }
  }

  // ---- state ------------------------------------------------------------------------------

  progress(ruleId: string): RuleProgress {
    const row = this.sql
      .exec<StateRow>(
        "SELECT status, since, clear_since, last_notified_at, last_window_start, last_value, last_fired_at, last_delivery_error, open_firing_id FROM alert_state WHERE rule_id = ?",
        ruleId,
      )
      .toArray()[0];
    if (row === undefined) {
      return {
        state: { status: "ok", since: null, clearSince: null, lastNotifiedAt: null },
        lastWindowStart: null,
        lastValue: null,
        lastFiredAt: null,
        lastDeliveryError: null,
        openFiringId: null,
      };
    }
    return {
      state: {
        status: statusOf(row.status),
        since: row.since,
        clearSince: row.clear_since,
        lastNotifiedAt: row.last_notified_at,
      },
      lastWindowStart: row.last_window_start,
      lastValue: row.last_value,
      lastFiredAt: row.last_fired_at,
      lastDeliveryError: row.last_delivery_error,
      openFiringId: row.open_firing_id,
    };
  }

  saveProgress(ruleId: string, progress: RuleProgress): void {
    this.sql.exec(
      `INSERT OR REPLACE INTO alert_state (rule_id, status, since, clear_since, last_notified_at, last_window_start, last_value, last_fired_at, last_delivery_error, open_firing_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ruleId,
      progress.state.status,
      progress.state.since,
      progress.state.clearSince,
      progress.state.lastNotifiedAt,
      progress.lastWindowStart,
      progress.lastValue,
      progress.lastFiredAt,
      progress.lastDeliveryError,
      progress.openFiringId,
    );
  }

  setDeliveryError(ruleId: string, error: string | null): void {
    this.sql.exec("UPDATE alert_state SET last_delivery_error = ? WHERE rule_id = ?", error, ruleId);
  }

  // ---- history ----------------------------------------------------------------------------

  openFiring(ruleId: string, firedAt: number, value: number | null, baseline: number | null): number {
    const id = this.sql
      .exec<{ id: number }>(
        "INSERT INTO alert_firing (rule_id, fired_at, value, baseline) VALUES (?, ?, ?, ?) RETURNING id",
        ruleId,
        firedAt,
        value,
        baseline,
      )
      .one().id;
    this.sql.exec(
      "DELETE FROM alert_firing WHERE rule_id = ? AND id NOT IN (SELECT id FROM alert_firing WHERE rule_id = ? ORDER BY id DESC LIMIT ?)",
      ruleId,
      ruleId,
      FIRINGS_KEPT,
    );
    return id;
  }

  resolveFiring(firingId: number, resolvedAt: number, value: number | null): void {
    this.sql.exec(
      "UPDATE alert_firing SET resolved_at = ?, resolved_value = ? WHERE id = ?",
      resolvedAt,
      value,
      firingId,
    );
  }

  countNotification(firingId: number, delivered: boolean): void {
    if (delivered) this.sql.exec("UPDATE alert_firing SET delivered = delivered + 1 WHERE id = ?", firingId);
    else this.sql.exec("UPDATE alert_firing SET notifications = notifications + 1 WHERE id = ?", firingId);
  }

  firings(ruleId: string, limit: number): AlertFiring[] {
    return this.sql
      .exec<{
        id: number;
        rule_id: string;
        fired_at: number;
        value: number | null;
        baseline: number | null;
        resolved_at: number | null;
        resolved_value: number | null;
        notifications: number;
        delivered: number;
      }>(
        "SELECT id, rule_id, fired_at, value, baseline, resolved_at, resolved_value, notifications, delivered FROM alert_firing WHERE rule_id = ? ORDER BY id DESC LIMIT ?",
        ruleId,
        limit,
      )
      .toArray()
      .map((row) => ({ ...row }));
  }

  recordEvaluation(evaluation: AlertEvaluation): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO alert_evaluation (rule_id, window_end, span_start, value, baseline, breached, status, evaluated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      evaluation.rule_id,
      evaluation.window_end,
      evaluation.span_start,
      evaluation.value,
      evaluation.baseline,
      evaluation.breached ? 1 : 0,
      evaluation.status,
      evaluation.evaluated_at,
    );
    this.sql.exec(
      "DELETE FROM alert_evaluation WHERE rule_id = ? AND window_end <= (SELECT window_end FROM alert_evaluation WHERE rule_id = ? ORDER BY window_end DESC LIMIT 1 OFFSET ?)",
      evaluation.rule_id,
      evaluation.rule_id,
      EVALUATIONS_KEPT,
    );
  }

  evaluations(ruleId: string, limit: number): AlertEvaluation[] {
    return this.sql
      .exec<{
        rule_id: string;
        window_end: number;
        span_start: number;
        value: number | null;
        baseline: number | null;
        breached: number;
        status: string;
        evaluated_at: number;
      }>(
        "SELECT rule_id, window_end, span_start, value, baseline, breached, status, evaluated_at FROM alert_evaluation WHERE rule_id = ? ORDER BY window_end DESC LIMIT ?",
        ruleId,
        limit,
      )
      .toArray()
      .map((row) => ({ ...row, breached: row.breached === 1, status: statusOf(row.status) }));
  }

  // ---- outbox -----------------------------------------------------------------------------

  /** Queues a notification (a repeat of the same id changes nothing); beyond MAX_OUTBOX the oldest is dropped. */
  enqueue(item: OutboxItem, now: number): void {
    this.sql.exec(
      "INSERT OR IGNORE INTO alert_outbox (id, rule_id, firing_id, url, secret, body, attempts, next_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      item.id,
      item.ruleId,
      item.firingId,
      item.url,
      item.secret,
      item.body,
      item.attempts,
      item.nextAt,
      now,
    );
    const excess = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM alert_outbox").one().n - MAX_OUTBOX;
    if (excess > 0) {
      this.sql.exec(
        "DELETE FROM alert_outbox WHERE id IN (SELECT id FROM alert_outbox ORDER BY created_at, id LIMIT ?)",
        excess,
      );
      this.setMeta("dropped_notifications", String(Number(this.meta("dropped_notifications") ?? "0") + excess));
    }
  }

  dueOutbox(now: number, limit: number): OutboxItem[] {
    return this.sql
      .exec<{
        id: string;
        rule_id: string;
        firing_id: number;
        url: string;
        secret: string;
        body: string;
        attempts: number;
        next_at: number;
      }>(
        "SELECT id, rule_id, firing_id, url, secret, body, attempts, next_at FROM alert_outbox WHERE next_at <= ? ORDER BY next_at, created_at LIMIT ?",
        now,
        limit,
      )
      .toArray()
      .map((row) => ({
        id: row.id,
        ruleId: row.rule_id,
        firingId: row.firing_id,
        url: row.url,
        secret: row.secret,
        body: row.body,
        attempts: row.attempts,
        nextAt: row.next_at,
      }));
  }

  nextOutboxAt(): number | null {
    return this.sql.exec<{ next: number | null }>("SELECT min(next_at) AS next FROM alert_outbox").one().next;
  }

  outboxLength(): number {
    return this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM alert_outbox").one().n;
  }

  removeFromOutbox(id: string): boolean {
    return this.sql.exec("DELETE FROM alert_outbox WHERE id = ?", id).rowsWritten > 0;
  }

  rescheduleOutbox(id: string, attempts: number, nextAt: number): void {
    this.sql.exec("UPDATE alert_outbox SET attempts = ?, next_at = ? WHERE id = ?", attempts, nextAt, id);
  }
}

/** The rule as the API answers it. */
export function ruleView(site: string, rule: StoredRule, progress: RuleProgress, windowMs: number): AlertRule {
  return {
    ...rule.definition,
    id: rule.id,
    site,
    created_at: rule.createdAt,
    updated_at: rule.updatedAt,
    state: {
      status: progress.state.status,
      since: progress.state.since,
      last_evaluated_window_end: progress.lastWindowStart === null ? null : progress.lastWindowStart + windowMs,
      last_value: progress.lastValue,
      last_fired_at: progress.lastFiredAt,
      last_delivery_error: progress.lastDeliveryError,
    },
  };
}
