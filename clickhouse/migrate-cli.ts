/**
 * `npm run migrate`: applies the schema to the ClickHouse named by CLICKHOUSE_URL / _USER /
 * _PASSWORD / _DATABASE (default: the local server on 127.0.0.1:8123, database `edgepulse`).
 * With CLICKHOUSE_CLUSTER=<name>, the cluster variant (ON CLUSTER, Replicated engines,
 * Distributed tables; clickhouse/cluster-ddl.ts). `npm run migrate -- --print` prints every
 * statement it would run on an empty database instead of connecting.
 */
import { applyMigrations, readMigrations, schemaStatements } from "./migrate";

const url = process.env.CLICKHOUSE_URL || "http://127.0.0.1:8123";
const database = process.env.CLICKHOUSE_DATABASE || "edgepulse";
const cluster = process.env.CLICKHOUSE_CLUSTER || undefined;

if (process.argv.includes("--print")) {
  for (const { statements } of schemaStatements(database, readMigrations(), cluster))
    for (const statement of statements) console.log(`${statement}\n;\n`);
} else {
  applyMigrations(
    {
      url,
      username: process.env.CLICKHOUSE_USER || "default",
      password: process.env.CLICKHOUSE_PASSWORD ?? "",
      database,
      cluster,
    },
    (line) => console.log(line),
  ).then(
    ({ current }) =>
      console.log(`${url} ${database}${cluster === undefined ? "" : ` (cluster ${cluster})`}: schema at ${current}`),
    (error: unknown) => {
      console.error(`migration failed against ${url}: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
