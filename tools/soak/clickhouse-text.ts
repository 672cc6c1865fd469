/**
 * Read-only queries against the local ClickHouse over its HTTP interface, answered as
 * TabSeparated text: the soak reads counts and one row per batch, and TSV needs no parsing
 * library and streams a few hundred thousand rows cheaply.
 */

export interface ClickHouseTarget {
  url: string;
  database: string;
}

/** Rows of `sql` (which must not name a FORMAT) as arrays of TSV fields. */
export async function queryRows(target: ClickHouseTarget, sql: string): Promise<string[][]> {
  const search = new URLSearchParams({ database: target.database, default_format: "TabSeparated" });
  const response = await fetch(`${target.url}/?${search}`, { method: "POST", body: sql });
  const text = await response.text();
  if (!response.ok) throw new Error(`ClickHouse ${response.status}: ${text.slice(0, 400)}`);
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => line.split("\t"));
}

/** The single number `sql` answers. */
export async function queryNumber(target: ClickHouseTarget, sql: string): Promise<number> {
  const rows = await queryRows(target, sql);
  const value = Number(rows[0]?.[0]);
  if (!Number.isFinite(value)) throw new Error(`ClickHouse answered no number to: ${sql}`);
  return value;
}

/** A site list as a ClickHouse array literal; site keys are validated slugs, quotes are escaped anyway. */
export function siteList(sites: readonly string[]): string {
  return `[${sites.map((site) => `'${site.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`).join(", ")}]`;
}
