/**
 * Test fixtures for the history route tests: an `events` row and a `sessions` row with
 * every column filled, the fields a test cares about overriding the rest, and a client that
 * asks the app with a token. Not imported by the Worker.
 */
import { env } from "cloudflare:workers";
import { type ClickHouse, createClickHouse } from "../../clickhouse/client";
import { type EventRow, NO_CAMPAIGN, type SessionRow, toDateTime64 } from "../../clickhouse/rows";
import { app } from "../app";

export function testClickHouse(): ClickHouse {
  return createClickHouse({ url: env.CLICKHOUSE_URL, username: "default", password: "", database: "edgepulse" });
}

export function eventRow(site: string, id: string, ts: number, fields: Partial<EventRow>): EventRow {
  return {
    site,
    batch_id: "fixture",
    event_id: id,
    type: "page_view",
    ts: toDateTime64(ts),
    received_at: toDateTime64(ts),
    shard: 0,
    visitor_id: "v1",
    session_id: "s1",
    url: "",
    path: "/",
    referrer_host: "",
    title: "",
    country: "DE",
    device: "desktop",
    browser: "Chrome",
    os: "Linux",
    action: "",
    product_id: "",
    product_name: "",
    price: 0,
    quantity: 0,
    value: 0,
    currency: "",
    order_id: "",
    items: "",
    metric: "",
    metric_value: 0,
    name: "",
    props: "",
    ...NO_CAMPAIGN,
    ...fields,
  };
}

export function sessionRow(site: string, id: string, started: number, fields: Partial<SessionRow>): SessionRow {
  return {
    site,
    session_id: id,
    visitor_id: "v1",
    shard: 0,
    started_at: toDateTime64(started),
    ended_at: toDateTime64(started + 60_000),
    duration: 60,
    events: 1,
    page_views: 1,
    entry_path: "/",
    exit_path: "/",
    bounced: 0,
    product_views: 0,
    cart_adds: 0,
    cart_value: 0,
    checked_out: 0,
    purchased: 0,
    revenue: 0,
    currency: "EUR",
    country: "DE",
    device: "desktop",
    browser: "Chrome",
    os: "Linux",
    referrer_host: "",
    ...NO_CAMPAIGN,
    channel: "Direct",
    ...fields,
  };
}

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
