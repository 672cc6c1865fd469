/**
 * Tracing configuration from the standard OpenTelemetry variables. Lenient on purpose: a
 * malformed tracing variable turns tracing off with one error in the log rather than failing
 * every request, since tracing must never cost an answer.
 *
 * - OTEL_EXPORTER_OTLP_ENDPOINT: base URL; spans go to `<endpoint>/v1/traces`. Unset: no tracing.
 * - OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: the full traces URL, used as is (wins over the above).
 * - OTEL_EXPORTER_OTLP_HEADERS: `key=value,key2=value2` (URL-encoded values), e.g. an API key;
 *   set it as a secret.
 * - OTEL_EXPORTER_OTLP_TIMEOUT: ms per export, default 10000.
 * - OTEL_TRACES_SAMPLER: default `parentbased_traceidratio`; OTEL_TRACES_SAMPLER_ARG: the
 *   ratio, default 0.01.
 * - OTEL_SERVICE_NAME: default `edgepulse`.
 */
import { SAMPLER_NAMES, type SamplerName, type SamplerSettings } from "./sampler";
import type { ExporterSettings } from "./span-exporter";

export const DEFAULT_SAMPLING_RATIO = 0.01;
export const DEFAULT_EXPORT_TIMEOUT_MS = 10_000;

export interface TracingSettings {
  sampler: SamplerSettings;
  exporter: ExporterSettings;
}

export interface TracingVars {
  OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string | undefined;
  OTEL_EXPORTER_OTLP_HEADERS?: string | undefined;
  OTEL_EXPORTER_OTLP_TIMEOUT?: string | undefined;
  OTEL_TRACES_SAMPLER?: string | undefined;
  OTEL_TRACES_SAMPLER_ARG?: string | undefined;
  OTEL_SERVICE_NAME?: string | undefined;
}

class TracingConfigError extends Error {}

function tracesUrl(vars: TracingVars): string | null {
  const full = vars.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() ?? "";
  const base = vars.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() ?? "";
  const url = full !== "" ? full : base !== "" ? `${base.replace(/\/+$/, "")}/v1/traces` : null;
  if (url === null) return null;
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol))
    throw new TracingConfigError(`the OTLP endpoint ${url} is not an http(s) URL`);
  return url;
}

function parseHeaders(raw: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of (raw ?? "").split(",")) {
    if (pair.trim() === "") continue;
    const at = pair.indexOf("=");
    if (at <= 0) throw new TracingConfigError("OTEL_EXPORTER_OTLP_HEADERS must be key=value pairs separated by commas");
    headers[pair.slice(0, at).trim()] = decodeURIComponent(pair.slice(at + 1).trim());
  }
  return headers;
}

function parseNumber(raw: string | undefined, fallback: number, name: string, min: number, max: number): number {
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max)
    throw new TracingConfigError(`${name} must be a number from ${min} to ${max}, not "${raw}"`);
  return value;
}

function parseSampler(raw: string | undefined): SamplerName {
  const name = raw?.trim().toLowerCase() || "parentbased_traceidratio";
  const known = SAMPLER_NAMES.find((sampler) => sampler === name);
  if (known === undefined)
    throw new TracingConfigError(`OTEL_TRACES_SAMPLER must be one of ${SAMPLER_NAMES.join(", ")}`);
  return known;
}

/** The tracing settings, or null when tracing is off (no endpoint, or a malformed variable, logged). */
export function tracingSettingsFrom(vars: TracingVars): TracingSettings | null {
  try {
    const url = tracesUrl(vars);
    if (url === null) return null;
    return {
      sampler: {
        sampler: parseSampler(vars.OTEL_TRACES_SAMPLER),
        ratio: parseNumber(vars.OTEL_TRACES_SAMPLER_ARG, DEFAULT_SAMPLING_RATIO, "OTEL_TRACES_SAMPLER_ARG", 0, 1),
      },
      exporter: {
        url,
        headers: parseHeaders(vars.OTEL_EXPORTER_OTLP_HEADERS),
        timeoutMs: parseNumber(
          vars.OTEL_EXPORTER_OTLP_TIMEOUT,
          DEFAULT_EXPORT_TIMEOUT_MS,
          "OTEL_EXPORTER_OTLP_TIMEOUT",
          1,
          60_000,
        ),
        resource: { "service.name": vars.OTEL_SERVICE_NAME?.trim() || "edgepulse" },
      },
    };
  } catch (error) {
    if (!(error instanceof TracingConfigError)) throw error;
    console.error(`tracing is off: ${error.message}`);
    return null;
  }
}
