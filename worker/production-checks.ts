/**
 * What a deployed collector (LOCAL_DEV unset) must be given, by name. `/readyz` lists what is
 * missing; the routes that need a setting refuse with a 503 naming it, never a guess.
 */
import type { Config } from "../common/config";
import { ApiError } from "./errors";

export type RequiredSetting = "CLICKHOUSE_URL" | "ADMIN_TOKEN" | "VISITOR_SECRET";

/** The settings that are missing (under LOCAL_DEV each has a development default, so none is). */
export function missingSettings(config: Config): RequiredSetting[] {
  const missing: RequiredSetting[] = [];
  if (config.clickhouse.url === "") missing.push("CLICKHOUSE_URL");
  if (config.adminToken === null) missing.push("ADMIN_TOKEN");
  if (config.visitorSecret === null) missing.push("VISITOR_SECRET");
  return missing;
}

export function misconfigured(setting: RequiredSetting, what: string): ApiError {
  return new ApiError(503, "unavailable", `the collector is misconfigured: ${setting} is not set, so ${what}`);
}

/** Routes that query ClickHouse call this first. */
export function requireClickHouse(config: Config): void {
  if (config.clickhouse.url === "") throw misconfigured("CLICKHOUSE_URL", "ClickHouse cannot be queried");
}
