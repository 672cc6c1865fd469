/**
 * The cluster variant of the migrations (`CLICKHOUSE_CLUSTER=<name> npm run migrate`).
 *
 * Each table `x` of the single-node schema becomes `x_local` on every node (`ON CLUSTER`,
 * the Replicated form of its engine, replicated deduplication windows instead of the
 * non-replicated one) plus a Distributed table `x` over them, so the Worker, the shards and
 * every query keep using the plain names for reads and writes. Materialized views attach to
 * the local tables, so each shard rolls up the events it stores; a rollup's states merge
 * across shards when read through its Distributed table, exactly as they merge across parts.
 *
 * Sharding keys are deterministic (never rand()): a retried flush splits into the same
 * per-shard blocks under the same token, so each shard drops its copy. Sessions shard by
 * session so a replaced session row meets the row it replaces on one shard (FINAL is
 * per shard); events shard by visitor, like the IngestShards.
 *
 * Only the statement forms the migrations use are translated; anything else is refused,
 * so a new migration cannot silently come out wrong on a cluster.
 */
import { MigrationError } from "./migration-error";

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Distributed sharding keys; tables not listed (the rollups, read-only through Distributed) shard by site. */
const SHARDING_KEYS: Record<string, string> = {
  events: "cityHash64(site, visitor_id)",
  sessions: "cityHash64(site, session_id)",
  window_metrics: "cityHash64(site, window_start)",
};

/**
 * A retried flush must still find its token: keep the last 10,000 block hashes per table
 * and for an hour (the shards back off at most 60 s between retries).
 */
export const REPLICATED_DEDUPLICATION_SETTINGS =
  "replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 3600";

export function assertClusterName(cluster: string): void {
  if (!IDENTIFIER.test(cluster)) throw new MigrationError(`invalid cluster name ${JSON.stringify(cluster)}`);
}

const localName = (table: string) => `${table}_local`;
const replicaPath = (table: string) => `'/clickhouse/tables/{shard}/{database}/${table}', '{replica}'`;

const CREATE_TABLE =
  /^CREATE TABLE IF NOT EXISTS (\w+)\s*(\([\s\S]*\))\s*ENGINE = (\w*MergeTree)(?:\(([^)]*)\))?\s*([\s\S]*?)\s*SETTINGS ((?:\w+ = \d+, )*)non_replicated_deduplication_window = \d+\s*$/;
const CREATE_VIEW = /^CREATE MATERIALIZED VIEW IF NOT EXISTS (\w+) TO (\w+) AS\s([\s\S]*)$/;
const TRUNCATE = /^TRUNCATE TABLE IF EXISTS (\w+)\s*$/;
const CREATE_DATABASE = /^CREATE DATABASE IF NOT EXISTS (`\w+`)\s*$/;
/** New columns (020_campaigns.sql): on every node's local table, and on the Distributed table over it. */
const ALTER_ADD_COLUMNS =
  /^ALTER TABLE (\w+)\s+((?:ADD COLUMN IF NOT EXISTS [\s\S]+?)(?:,\s*ADD COLUMN IF NOT EXISTS [\s\S]+?)*)\s*$/;
/** Projections (040_goals_and_filter_projection.sql): stored with a table's parts, so on every node's local table only. */
const ADD_PROJECTION = /^ALTER TABLE (\w+) ADD PROJECTION IF NOT EXISTS (\w+)\s*(\([\s\S]*\))\s*$/;
/** Its backfill, a mutation on every node's local table; `mutations_sync = 2` waits for every replica. */
const MATERIALIZE_PROJECTION = /^ALTER TABLE (\w+) MATERIALIZE PROJECTION (\w+)(?: SETTINGS mutations_sync = \d)?\s*$/;
/** A stored column's backfill (060_session_hash.sql), a mutation on every node's local table like the projection's. */
const MATERIALIZE_COLUMN = /^ALTER TABLE (\w+) MATERIALIZE COLUMN (\w+)(?: SETTINGS mutations_sync = \d)?\s*$/;
/** Table settings (050_delete_with_projection.sql): the parts live in every node's local table. */
const MODIFY_SETTING = /^ALTER TABLE (\w+) MODIFY SETTING (\w+ = '?\w+'?)\s*$/;
/** The SQL console's plain views (010_console_views.sql): they read the Distributed tables, on every node. */
const CREATE_PLAIN_VIEW = /^CREATE OR REPLACE VIEW (`\w+`\.\w+) AS\s([\s\S]*)$/;
const INSERT_SELECT = /^INSERT INTO \w+ \([^)]*\)\s*SELECT[\s\S]*$/;

/** Table names the migrations created so far, so views and truncates can point at their local tables. */
export class ClusterTranslator {
  private readonly tables = new Set<string>();

  constructor(private readonly cluster: string) {
    assertClusterName(cluster);
  }

  /** The cluster statements standing for one single-node statement. */
  translate(statement: string): string[] {
    const onCluster = `ON CLUSTER ${this.cluster}`;
    const table = CREATE_TABLE.exec(statement);
    if (table) {
      const [, name = "", columns = "", engine = "", engineArgs = "", clauses = "", otherSettings = ""] = table;
      this.tables.add(name);
      const args =
        engineArgs.trim() === ""
          ? replicaPath(localName(name))
          : `${replicaPath(localName(name))}, ${engineArgs.trim()}`;
      const settings = clauses.trim() === "" ? "" : `\n${clauses.trim()}`;
      return [
        `CREATE TABLE IF NOT EXISTS ${localName(name)} ${onCluster}\n${columns}\nENGINE = Replicated${engine}(${args})${settings}\nSETTINGS ${otherSettings}${REPLICATED_DEDUPLICATION_SETTINGS}`,
        `CREATE TABLE IF NOT EXISTS ${name} ${onCluster} AS ${localName(name)}\nENGINE = Distributed(${this.cluster}, currentDatabase(), ${localName(name)}, ${SHARDING_KEYS[name] ?? "cityHash64(site)"})`,
      ];
    }
    const view = CREATE_VIEW.exec(statement);
    if (view) {
      const [, name = "", target = "", select = ""] = view;
      // The view fires on inserts into a node's local source table and writes that node's local rollup.
      const localSelect = select.replace(/\bFROM (\w+)\b/g, (whole, source: string) =>
        this.tables.has(source) ? `FROM ${localName(source)}` : whole,
      );
      return [
        `CREATE MATERIALIZED VIEW IF NOT EXISTS ${name} ${onCluster} TO ${this.local(target)} AS\n${localSelect}`,
      ];
    }
    const alter = ALTER_ADD_COLUMNS.exec(statement);
    if (alter) {
      const [, table = "", columns = ""] = alter;
      return [
        `ALTER TABLE ${this.local(table)} ${onCluster}\n${columns}`,
        `ALTER TABLE ${table} ${onCluster}\n${columns}`,
      ];
    }
    const projection = ADD_PROJECTION.exec(statement);
    if (projection) {
      const [, table = "", name = "", select = ""] = projection;
      return [`ALTER TABLE ${this.local(table)} ${onCluster}\nADD PROJECTION IF NOT EXISTS ${name}\n${select}`];
    }
    const materialize = MATERIALIZE_PROJECTION.exec(statement);
    if (materialize) {
      const [, table = "", name = ""] = materialize;
      return [
        `ALTER TABLE ${this.local(table)} ${onCluster} MATERIALIZE PROJECTION ${name} SETTINGS mutations_sync = 2`,
      ];
    }
    const column = MATERIALIZE_COLUMN.exec(statement);
    if (column) {
      const [, table = "", name = ""] = column;
      return [`ALTER TABLE ${this.local(table)} ${onCluster} MATERIALIZE COLUMN ${name} SETTINGS mutations_sync = 2`];
    }
    const setting = MODIFY_SETTING.exec(statement);
    if (setting) {
      const [, table = "", assignment = ""] = setting;
      return [`ALTER TABLE ${this.local(table)} ${onCluster} MODIFY SETTING ${assignment}`];
    }
    const database = CREATE_DATABASE.exec(statement);
    if (database) return [`CREATE DATABASE IF NOT EXISTS ${database[1]} ${onCluster}`];
    const plainView = CREATE_PLAIN_VIEW.exec(statement);
    if (plainView) return [`CREATE OR REPLACE VIEW ${plainView[1]} ${onCluster} AS\n${plainView[2]}`];
    const truncate = TRUNCATE.exec(statement);
    if (truncate) return [`TRUNCATE TABLE IF EXISTS ${this.local(truncate[1] ?? "")} ${onCluster}`];
    // A backfill runs once, from the node migrate talks to: read through Distributed, write through Distributed.
    if (INSERT_SELECT.test(statement)) return [statement];
    throw new MigrationError(
      `no cluster translation for this statement; extend clickhouse/cluster-ddl.ts:\n${statement.slice(0, 200)}`,
    );
  }

  private local(table: string): string {
    if (!this.tables.has(table)) throw new MigrationError(`table ${table} is not created by an earlier migration`);
    return localName(table);
  }
}

/** `CREATE DATABASE` on every node. */
export function clusterDatabaseStatement(database: string, cluster: string): string {
  assertClusterName(cluster);
  return `CREATE DATABASE IF NOT EXISTS \`${database}\` ON CLUSTER ${cluster}`;
}

/**
 * `schema_migrations` as one replicated table shared by every node (no {shard} in its path),
 * so whichever node `npm run migrate` or `/readyz` talks to sees the same versions.
 */
export function clusterSchemaMigrationsStatement(cluster: string): string {
  assertClusterName(cluster);
  return `CREATE TABLE IF NOT EXISTS schema_migrations ON CLUSTER ${cluster}
(
    version    UInt32,
    name       String,
    checksum   String,
    applied_at DateTime64(3, 'UTC')
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{database}/schema_migrations', '{replica}', applied_at)
ORDER BY version`;
}
