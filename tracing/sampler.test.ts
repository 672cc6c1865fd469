import { describe, expect, it } from "vitest";
import { shouldSample } from "./sampler";

const sampled = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", sampled: true };
const unsampled = { ...sampled, sampled: false };

describe("shouldSample", () => {
  it("follows the caller's flag under a parent-based sampler, whatever the ratio", () => {
    const settings = { sampler: "parentbased_traceidratio", ratio: 0 } as const;
    expect(shouldSample(settings, sampled)).toBe(true);
    expect(shouldSample({ ...settings, ratio: 1 }, unsampled)).toBe(false);
  });

  it("uses the ratio for new traces", () => {
    expect(shouldSample({ sampler: "parentbased_traceidratio", ratio: 1 }, null)).toBe(true);
    expect(shouldSample({ sampler: "parentbased_traceidratio", ratio: 0 }, null)).toBe(false);
    let kept = 0;
    for (let i = 0; i < 20_000; i++)
      if (shouldSample({ sampler: "parentbased_traceidratio", ratio: 0.1 }, null)) kept++;
    expect(kept).toBeGreaterThan(1_500);
    expect(kept).toBeLessThan(2_500);
  });

  it("ignores the caller's flag under the plain ratio, deciding on the trace id", () => {
    // The low 56 bits of this id, 0xce929d0e0e4736, are 0.807 of 2^56.
    expect(shouldSample({ sampler: "traceidratio", ratio: 0.5 }, sampled)).toBe(false);
    expect(shouldSample({ sampler: "traceidratio", ratio: 0.9 }, unsampled)).toBe(true);
  });

  it("knows always_on and always_off", () => {
    expect(shouldSample({ sampler: "always_on", ratio: 0 }, unsampled)).toBe(true);
    expect(shouldSample({ sampler: "always_off", ratio: 1 }, sampled)).toBe(false);
    expect(shouldSample({ sampler: "parentbased_always_off", ratio: 1 }, sampled)).toBe(true);
  });
});
