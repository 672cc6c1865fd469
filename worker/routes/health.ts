/**
 * `GET /healthz`: the Worker runs. `GET /readyz`: it can do its job, i.e. every required
 * setting is there (`settings` names the missing ones: CLICKHOUSE_URL, ADMIN_TOKEN,
 * VISITOR_SECRET), ClickHouse answers and its schema is at least the version this code writes. Readiness is bounded in time so a
 * hanging ClickHouse makes a probe fail instead of hang.
 */
import { Hono } from "hono";
import { createClickHouse } from "../../clickhouse/client";
import { LATEST_SCHEMA_VERSION } from "../../clickhouse/schema-version";
import type { AppEnv } from "../app-env";
import { missingSettings } from "../production-checks";

const READINESS_TIMEOUT_MS = 2_000;

/** "ok", or what is wrong. */
export type CheckResult = string;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message.slice(0, 300) : String(error).slice(0, 300);
}

export const healthRoutes = new Hono<AppEnv>();

healthRoutes.get("/healthz", (c) => c.json({ status: "ok" }));

healthRoutes.get("/readyz", async (c) => {
  const config = c.get("config");
  const missing = missingSettings(config);
  const checks: { settings: CheckResult; clickhouse: CheckResult; schema: CheckResult } = {
    settings: missing.length === 0 ? "ok" : `missing: ${missing.join(", ")}`,
    clickhouse: "not checked",
    schema: "not checked",
  };
  if (config.clickhouse.url === "") {
    checks.clickhouse = "CLICKHOUSE_URL is not configured";
  } else {
    const clickhouse = createClickHouse(config.clickhouse, { timeoutMs: READINESS_TIMEOUT_MS });
    const check = async () => {
      if (!(await clickhouse.ping())) {
        checks.clickhouse = "no answer to ping";
        return;
      }
      checks.clickhouse = "ok";
      const version = await clickhouse.schemaVersion();
      if (version === null) checks.schema = "no schema_migrations table; run npm run migrate";
      else
        checks.schema =
          version >= LATEST_SCHEMA_VERSION
            ? "ok"
            : `schema version ${version} is older than ${LATEST_SCHEMA_VERSION}; run npm run migrate`;
    };
    try {
      await withTimeout(check(), READINESS_TIMEOUT_MS, "ClickHouse");
    } catch (error) {
      if (checks.clickhouse === "ok") checks.schema = describe(error);
      else checks.clickhouse = describe(error);
    }
  }
  const ready = checks.settings === "ok" && checks.clickhouse === "ok" && checks.schema === "ok";
  c.header("Cache-Control", "no-store");
  return ready ? c.json({ status: "ok", checks }) : c.json({ status: "not_ready", checks }, 503);
});
