/**
 * ops/grafana: every query of the provisioned dashboards is one the datasource accepts.
 *  - ClickHouse panels: the SQL, with Grafana's macros expanded (grafana-macros.ts), runs
 *    against the real ClickHouse engine with the EdgePulse schema, over known rows, read-only;
 *    each panel returns rows and the headline panels the numbers those rows imply.
 *  - Prometheus panels: every PromQL expression is parsed by Prometheus's own parser
 *    (`promtool check rules` on a generated file holding each expression as a recording rule).
 * Grafana itself is not run here; docs/operations.md says how to load the files.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClickHouse, type ClickHouse } from "../../clickhouse/client";
import { startLocalClickHouse, type LocalClickHouse } from "../../clickhouse/local-server";
import { applyMigrations } from "../../clickhouse/migrate";
import { type EventRow, type SessionRow, type WindowMetricsRow, toDateTime, toDateTime64 } from "../../clickhouse/rows";
import { eventRow, sessionRow, windowMetricsRow } from "../support/clickhouse-rows";
import { expandClickHouseQuery, expandPromQL } from "./grafana-macros";
import { promtool, requirePromtool } from "./promtool";

const GRAFANA_DIR = join(import.meta.dirname, "../../ops/grafana");
const PROMETHEUS_UID = "edgepulse-prometheus";
const CLICKHOUSE_UID = "edgepulse-clickhouse";

interface Target {
  refId: string;
  datasource: { type: string; uid: string };
  expr?: string;
  rawSql?: string;
  format?: number;
  editorType?: string;
  queryType?: string;
}
interface Panel {
  id: number;
  title: string;
  type: string;
  targets: Target[];
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; datasource: { uid: string }; query: unknown }[] };
}

const dashboards: Dashboard[] = readdirSync(join(GRAFANA_DIR, "dashboards"))
  .filter((name) => name.endsWith(".json"))
  .map((name) => JSON.parse(readFileSync(join(GRAFANA_DIR, "dashboards", name), "utf8")) as Dashboard);
const targets = dashboards.flatMap((dashboard) =>
  dashboard.panels.flatMap((panel) => panel.targets.map((target) => ({ dashboard, panel, target }))),
);
const clickhouseTargets = targets.filter(({ target }) => target.datasource.uid === CLICKHOUSE_UID);
const prometheusTargets = targets.filter(({ target }) => target.datasource.uid === PROMETHEUS_UID);

describe("ops/grafana provisioning", () => {
  it("has a Prometheus and a ClickHouse dashboard, each panel on a provisioned datasource", () => {
    expect(dashboards.map((dashboard) => dashboard.uid).sort()).toEqual(["edgepulse-business", "edgepulse-operations"]);
    expect(clickhouseTargets.length).toBeGreaterThan(5);
    expect(prometheusTargets.length).toBeGreaterThan(5);
    expect(targets.length).toBe(clickhouseTargets.length + prometheusTargets.length);
    const datasources = readFileSync(join(GRAFANA_DIR, "provisioning/datasources/edgepulse.yml"), "utf8");
    expect(datasources).toMatch(new RegExp(`uid: ${PROMETHEUS_UID}\\n\\s+type: prometheus\\n`));
    expect(datasources).toMatch(new RegExp(`uid: ${CLICKHOUSE_UID}\\n\\s+type: grafana-clickhouse-datasource\\n`));
    const provider = readFileSync(join(GRAFANA_DIR, "provisioning/dashboards/edgepulse.yml"), "utf8");
    expect(provider).toContain("type: file");
    // Panel ids are unique per dashboard (Grafana keys panel state by them).
    for (const dashboard of dashboards)
      expect(new Set(dashboard.panels.map((panel) => panel.id)).size).toBe(dashboard.panels.length);
  });
});

// ---- ClickHouse panels over known rows ---------------------------------------------------

const SITE = "grafana-shop";
/** A fixed past hour; the dashboard range is that hour. */
const T0 = Date.UTC(2025, 4, 6, 10, 0, 0);
const CONTEXT = { from: T0, to: T0 + 3600_000, intervalSeconds: 60, variables: { site: SITE } };

const event = (id: string, offsetMs: number, fields: Partial<EventRow>) =>
  eventRow(SITE, id, T0 + offsetMs, { batch_id: "grafana-batch", ...fields });
const windowRow = (fields: Partial<WindowMetricsRow>) => windowMetricsRow(SITE, T0, fields);
/** A 59-second session from T0 + 1 s that left from /p/mug. */
const session = (id: string, fields: Partial<SessionRow>) =>
  sessionRow(SITE, id, T0 + 1000, {
    ended_at: toDateTime64(T0 + 60_000),
    duration: 59,
    exit_path: "/p/mug",
    ...fields,
  });

/** Two visitors, three page views, one EUR purchase of 25 by one of two sessions, five LCP samples. */
async function insertFixture(clickhouse: ClickHouse): Promise<void> {
  await clickhouse.insert(
    "events",
    [
      event("e1", 1000, { path: "/", referrer_host: "google.com" }),
      event("e2", 2000, { path: "/p/mug", visitor_id: "v2", session_id: "s2" }),
      event("e3", 3000, { path: "/p/mug" }),
      event("e4", 4000, { type: "cart", action: "add", product_id: "mug", price: 12.5, quantity: 2, currency: "EUR" }),
      event("e5", 5000, { type: "purchase", order_id: "o1", value: 25, currency: "EUR" }),
      ...[1000, 2000, 3000, 4000, 5000].map((lcp, index) =>
        event(`lcp${index}`, 6000 + index, { type: "vital", path: "/p/mug", metric: "LCP", metric_value: lcp }),
      ),
      event("inp", 7000, { type: "vital", path: "/", metric: "INP", metric_value: 120 }),
    ],
    "grafana-events",
  );
  await clickhouse.insert(
    "window_metrics",
    [
      windowRow({ events: 12, page_views: 3, visitors: 2, sessions: 2, cart_adds: 1, checkouts: 1, purchases: 1 }),
      windowRow({ currency: "EUR", revenue: 25 }),
    ],
    "grafana-windows",
  );
  await clickhouse.insert(
    "sessions",
    [session("s1", { purchased: 1, revenue: 25, currency: "EUR" }), session("s2", { visitor_id: "v2" })],
    "grafana-sessions",
  );
}

/** Rows with every value as a number where it reads as one (ClickHouse quotes 64-bit integers and decimals in JSON). */
function numeric(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  return rows.map((row) =>
    Object.fromEntries(
      Object.entries(row).map(([key, value]) => [
        key,
        typeof value === "string" && value !== "" && Number.isFinite(Number(value)) ? Number(value) : value,
      ]),
    ),
  );
}

/** What the fixture implies for the headline panels, by title. */
const EXPECTED: Record<string, Record<string, unknown>[]> = {
  Visitors: [{ visitors: 2 }],
  "Page views": [{ page_views: 3 }],
  Revenue: [{ currency: "EUR", revenue: 25 }],
  "Conversion rate": [{ conversion_rate: 0.5 }],
  "Visitors and page views": [{ time: toDateTime(T0), visitors: 2, page_views: 3 }],
  "Shop funnel": [{ time: toDateTime(T0), cart_adds: 1, checkouts: 1, purchases: 1 }],
  "Top pages": [
    { path: "/p/mug", page_views: 2, visitors: 2 },
    { path: "/", page_views: 1, visitors: 1 },
  ],
  "Top referrers": [{ referrer: "google.com", visits: 1, page_views: 1 }],
  // quantileExact takes the sample at floor(0.75 × n) of the sorted values: the 4th of 5.
  "Web Vitals p75": [
    { metric: "INP", p75: 120, samples: 1 },
    { metric: "LCP", p75: 4000, samples: 5 },
  ],
};

describe("ops/grafana ClickHouse panels", () => {
  let server: LocalClickHouse | null = null;
  let dataDir = "";
  let clickhouse: ClickHouse;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "edgepulse-grafana-ch-"));
    server = await startLocalClickHouse({ port: 0, dataDir });
    const config = { url: server.url, username: "default", password: "", database: "edgepulse" };
    await applyMigrations(config);
    clickhouse = createClickHouse(config);
    await insertFixture(clickhouse);
  });

  afterAll(async () => {
    await server?.close();
    if (dataDir !== "") rmSync(dataDir, { recursive: true, force: true });
  });

  /** As a read-only Grafana user would run it. */
  const run = async (sql: string) =>
    numeric(await clickhouse.query<Record<string, unknown>>(sql, {}, { readonly: "1" }));

  it("lists the site in the dashboard's site variable", async () => {
    const variables = dashboards
      .flatMap((dashboard) => dashboard.templating.list)
      .filter((variable) => variable.datasource.uid === CLICKHOUSE_UID);
    expect(variables.length).toBeGreaterThan(0);
    for (const variable of variables) {
      expect(typeof variable.query).toBe("string");
      expect((await run(String(variable.query))).map((row) => row.site)).toContain(SITE);
    }
  });

  it.each(clickhouseTargets.map(({ panel, target }) => [`${panel.title} (${target.refId})`, panel, target] as const))(
    "%s runs and returns rows",
    async (_name, panel, target) => {
      expect(target.editorType ?? "sql").toBe("sql");
      const sql = expandClickHouseQuery(target.rawSql ?? "", CONTEXT);
      const rows = await run(sql);
      expect(rows.length, sql).toBeGreaterThan(0);
      // Time-series format (0) needs a `time` column for Grafana to plot against.
      if (target.format === 0) {
        expect(target.queryType).toBe("timeseries");
        expect(Object.keys(rows[0] ?? {}), sql).toContain("time");
      } else {
        expect(target.format).toBe(1);
      }
      const expected = EXPECTED[panel.title];
      if (expected !== undefined) expect(rows).toEqual(expected);
    },
  );

  it("checks the headline numbers of every panel it names", () => {
    const titles = new Set(clickhouseTargets.map(({ panel }) => panel.title));
    expect(Object.keys(EXPECTED).filter((title) => !titles.has(title))).toEqual([]);
  });
});

// ---- Prometheus panels parse ---------------------------------------------------------------

describe("ops/grafana Prometheus panels", () => {
  let workDir = "";

  beforeAll(async () => {
    await requirePromtool();
    workDir = mkdtempSync(join(tmpdir(), "edgepulse-grafana-promql-"));
  });

  afterAll(() => {
    if (workDir !== "") rmSync(workDir, { recursive: true, force: true });
  });

  /** promtool check rules over one recording rule per expression (JSON is YAML). */
  async function checkExpressions(
    expressions: { record: string; expr: string }[],
  ): Promise<{ exitCode: number; output: string }> {
    const file = join(workDir, `panels-${Date.now()}.json`);
    writeFileSync(file, JSON.stringify({ groups: [{ name: "grafana-panels", rules: expressions }] }));
    return promtool(["check", "rules", file]);
  }

  const expand = (expr: string) =>
    expandPromQL(expr, { intervalSeconds: 60, rangeSeconds: 3600, variables: { site: "shop|blog" } });

  it("every PromQL expression parses", async () => {
    const expressions = prometheusTargets.map(({ panel, target }) => ({
      record: `grafana_panel_${panel.id}_${target.refId}`,
      expr: expand(target.expr ?? ""),
    }));
    const result = await checkExpressions(expressions);
    expect(result.exitCode, result.output).toBe(0);
    expect(result.output).toContain(`SUCCESS: ${expressions.length} rules found`);
  });

  it("the check rejects an expression that does not parse (so a pass means something)", async () => {
    const result = await checkExpressions([
      {
        record: "grafana_broken",
        expr: expand('sum by (site) (rate(edgepulse_ingested_events_total{site=~"$site"}[$__rate_interval])'),
      },
    ]);
    expect(result.exitCode).not.toBe(0);
    expect(result.output).toMatch(/parse error|unclosed|unexpected/i);
  });
});
