/**
 * Which traces are recorded: the OpenTelemetry sampler names (`OTEL_TRACES_SAMPLER`) over a
 * ratio (`OTEL_TRACES_SAMPLER_ARG`). Parent-based samplers follow the incoming `traceparent`'s
 * sampled flag when there is one, so a caller that records a trace gets our spans in it; the
 * plain ratio ignores it, for an operator who does not want clients to choose what is exported.
 */
import type { TraceContext } from "./trace-context";

export const SAMPLER_NAMES = [
  "parentbased_traceidratio",
  "parentbased_always_on",
  "parentbased_always_off",
  "traceidratio",
  "always_on",
  "always_off",
] as const;
export type SamplerName = (typeof SAMPLER_NAMES)[number];

export interface SamplerSettings {
  sampler: SamplerName;
  /** 0…1, used by the traceidratio samplers. */
  ratio: number;
}

/** The decision for a trace rooted here (no usable parent). */
function rootDecision(settings: SamplerSettings, traceId: string | null): boolean {
  switch (settings.sampler) {
    case "always_on":
    case "parentbased_always_on":
      return true;
    case "always_off":
    case "parentbased_always_off":
      return false;
    case "traceidratio":
    case "parentbased_traceidratio":
      if (settings.ratio >= 1) return true;
      if (settings.ratio <= 0) return false;
      // Deterministic on a known trace id (the spec's low 56 bits), so every service that samples
      // by ratio keeps the same traces; a new root has no id yet and draws at random instead.
      return traceId === null
        ? Math.random() < settings.ratio
        : Number.parseInt(traceId.slice(18), 16) < settings.ratio * 2 ** 56;
  }
}

/** Whether a request with this (possibly null) parent is recorded. */
export function shouldSample(settings: SamplerSettings, parent: TraceContext | null): boolean {
  if (parent !== null && settings.sampler.startsWith("parentbased_")) return parent.sampled;
  return rootDecision(settings, parent?.traceId ?? null);
}
