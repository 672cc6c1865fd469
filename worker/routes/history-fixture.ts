/**
 * Test fixtures for the history route tests: an `events` row and a `sessions` row with
 * every column filled, the fields a test cares about overriding the rest, and a client that
 * asks the app with a token. Not imported by the Worker.
 */
import { env } from "cloudflare:workers";
import { type ClickHouse, createClickHouse } from "../../clickhouse/client";
import type { EventRow, SessionRow } from "../../clickhouse/rows";
import { eventRow as baseEventRow, sessionRow as baseSessionRow } from "../../test/support/clickhouse-rows";
import { app } from "../app";

export function testClickHouse(): ClickHouse {
  return createClickHouse({ url: env.CLICKHOUSE_URL, username: "default", password: "", database: "edgepulse" });
}

/** An events row as test/support/clickhouse-rows.ts makes it, from batch "fixture". */
export const eventRow = (site: string, id: string, ts: number, fields: Partial<EventRow>): EventRow =>
  baseEventRow(site, id, ts, { batch_id: "fixture", ...fields });

/** A one-page Direct session in EUR. */
export const sessionRow = (site: string, id: string, started: number, fields: Partial<SessionRow>): SessionRow =>
  baseSessionRow(site, id, started, { events: 1, page_views: 1, currency: "EUR", channel: "Direct", ...fields });

/** A GET against the app with `testEnv`, answered as status and parsed JSON. */
export async function getJson(
  testEnv: Env,
  path: string,
  token: string | null,
): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = token === null ? {} : { Authorization: `Bearer ${token}` };
  const response = await app.fetch(new Request(`http://collector.test${path}`, { headers }), testEnv);
  return { status: response.status, body: await response.json() };
}

/** `/v1/history/<resource>?…` with `filter` repeated once per entry of `filters`. */
export function historyPath(
  resource: string,
  params: Record<string, string | number>,
  filters: readonly string[] = [],
): string {
  const search = new URLSearchParams(Object.entries(params).map(([key, value]) => [key, String(value)]));
  for (const filter of filters) search.append("filter", filter);
  return `/v1/history/${resource}?${search}`;
}
