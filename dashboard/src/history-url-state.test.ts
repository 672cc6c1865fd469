import { describe, expect, it } from "vitest";
import { DEFAULT_VIEW_STATE, decodeViewState, describesHistoryView, encodeViewState } from "./history-url-state";

describe("history view state in the URL", () => {
  it("round-trips range, comparison and filters, keeping other parameters", () => {
    const state = {
      range: { preset: "custom", from: "2026-11-01", to: "2026-11-30" },
      compare: "year",
      filters: [
        { dimension: "channel", op: "is", value: "Paid Search" },
        { dimension: "page", op: "is_not", value: "/a&b=c" },
      ],
      pageGoals: ["/checkout/*"],
    } as const;
    const search = encodeViewState(
      { ...state, filters: [...state.filters], pageGoals: [...state.pageGoals] },
      "?site=demo&range=7d",
    );
    expect(search).toBe(
      "?site=demo&range=custom&from=2026-11-01&to=2026-11-30&compare=year&filter=channel%3Ais%3APaid+Search&filter=page%3Ais_not%3A%2Fa%26b%3Dc&goal=page%3A%2Fcheckout%2F*",
    );
    expect(decodeViewState(search)).toEqual(state);
  });

  it("writes nothing for the default view", () => {
    expect(encodeViewState(DEFAULT_VIEW_STATE, "")).toBe("");
    expect(encodeViewState(DEFAULT_VIEW_STATE, "?site=shop")).toBe("?site=shop");
  });

  it("drops what it does not understand", () => {
    expect(
      decodeViewState(
        "?range=forever&compare=sideways&filter=colour:is:red&filter=country:is:DE&goal=signup&goal=page:&goal=page:/thanks&goal=page:/thanks",
      ),
    ).toEqual({
      range: { preset: "1h" },
      compare: "off",
      filters: [{ dimension: "country", op: "is", value: "DE" }],
      pageGoals: ["/thanks"],
    });
    expect(decodeViewState("?range=custom&from=yesterday&to=2026-01-01").range).toEqual({ preset: "1h" });
    expect(decodeViewState(`?${"filter=page:is:/&".repeat(12)}`).filters).toHaveLength(10);
  });

  it("tells a shared history link from a plain dashboard URL", () => {
    expect(describesHistoryView("?site=demo&filter=page:is:/")).toBe(true);
    expect(describesHistoryView("?range=7d")).toBe(true);
    expect(describesHistoryView("?site=demo")).toBe(false);
  });
});
