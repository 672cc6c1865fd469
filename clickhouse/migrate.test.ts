/**
 * Migrations against the local server: applied once, recorded, idempotent, refused when an
 * applied file changed; and the versions bundled into the Worker match the files.
 */
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@clickhouse/client-web";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClickHouse } from "./client";
import { type LocalClickHouse, startLocalClickHouse } from "./local-server";
import { applyMigrations, DEFAULT_MIGRATIONS_DIR, MigrationError, readMigrations, splitStatements } from "./migrate";
import { LATEST_SCHEMA_VERSION, SCHEMA_MIGRATIONS } from "./schema-version";

let dataDir: string;
let server: LocalClickHouse;
const connection = () => ({ url: server.url, username: "default", password: "" });

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "edgepulse-migrate-"));
  server = await startLocalClickHouse({ port: 0, dataDir });
});

afterAll(async () => {
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("splitStatements", () => {
  it("splits on lines holding only ';' and drops whole-line comments", () => {
    const sql =
      "-- header\nCREATE TABLE a (x String COMMENT 'a -- b')\nENGINE = Memory\n;\n\n  ;  \n-- only a comment\n;\nCREATE TABLE b (y UInt8) ENGINE = Memory\n";
    expect(splitStatements(sql)).toEqual([
      "CREATE TABLE a (x String COMMENT 'a -- b')\nENGINE = Memory",
      "CREATE TABLE b (y UInt8) ENGINE = Memory",
    ]);
  });
});

describe("schema-version.ts", () => {
  it("lists exactly the migration files, so /readyz compares against the real latest version", () => {
    const files = readMigrations().map(({ version, name }) => ({ version, name }));
    expect(SCHEMA_MIGRATIONS).toEqual(files);
    expect(LATEST_SCHEMA_VERSION).toBe(files.at(-1)?.version);
  });
});

describe("applyMigrations", () => {
  it("creates the database, applies every migration once and records it; a rerun applies nothing", async () => {
    const lines: string[] = [];
    const first = await applyMigrations({ ...connection(), database: "migrated" }, (line) => lines.push(line));
    expect(first.applied).toEqual(SCHEMA_MIGRATIONS.map((migration) => migration.name));
    expect(first.current).toBe(SCHEMA_MIGRATIONS.at(-1)?.name);
    expect(lines.join("\n")).toMatch(/applying 001_init/);

    const second = await applyMigrations({ ...connection(), database: "migrated" });
    expect(second).toEqual({ applied: [], current: first.current });

    const client = createClient({ ...connection(), database: "migrated" });
    const tables = await (
      await client.query({
        query: "SELECT name FROM system.tables WHERE database = 'migrated' ORDER BY name",
        format: "JSONEachRow",
      })
    ).json<{ name: string }>();
    expect(tables.map((table) => table.name)).toEqual([
      "events",
      "funnel_rollup",
      "funnel_rollup_mv",
      "goal_rollup",
      "goal_rollup_mv",
      "page_view_rollup",
      "page_view_rollup_mv",
      "product_interest_rollup_mv",
      "product_purchase_rollup_mv",
      "product_rollup",
      "quarantine",
      "schema_migrations",
      "session_attribute_rollup",
      "session_attribute_rollup_mv",
      "sessions",
      "visitors_rollup",
      "visitors_rollup_mv",
      "vitals_rollup",
      "vitals_rollup_mv",
      "window_metrics",
      "window_metrics_rollup",
      "window_metrics_rollup_mv",
    ]);
    const recorded = await (
      await client.query({
        query: "SELECT version, name, length(checksum) AS l FROM schema_migrations FINAL ORDER BY version",
        format: "JSONEachRow",
      })
    ).json();
    expect(recorded).toEqual(SCHEMA_MIGRATIONS.map(({ version, name }) => ({ version, name, l: 64 })));
    // The SQL console's views, in the database named after the configured one.
    const views = await (
      await client.query({
        query: "SELECT name, engine FROM system.tables WHERE database = 'migrated_console' ORDER BY name",
        format: "JSONEachRow",
      })
    ).json();
    expect(views).toEqual(["events", "sessions", "window_metrics"].map((name) => ({ name, engine: "View" })));
    await client.close();

    const clickhouse = createClickHouse({ ...connection(), database: "migrated" });
    expect(await clickhouse.schemaVersion()).toBe(LATEST_SCHEMA_VERSION);
    // Site deletion's lightweight DELETE works on `events` despite its projection (migration 050;
    // without it ClickHouse refuses with code 344 and deletion falls back to ALTER … DELETE).
    await expect(
      clickhouse.command(
        "DELETE FROM events WHERE site = {site:String}",
        { site: "no-such-site" },
        {
          lightweight_deletes_sync: 2,
        },
      ),
    ).resolves.toBeUndefined();
  });

  it("applies only the new file when one is added", async () => {
    const directory = mkdtempSync(join(tmpdir(), "edgepulse-migrations-"));
    try {
      for (const file of readdirSync(DEFAULT_MIGRATIONS_DIR))
        copyFileSync(join(DEFAULT_MIGRATIONS_DIR, file), join(directory, file));
      await applyMigrations({ ...connection(), database: "grown", migrationsDir: directory });
      writeFileSync(
        join(directory, "900_extra.sql"),
        "CREATE TABLE IF NOT EXISTS extra (a UInt8) ENGINE = Memory\n;\nINSERT INTO extra VALUES (1)\n",
      );
      const next = await applyMigrations({ ...connection(), database: "grown", migrationsDir: directory });
      expect(next).toEqual({ applied: ["900_extra"], current: "900_extra" });
      expect(await createClickHouse({ ...connection(), database: "grown" }).schemaVersion()).toBe(900);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it("refuses to run when an applied file changed, naming the migration", async () => {
    const directory = mkdtempSync(join(tmpdir(), "edgepulse-migrations-"));
    try {
      writeFileSync(join(directory, "001_first.sql"), "CREATE TABLE IF NOT EXISTS first (a UInt8) ENGINE = Memory\n");
      await applyMigrations({ ...connection(), database: "edited", migrationsDir: directory });
      writeFileSync(join(directory, "001_first.sql"), "CREATE TABLE IF NOT EXISTS first (a UInt16) ENGINE = Memory\n");
      writeFileSync(join(directory, "002_second.sql"), "CREATE TABLE IF NOT EXISTS second (a UInt8) ENGINE = Memory\n");
      const failure = applyMigrations({ ...connection(), database: "edited", migrationsDir: directory });
      await expect(failure).rejects.toBeInstanceOf(MigrationError);
      await expect(failure).rejects.toThrow(/001_first was applied with checksum .* but the file now has/);
      // Nothing after the changed file ran.
      expect(await createClickHouse({ ...connection(), database: "edited" }).schemaVersion()).toBe(1);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it("rejects a database name that is not an identifier", async () => {
    await expect(applyMigrations({ ...connection(), database: "x; DROP" })).rejects.toThrow(/invalid database name/);
  });
});
