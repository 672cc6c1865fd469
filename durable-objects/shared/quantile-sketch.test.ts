import { describe, expect, it } from "vitest";
import { exactQuantile, mulberry32 } from "./quantile-fixture";
import { addToSketch, emptySketch, mergeSketchInto, SKETCH_RELATIVE_ERROR, sketchQuantile } from "./quantile-sketch";

describe("quantile sketch", () => {
  it("reports p75 within the stated relative error on log-normal LCP-like data", () => {
    const random = mulberry32(42);
    const values: number[] = [];
    const sketch = emptySketch();
    for (let i = 0; i < 20_000; i++) {
      // Box-Muller: log-normal around 2.2 s, like real LCP.
      const normal = Math.sqrt(-2 * Math.log(random() || 1e-12)) * Math.cos(2 * Math.PI * random());
      const value = Math.exp(Math.log(2200) + 0.6 * normal);
      values.push(value);
      addToSketch(sketch, value);
    }
    for (const q of [0.5, 0.75, 0.9, 0.99]) {
      const exact = exactQuantile(values, q);
      expect(Math.abs(sketchQuantile(sketch, q) - exact) / exact).toBeLessThanOrEqual(SKETCH_RELATIVE_ERROR);
    }
  });

  it("merges shard sketches into exactly the sketch of all values", () => {
    const random = mulberry32(7);
    const whole = emptySketch();
    const parts = [emptySketch(), emptySketch(), emptySketch()];
    const values: number[] = [];
    for (let i = 0; i < 9_000; i++) {
      const value = random() < 0.2 ? 0 : random() * 0.5; // CLS-like, many zeros
      values.push(value);
      addToSketch(whole, value);
      addToSketch(parts[i % 3]!, value);
    }
    const merged = emptySketch();
    for (const part of parts) mergeSketchInto(merged, part);
    expect(merged).toEqual(whole);
    const exact = exactQuantile(values, 0.75);
    expect(Math.abs(sketchQuantile(merged, 0.75) - exact)).toBeLessThanOrEqual(exact * SKETCH_RELATIVE_ERROR);
  });

  it("answers zero for a zero-heavy distribution and NaN when empty", () => {
    const sketch = emptySketch();
    expect(sketchQuantile(sketch, 0.75)).toBeNaN();
    addToSketch(sketch, 0, 9);
    addToSketch(sketch, 0.3);
    expect(sketchQuantile(sketch, 0.75)).toBe(0);
    expect(sketch.count).toBe(10);
  });
});
