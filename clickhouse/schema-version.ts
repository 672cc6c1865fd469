/**
 * The schema versions this code expects, bundled into the Worker (no file system in workerd)
 * so `/readyz` can tell whether `npm run migrate` has run. Must list `clickhouse/migrations/*.sql`
 * exactly; `migrate.test.ts` checks it against the files.
 */
export const SCHEMA_MIGRATIONS = [
  { version: 1, name: "001_init" },
  { version: 2, name: "002_rollups" },
  { version: 10, name: "010_console_views" },
  { version: 20, name: "020_campaigns" },
  { version: 30, name: "030_session_attributes" },
  { version: 40, name: "040_goals_and_filter_projection" },
  { version: 50, name: "050_delete_with_projection" },
  { version: 60, name: "060_session_hash" },
] as const;

export const LATEST_SCHEMA_VERSION: number = SCHEMA_MIGRATIONS[SCHEMA_MIGRATIONS.length - 1]?.version ?? 0;
