import { describe, expect, it } from "vitest";
import { boundsItsResult, streamsByBlock } from "./stream-formats";

describe("streamsByBlock", () => {
  it("streams row formats whose blocks concatenate, whatever the case, and nothing with a prefix or header", () => {
    for (const format of ["TabSeparated", "jsoneachrow", "CSV", "RowBinary", "Native"])
      expect(streamsByBlock(format)).toBe(true);
    for (const format of ["JSON", "JSONCompact", "TSVWithNames", "Parquet", "JSONEachRowWithProgress", "Values"])
      expect(streamsByBlock(format)).toBe(false);
  });
});

describe("boundsItsResult", () => {
  it("is true only for a positive max_result_rows or max_result_bytes", () => {
    expect(boundsItsResult(new Map([["max_result_rows", "200000"]]))).toBe(true);
    expect(boundsItsResult(new Map([["max_result_bytes", "1000"]]))).toBe(true);
    expect(boundsItsResult(new Map([["max_result_rows", "0"]]))).toBe(false);
    expect(boundsItsResult(new Map([["max_execution_time", "20"]]))).toBe(false);
    expect(boundsItsResult(new Map([["max_result_rows", "lots"]]))).toBe(false);
  });
});
