import { describe, expect, it } from "vitest";
import { DEFAULT_SAMPLING_RATIO, tracingSettingsFrom } from "./tracing-config";

describe("tracingSettingsFrom", () => {
  it("is off without an endpoint", () => {
    expect(tracingSettingsFrom({})).toBeNull();
    expect(tracingSettingsFrom({ OTEL_EXPORTER_OTLP_ENDPOINT: " " })).toBeNull();
  });

  it("sends to <endpoint>/v1/traces, 1 % parent-based by default", () => {
    const settings = tracingSettingsFrom({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://otel:4318/" });
    expect(settings?.exporter.url).toBe("http://otel:4318/v1/traces");
    expect(settings?.sampler).toEqual({ sampler: "parentbased_traceidratio", ratio: DEFAULT_SAMPLING_RATIO });
    expect(settings?.exporter.resource).toEqual({ "service.name": "edgepulse" });
  });

  it("reads the traces endpoint, headers, sampler, ratio and timeout", () => {
    const settings = tracingSettingsFrom({
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://ignored:4318",
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://api.vendor.example/otlp/v1/traces",
      OTEL_EXPORTER_OTLP_HEADERS: "x-api-key=abc%3D%3D, x-team = ops",
      OTEL_TRACES_SAMPLER: "traceidratio",
      OTEL_TRACES_SAMPLER_ARG: "0.25",
      OTEL_EXPORTER_OTLP_TIMEOUT: "2000",
      OTEL_SERVICE_NAME: "edgepulse-eu",
    });
    expect(settings?.exporter).toEqual({
      url: "https://api.vendor.example/otlp/v1/traces",
      headers: { "x-api-key": "abc==", "x-team": "ops" },
      timeoutMs: 2000,
      resource: { "service.name": "edgepulse-eu" },
    });
    expect(settings?.sampler).toEqual({ sampler: "traceidratio", ratio: 0.25 });
  });

  it.each([
    ["a ratio above 1", { OTEL_TRACES_SAMPLER_ARG: "5" }],
    ["an unknown sampler", { OTEL_TRACES_SAMPLER: "jaeger_remote" }],
    ["headers without =", { OTEL_EXPORTER_OTLP_HEADERS: "token" }],
    ["an endpoint that is no URL", { OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" }],
  ])("turns tracing off (never fails requests) on %s", (_, vars) => {
    expect(tracingSettingsFrom({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://otel:4318", ...vars })).toBeNull();
  });
});
