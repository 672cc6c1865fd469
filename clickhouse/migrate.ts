/**
 * Applies `clickhouse/migrations/NNN_name.sql` in order to a ClickHouse server (the local one
 * or a real one), recording each in `schema_migrations` with the file's checksum.
 *
 * With a cluster name, every statement is replaced by its cluster variant (cluster-ddl.ts):
 * `ON CLUSTER`, Replicated engines, Distributed tables under the plain names.
 *
 * Invariants: a migration is recorded only after all its statements succeeded, and every
 * statement is idempotent (`IF NOT EXISTS`), so a run interrupted between the two is simply
 * repeated. An applied file must never change: a checksum mismatch stops the run, because the
 * server's schema would no longer be what the file says.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createClient, type ClickHouseClient } from "@clickhouse/client-web";
import { ClusterTranslator, clusterDatabaseStatement, clusterSchemaMigrationsStatement } from "./cluster-ddl";
import { MigrationError } from "./migration-error";
import { toDateTime64 } from "./rows";

export interface MigrateOptions {
  url: string;
  username: string;
  password: string;
  database: string;
  /** Where the `.sql` files are; default `clickhouse/migrations`. */
  migrationsDir?: string;
  /** A cluster name (`CLICKHOUSE_CLUSTER`): apply the cluster variant of every statement (cluster-ddl.ts). */
  cluster?: string;
}

export interface Migration {
  version: number;
  /** File name without `.sql`, e.g. `001_init`. */
  name: string;
  checksum: string;
  statements: string[];
}

export { MigrationError };

export const DEFAULT_MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), "migrations");

const FILE_NAME = /^(\d+)_([A-Za-z0-9_]+)\.sql$/;
const DATABASE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Statements are separated by lines holding only `;`; whole-line `--` comments are dropped. */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let current: string[] = [];
  const flush = () => {
    const statement = current.join("\n").trim();
    if (statement !== "") statements.push(statement);
    current = [];
  };
  for (const line of sql.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed === ";") flush();
    else if (!trimmed.startsWith("--")) current.push(line);
  }
  flush();
  return statements;
}

export function readMigrations(directory: string = DEFAULT_MIGRATIONS_DIR): Migration[] {
  const migrations: Migration[] = [];
  for (const file of readdirSync(directory).sort()) {
    if (!file.endsWith(".sql")) continue;
    const match = FILE_NAME.exec(file);
    if (!match) throw new MigrationError(`migration file ${file} must be named NNN_name.sql`);
    const text = readFileSync(join(directory, file), "utf8");
    migrations.push({
      version: Number(match[1]),
      name: file.slice(0, -".sql".length),
      checksum: createHash("sha256").update(text).digest("hex"),
      statements: splitStatements(text),
    });
  }
  migrations.sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]?.version === migrations[i - 1]?.version) {
      throw new MigrationError(
        `two migrations share version ${migrations[i]?.version}: ${migrations[i - 1]?.name}, ${migrations[i]?.name}`,
      );
    }
  }
  return migrations;
}

/**
 * `{database}` in a migration stands for the configured database, for statements that name a
 * database of their own (the SQL console's `<database>_console`). Checksums are taken over the
 * file as written, so the same file applies to any database.
 */
export function withDatabase(statement: string, database: string): string {
  return statement.replaceAll("{database}", database);
}

const SINGLE_NODE_SCHEMA_MIGRATIONS = `CREATE TABLE IF NOT EXISTS schema_migrations
(
    version    UInt32,
    name       String,
    checksum   String,
    applied_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(applied_at)
ORDER BY version`;

/** Every statement `applyMigrations` would run on an empty database, in order: what `npm run migrate -- --print` shows. */
export function schemaStatements(
  database: string,
  migrations: Migration[],
  cluster?: string,
): { version: number | null; statements: string[] }[] {
  if (cluster === undefined) {
    return [
      { version: null, statements: [`CREATE DATABASE IF NOT EXISTS \`${database}\``, SINGLE_NODE_SCHEMA_MIGRATIONS] },
      ...migrations.map((migration) => ({
        version: migration.version,
        statements: migration.statements.map((statement) => withDatabase(statement, database)),
      })),
    ];
  }
  // One translator over all files in order, so a view in a later file finds the tables of earlier ones.
  const translator = new ClusterTranslator(cluster);
  return [
    {
      version: null,
      statements: [clusterDatabaseStatement(database, cluster), clusterSchemaMigrationsStatement(cluster)],
    },
    ...migrations.map((migration) => ({
      version: migration.version,
      statements: migration.statements.flatMap((statement) => translator.translate(withDatabase(statement, database))),
    })),
  ];
}

interface AppliedRow {
  version: number;
  name: string;
  checksum: string;
}

export async function applyMigrations(
  options: MigrateOptions,
  log: (line: string) => void = () => {},
): Promise<{ applied: string[]; current: string }> {
  if (!DATABASE_NAME.test(options.database))
    throw new MigrationError(`invalid database name ${JSON.stringify(options.database)}`);
  const migrations = readMigrations(options.migrationsDir);
  const connection = {
    url: options.url,
    username: options.username,
    password: options.password,
    request_timeout: 60_000,
  };
  const server = createClient(connection);
  const client = createClient({ ...connection, database: options.database });
  try {
    const [setup, ...perMigration] = schemaStatements(options.database, migrations, options.cluster);
    const [createDatabase, createSchemaMigrations] = setup?.statements ?? [];
    if (createDatabase === undefined || createSchemaMigrations === undefined)
      throw new MigrationError("no setup statements");
    await server.command({ query: createDatabase });
    await client.command({ query: createSchemaMigrations });
    const applied = await appliedMigrations(client);
    // Check every applied file before running anything, so a changed file stops the whole run.
    for (const migration of migrations) {
      const record = applied.find((row) => row.version === migration.version);
      if (record && record.checksum !== migration.checksum) {
        throw new MigrationError(
          `migration ${migration.name} was applied with checksum ${record.checksum} but the file now has ${migration.checksum}; ` +
            `applied migrations must not change, add a new migration instead`,
        );
      }
    }
    const done: string[] = [];
    let current = applied.at(-1)?.name ?? "";
    for (const migration of migrations) {
      if (applied.some((row) => row.version === migration.version)) continue;
      const statements = perMigration.find((entry) => entry.version === migration.version)?.statements ?? [];
      log(
        `applying ${migration.name} (${statements.length} statements) to ${options.database}${options.cluster === undefined ? "" : ` on cluster ${options.cluster}`}`,
      );
      for (const statement of statements) await client.command({ query: statement });
      await client.insert({
        table: "schema_migrations",
        format: "JSONEachRow",
        values: [
          {
            version: migration.version,
            name: migration.name,
            checksum: migration.checksum,
            applied_at: toDateTime64(Date.now()),
          },
        ],
        // A retried record of the same migration is dropped instead of doubled.
        clickhouse_settings: {
          insert_deduplication_token: `migration-${migration.version}-${migration.checksum}`,
          insert_deduplicate: 1,
          async_insert: 0,
        },
      });
      done.push(migration.name);
      current = migration.name;
    }
    log(
      done.length === 0
        ? `schema is current (${current || "empty"})`
        : `applied ${done.join(", ")}; schema is at ${current}`,
    );
    return { applied: done, current };
  } finally {
    await Promise.all([server.close(), client.close()]);
  }
}

async function appliedMigrations(client: ClickHouseClient): Promise<AppliedRow[]> {
  const result = await client.query({
    query: `SELECT version, argMin(name, applied_at) AS name, argMin(checksum, applied_at) AS checksum
            FROM schema_migrations GROUP BY version ORDER BY version`,
    format: "JSONEachRow",
  });
  return result.json<AppliedRow>();
}
