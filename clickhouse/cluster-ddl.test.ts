/**
 * The cluster variant of the schema (CLICKHOUSE_CLUSTER): no cluster runs here, so every
 * generated statement is parsed by the engine's own parser (`formatQuery` on the local
 * server), and its shape is checked: ON CLUSTER everywhere DDL runs, Replicated engines with
 * replicated dedup windows, Distributed tables under the plain names, views on local tables.
 * The single-node variant runs for real in migrate.test.ts and test/history/rollups.test.ts.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClusterTranslator, REPLICATED_DEDUPLICATION_SETTINGS } from "./cluster-ddl";
import { type LocalClickHouse, startLocalClickHouse } from "./local-server";
import { MigrationError, readMigrations, schemaStatements } from "./migrate";

let dataDir: string;
let server: LocalClickHouse;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "edgepulse-cluster-ddl-"));
  server = await startLocalClickHouse({ port: 0, dataDir });
});

afterAll(async () => {
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** The statement as ClickHouse's parser formats it, or the parser's error. */
async function parse(statement: string): Promise<{ ok: boolean; text: string }> {
  // Query parameters are read in ClickHouse's escaped (TSV) format.
  const escaped = statement.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll("\t", "\\t");
  const search = new URLSearchParams({ param_statement: escaped, default_format: "TSVRaw" });
  const response = await fetch(`${server.url}/?${search}`, {
    method: "POST",
    body: "SELECT formatQuery({statement:String})",
  });
  return { ok: response.ok, text: await response.text() };
}

const clusterStatements = () =>
  schemaStatements("edgepulse", readMigrations(), "edge_cluster").flatMap((entry) => entry.statements);

describe("the cluster variant of the migrations", () => {
  it("parses, statement by statement, with the engine's own parser", async () => {
    const statements = clusterStatements();
    expect(statements.length).toBeGreaterThan(20);
    for (const statement of statements) {
      const parsed = await parse(statement);
      expect(parsed.ok, `${statement}\n→ ${parsed.text}`).toBe(true);
    }
    // The parser is strict: a broken statement is refused, so the loop above proves something.
    expect((await parse("CREATE TABLE x ON CLUSTER c (a UInt8) ENGINE = ReplicatedMergeTree(")).ok).toBe(false);
  });

  it("runs DDL on every node, replicates every table and reads and writes through Distributed tables", () => {
    const statements = clusterStatements();
    for (const statement of statements.filter((text) => /^(CREATE|TRUNCATE)/.test(text)))
      expect(statement).toContain("ON CLUSTER edge_cluster");
    const locals = statements.filter((text) => /^CREATE TABLE IF NOT EXISTS \w+_local /.test(text));
    expect(locals.map((text) => /^CREATE TABLE IF NOT EXISTS (\w+)/.exec(text)?.[1])).toEqual(
      expect.arrayContaining([
        "events_local",
        "sessions_local",
        "window_metrics_local",
        "quarantine_local",
        "visitors_rollup_local",
        "page_view_rollup_local",
      ]),
    );
    for (const local of locals) {
      expect(local).toMatch(
        /ENGINE = Replicated\w*MergeTree\('\/clickhouse\/tables\/\{shard\}\/\{database\}\/\w+_local', '\{replica\}'/,
      );
      expect(local).toContain(REPLICATED_DEDUPLICATION_SETTINGS);
      expect(local).not.toContain("non_replicated_deduplication_window");
      const name = /^CREATE TABLE IF NOT EXISTS (\w+)_local/.exec(local)?.[1] ?? "";
      expect(statements).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `^CREATE TABLE IF NOT EXISTS ${name} ON CLUSTER edge_cluster AS ${name}_local\\nENGINE = Distributed\\(edge_cluster, currentDatabase\\(\\), ${name}_local, `,
          ),
        ),
      );
    }
    // Engine arguments survive after the replication path.
    expect(statements).toContainEqual(
      expect.stringContaining(
        "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/sessions_local', '{replica}', ended_at)",
      ),
    );
    // Deterministic sharding: a retried flush reaches the same shard with the same token.
    expect(statements).toContainEqual(
      expect.stringContaining(
        "Distributed(edge_cluster, currentDatabase(), events_local, cityHash64(site, visitor_id))",
      ),
    );
    expect(statements.join("\n")).not.toContain("rand()");
    // Views fire on a node's local source table and write its local rollup.
    const views = statements.filter((text) => text.startsWith("CREATE MATERIALIZED VIEW"));
    expect(views.length).toBe(9);
    for (const view of views) {
      expect(view).toMatch(/ TO \w+_local AS/);
      expect(view).toMatch(/FROM (events|window_metrics)_local\b/);
      expect(view).not.toMatch(/FROM (events|window_metrics)\b(?!_local)/);
    }
  });

  it("adds and builds projections on every node's local table, never on the Distributed one", () => {
    const statements = clusterStatements().filter((text) => /PROJECTION/.test(text));
    expect(statements).toEqual([
      expect.stringMatching(
        /^ALTER TABLE events_local ON CLUSTER edge_cluster\nADD PROJECTION IF NOT EXISTS events_by_visit_attributes\n\(/,
      ),
      "ALTER TABLE events_local ON CLUSTER edge_cluster MATERIALIZE PROJECTION events_by_visit_attributes SETTINGS mutations_sync = 2",
    ]);
  });

  it("adds a stored column on both tables and builds it on every node's local table", () => {
    const statements = clusterStatements().filter((text) =>
      /^ALTER TABLE sessions\S* .*\s+\S+ COLUMN (IF NOT EXISTS )?session_hash/.test(text),
    );
    expect(statements).toEqual([
      expect.stringMatching(
        /^ALTER TABLE sessions_local ON CLUSTER edge_cluster\n\s*ADD COLUMN IF NOT EXISTS session_hash UInt64 MATERIALIZED sipHash64\(session_id\)$/,
      ),
      expect.stringMatching(
        /^ALTER TABLE sessions ON CLUSTER edge_cluster\n\s*ADD COLUMN IF NOT EXISTS session_hash UInt64 MATERIALIZED sipHash64\(session_id\)$/,
      ),
      "ALTER TABLE sessions_local ON CLUSTER edge_cluster MATERIALIZE COLUMN session_hash SETTINGS mutations_sync = 2",
    ]);
  });

  it("sets a table setting on every node's local table", () => {
    expect(clusterStatements().filter((text) => /MODIFY SETTING/.test(text))).toEqual([
      "ALTER TABLE events_local ON CLUSTER edge_cluster MODIFY SETTING lightweight_mutation_projection_mode = 'rebuild'",
    ]);
  });

  it("refuses a statement it has no translation for, and a cluster name that is not an identifier", () => {
    expect(() => new ClusterTranslator("edge").translate("ALTER TABLE events ADD COLUMN x UInt8")).toThrow(
      MigrationError,
    );
    expect(() => new ClusterTranslator("edge; DROP")).toThrow(MigrationError);
  });
});
