/**
 * The real `/metrics` of a running collector (wrangler dev + local ClickHouse) against what
 * ops/ relies on: Prometheus's own linter accepts the exposition (`promtool check metrics`),
 * and every `edgepulse_*` metric the alerting rules and the operations dashboard query is one
 * the collector exposes, so a renamed family cannot leave an alert silently matching nothing.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../support/stack";
import { promtool, requirePromtool } from "./promtool";
import { BROWSER_USER_AGENT } from "../support/browser-user-agent";

const OPS_DIR = join(import.meta.dirname, "../../ops");

function referencedMetrics(): Map<string, string> {
  const sources = [
    ...readdirSync(join(OPS_DIR, "prometheus"))
      .filter((name) => name.endsWith(".yml") && !name.endsWith(".test.yml"))
      .map((name) => join(OPS_DIR, "prometheus", name)),
    join(OPS_DIR, "grafana/dashboards/edgepulse-operations.json"),
  ];
  const names = new Map<string, string>();
  for (const file of sources) {
    for (const match of readFileSync(file, "utf8").matchAll(/\bedgepulse_[a-z0-9_]+/g)) names.set(match[0], file);
  }
  return names;
}

let stack: Stack;
let exposition = "";

beforeAll(async () => {
  await requirePromtool();
  stack = await startStack();
  const now = Date.now();
  const batch = {
    v: 1,
    site: "demo",
    batch: `b-exposition-${now}`,
    sent_at: now,
    events: [{ type: "page_view", id: "e1", ts: now, url: "https://shop.example/" }],
  };
  const ingest = await fetch(`${stack.collectorUrl}/v1/events`, {
    method: "POST",
    headers: { "Content-Type": "text/plain", "User-Agent": BROWSER_USER_AGENT },
    body: JSON.stringify(batch),
  });
  expect(ingest.status).toBe(202);
  const scrape = await fetch(`${stack.collectorUrl}/metrics`, {
    headers: { Authorization: `Bearer ${stack.adminToken}` },
  });
  expect(scrape.status).toBe(200);
  exposition = await scrape.text();
});

afterAll(async () => {
  await stack?.stop();
});

describe("GET /metrics of a running collector", () => {
  it("passes promtool check metrics", async () => {
    expect(exposition).toContain('edgepulse_ingested_events_total{site="demo"}');
    const result = await promtool(["check", "metrics"], { stdin: exposition });
    expect(result.exitCode, result.output).toBe(0);
  });

  it("exposes every metric the rules and the operations dashboard query", () => {
    const exposed = new Set([...exposition.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]));
    const referenced = referencedMetrics();
    expect(referenced.size).toBeGreaterThan(10);
    const missing = [...referenced].filter(([name]) => !exposed.has(name)).map(([name, file]) => `${name} (${file})`);
    expect(missing).toEqual([]);
  });
});
