/**
 * `npm run migrate`: applies the schema to the ClickHouse named by CLICKHOUSE_URL / _USER /
 * _PASSWORD / _DATABASE (default: the local server on 127.0.0.1:8123, database `edgepulse`).
 */
import { applyMigrations } from "./migrate";

const url = process.env.CLICKHOUSE_URL || "http://127.0.0.1:8123";
const database = process.env.CLICKHOUSE_DATABASE || "edgepulse";

applyMigrations(
  { url, username: process.env.CLICKHOUSE_USER || "default", password: process.env.CLICKHOUSE_PASSWORD ?? "", database },
  (line) => console.log(line),
).then(
  ({ current }) => console.log(`${url} ${database}: schema at ${current}`),
  (error: unknown) => {
    console.error(`migration failed against ${url}: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
