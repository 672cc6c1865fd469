import { describe, expect, it } from "vitest";
import { MAX_FILTERS, describeFilter, parseFilter, withFilter, withOpToggled, withoutFilter } from "./history-filter";

describe("history filters", () => {
  it("split on the first two colons only", () => {
    expect(parseFilter("referrer:is:https://news.example:8080/a")).toEqual({
      dimension: "referrer",
      op: "is",
      value: "https://news.example:8080/a",
    });
    expect(parseFilter("prop:is_not:plan=pro:annual")).toEqual({
      dimension: "prop",
      op: "is_not",
      value: "plan=pro:annual",
    });
    expect(parseFilter("page:is:")).toEqual({ dimension: "page", op: "is", value: "" });
  });

  it("refuse unknown dimensions, operators and property filters without a key", () => {
    expect(parseFilter("colour:is:blue")).toBeNull();
    expect(parseFilter("page:contains:/a")).toBeNull();
    expect(parseFilter("page")).toBeNull();
    expect(parseFilter("prop:is:pro")).toBeNull();
  });

  it("replace a filter on the same subject and keep at most ten", () => {
    let filters = withFilter([], { dimension: "channel", op: "is", value: "Email" });
    filters = withFilter(filters, { dimension: "channel", op: "is_not", value: "Direct" });
    filters = withFilter(filters, { dimension: "prop", op: "is", value: "plan=pro" });
    filters = withFilter(filters, { dimension: "prop", op: "is", value: "size=L" });
    expect(filters.map(describeFilter)).toEqual([
      "Channel is not Direct",
      "Property is plan=pro",
      "Property is size=L",
    ]);
    for (let index = 0; index < 12; index++)
      filters = withFilter(filters, { dimension: "prop", op: "is", value: `k${index}=v` });
    expect(filters).toHaveLength(MAX_FILTERS);
    expect(filters.at(-1)?.value).toBe("k11=v");
  });

  it("toggle and remove by position", () => {
    const filters = [
      { dimension: "page", op: "is", value: "/" },
      { dimension: "country", op: "is", value: "DE" },
    ] as const;
    expect(withOpToggled(filters, 1)[1]?.op).toBe("is_not");
    expect(withoutFilter(filters, 0)).toEqual([filters[1]]);
  });
});
