import { describe, expect, it } from "vitest";
import { parseDuration, parseFactor, parseInteger, parseRate } from "./cli-values";

describe("command-line values", () => {
  it("reads durations with units, bare numbers as seconds", () => {
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("10s")).toBe(10_000);
    expect(parseDuration("2m")).toBe(120_000);
    expect(parseDuration("1.5")).toBe(1_500);
    expect(() => parseDuration("soon")).toThrow(RangeError);
  });

  it("reads rates, max meaning unpaced", () => {
    expect(parseRate("250")).toBe(250);
    expect(parseRate("max")).toBe(Infinity);
    expect(() => parseRate("-3")).toThrow(RangeError);
    expect(() => parseRate("0")).toThrow(RangeError);
  });

  it("reads bounded integers and burst factors", () => {
    expect(parseInteger("64", "concurrency", 1, 100)).toBe(64);
    expect(() => parseInteger("6.5", "concurrency", 1, 100)).toThrow(/--concurrency/);
    expect(() => parseInteger("0", "concurrency", 1, 100)).toThrow(RangeError);
    expect(parseFactor("5x")).toBe(5);
    expect(parseFactor("2.5")).toBe(2.5);
    expect(() => parseFactor("x")).toThrow(RangeError);
  });
});
