/**
 * What Grafana does to a panel's query text before the datasource runs it, for the macros and
 * variables the EdgePulse dashboards use, so tests can run the very text a panel sends.
 *
 * ClickHouse panels (plugin grafana-clickhouse-datasource v4, macros as its pkg/macros
 * expands them; range bounds in whole seconds, the interval at least 1 s):
 *   $__timeFilter(col)      col >= toDateTime(<from s>) AND col <= toDateTime(<to s>)
 *   $__timeFilter_ms(col)   col >= fromUnixTimestamp64Milli(<from ms>) AND col <= fromUnixTimestamp64Milli(<to ms>)
 *   $__fromTime, $__toTime  toDateTime(<from s>), toDateTime(<to s>)
 *   $__timeInterval(col)    toStartOfInterval(toDateTime(col), INTERVAL <interval s> second)
 *   $__interval_s           <interval s>
 * Dashboard variables (`$site`, `${site}`) are replaced by their value first, as Grafana's
 * frontend does before the query reaches the plugin.
 *
 * Prometheus panels: `$__rate_interval`, `$__interval` and `$__range` become durations, and
 * dashboard variables their value (a multi-value variable inside `=~"…"` becomes `a|b`).
 */

export interface GrafanaQueryContext {
  /** Range, ms since the epoch. */
  from: number;
  to: number;
  intervalSeconds: number;
  /** Dashboard variables by name, already formatted as Grafana would insert them. */
  variables: Record<string, string>;
}

function replaceVariables(text: string, variables: Record<string, string>): string {
  return text.replace(
    /\$\{(\w+)(?::\w+)?\}|\$(?!__)(\w+)/g,
    (whole, braced: string | undefined, bare: string | undefined) => {
      const name = braced ?? bare ?? "";
      const value = variables[name];
      if (value === undefined) throw new Error(`no value for dashboard variable ${whole}`);
      return value;
    },
  );
}

export function expandClickHouseQuery(sql: string, context: GrafanaQueryContext): string {
  const fromSeconds = Math.floor(context.from / 1000);
  const toSeconds = Math.floor(context.to / 1000);
  const interval = Math.max(Math.floor(context.intervalSeconds), 1);
  const expanded = replaceVariables(sql, context.variables)
    .replace(
      /\$__timeFilter_ms\(([^)]+)\)/g,
      (_, column: string) =>
        `${column.trim()} >= fromUnixTimestamp64Milli(${context.from}) AND ${column.trim()} <= fromUnixTimestamp64Milli(${context.to})`,
    )
    .replace(
      /\$__timeFilter\(([^)]+)\)/g,
      (_, column: string) =>
        `${column.trim()} >= toDateTime(${fromSeconds}) AND ${column.trim()} <= toDateTime(${toSeconds})`,
    )
    .replace(
      /\$__timeInterval\(([^)]+)\)/g,
      (_, column: string) => `toStartOfInterval(toDateTime(${column.trim()}), INTERVAL ${interval} second)`,
    )
    .replace(/\$__fromTime\b/g, `toDateTime(${fromSeconds})`)
    .replace(/\$__toTime\b/g, `toDateTime(${toSeconds})`)
    .replace(/\$__interval_s\b/g, String(interval));
  if (expanded.includes("$")) throw new Error(`a macro the test does not expand is left in:\n${expanded}`);
  return expanded;
}

export function expandPromQL(
  expr: string,
  context: Pick<GrafanaQueryContext, "intervalSeconds" | "variables"> & { rangeSeconds: number },
): string {
  // $__rate_interval is at least four scrape intervals (15 s in the provisioned datasource).
  const rateInterval = Math.max(context.intervalSeconds + 15, 4 * 15);
  const expanded = replaceVariables(
    expr
      .replace(/\$__rate_interval\b/g, `${rateInterval}s`)
      .replace(/\$__interval\b/g, `${context.intervalSeconds}s`)
      .replace(/\$__range\b/g, `${context.rangeSeconds}s`),
    context.variables,
  );
  if (expanded.includes("$")) throw new Error(`a variable the test does not expand is left in:\n${expanded}`);
  return expanded;
}
