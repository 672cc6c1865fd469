import { describe, expect, it } from "vitest";
import { toPlainData } from "./plain-data";
import { emptyRecord, toPlainObjects } from "./safe-record";

describe("toPlainData", () => {
  it("copies null-prototype records into plain objects, exactly as the JSON round trip does, untrusted keys included", () => {
    const products = emptyRecord<{ name: string; views: number }>();
    products["__proto__"] = { name: "proto", views: 2 };
    products["constructor"] = { name: "ctor", views: 1 };
    const buckets = emptyRecord<number>();
    buckets["-3"] = 1;
    buckets["120"] = 4;
    const source = {
      day: "2026-11-23",
      products,
      vitals: { "/": { LCP: { zeros: 0, buckets, count: 5 } } },
      list: [1, "a", { x: 1 }],
      skipped: undefined,
    };

    const copy = toPlainData(source);
    expect(copy).toEqual(toPlainObjects(source));
    expect(JSON.stringify(copy)).toBe(JSON.stringify(source));
    expect(Object.getPrototypeOf(copy.products)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(copy.vitals["/"].LCP.buckets)).toBe(Object.prototype);
    expect(Object.keys(copy.products)).toEqual(["__proto__", "constructor"]);
    expect(Object.hasOwn(copy.products, "__proto__")).toBe(true);
    expect(copy.products["__proto__"]?.views).toBe(2);
    expect("skipped" in copy).toBe(false);
  });

  it("shares nothing with its source", () => {
    const source = { nested: { count: 1 } };
    const copy = toPlainData(source);
    source.nested.count = 2;
    expect(copy.nested.count).toBe(1);
  });
});
