/**
 * Bindings beyond those `wrangler types` reads from wrangler.toml: secrets set with
 * `wrangler secret put`, and the flags `npm run dev` and the tests pass with `--var`.
 */
declare global {
  interface Env {
    /** Read token for every site (admin). No default outside local dev. */
    ADMIN_TOKEN?: string;
    CLICKHOUSE_PASSWORD?: string;
    /** Key of the daily-rotated cookieless visitor hash (see docs/design.md, Privacy). */
    VISITOR_SECRET?: string;
    /** OpenTelemetry export headers (e.g. a vendor's API key), `key=value,…`; see docs/operations.md, Tracing. */
    OTEL_EXPORTER_OTLP_HEADERS?: string;
    /** "1" under `npm run dev` and the tests: enables the `demo` site and `dev-admin-token`. */
    LOCAL_DEV?: string;
  }
}
export {};
