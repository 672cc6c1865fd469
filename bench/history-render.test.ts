import { describe, expect, it } from "vitest";
import { dashboardUrl } from "./history-render";

describe("dashboardUrl", () => {
  it("opens the History tab of the site, with an extra query joined and an extra hash instead of #history", () => {
    expect(dashboardUrl("http://h:1", "shop")).toBe("http://h:1/?site=shop#history");
    expect(dashboardUrl("http://h:1", "shop", "?country=DE&device=mobile")).toBe(
      "http://h:1/?country=DE&device=mobile&site=shop#history",
    );
    expect(dashboardUrl("http://h:1", "shop", "#history&compare=previous")).toBe(
      "http://h:1/?site=shop#history&compare=previous",
    );
    expect(dashboardUrl("http://h:1", "shop", "site=other#x")).toBe("http://h:1/?site=shop#x");
  });

  it("puts the preset in the view's URL state unless the suffix names a range", () => {
    expect(dashboardUrl("http://h:1", "shop", "", "30d")).toBe("http://h:1/?range=30d&site=shop#history");
    expect(dashboardUrl("http://h:1", "shop", "?filter=country:is:DE&compare=previous", "30d")).toBe(
      "http://h:1/?filter=country%3Ais%3ADE&compare=previous&range=30d&site=shop#history",
    );
    expect(dashboardUrl("http://h:1", "shop", "?range=7d", "30d")).toBe("http://h:1/?range=7d&site=shop#history");
  });
});
