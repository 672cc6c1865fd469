import { describe, expect, it } from "vitest";
import { loadConfig } from "../common/config";
import { ApiError } from "./errors";
import { isOriginAllowed, isOriginAllowedByAnySite, preflightHeaders, requireOriginAllowed } from "./sites";

const config = loadConfig({
  SITES: JSON.stringify([
    { key: "shop", origins: ["https://shop.example", "https://www.shop.example/"] },
    { key: "blog", origins: ["*"] },
    { key: "closed", origins: [] },
  ]),
});

function site(key: string) {
  const found = config.sites.get(key);
  if (found === undefined) throw new Error(`no site ${key} in the fixture`);
  return found;
}

function thrown(run: () => unknown): ApiError {
  try {
    run();
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error("expected an ApiError");
}

describe("sites", () => {
  it("matches exact origins case-insensitively and ignores a trailing slash", () => {
    const shop = site("shop");
    expect(isOriginAllowed(shop, "https://shop.example")).toBe(true);
    expect(isOriginAllowed(shop, "HTTPS://SHOP.EXAMPLE")).toBe(true);
    expect(isOriginAllowed(shop, "https://www.shop.example")).toBe(true);
    expect(isOriginAllowed(shop, "http://shop.example")).toBe(false);
    expect(isOriginAllowed(shop, "https://shop.example.evil.test")).toBe(false);
  });

  it("lets '*' allow any origin and an empty list allow none", () => {
    expect(isOriginAllowed(site("blog"), "https://anything.test")).toBe(true);
    expect(isOriginAllowed(site("closed"), "https://shop.example")).toBe(false);
  });

  it("allows posts without an Origin header (server to server)", () => {
    expect(() => requireOriginAllowed(site("closed"), null)).not.toThrow();
    const error = thrown(() => requireOriginAllowed(site("closed"), "https://x.test"));
    expect([error.status, error.code]).toEqual([403, "origin_not_allowed"]);
  });

  it("answers preflights for origins any site allows", () => {
    const onlyShop = loadConfig({ SITES: JSON.stringify([{ key: "shop", origins: ["https://shop.example"] }]) });
    expect(isOriginAllowedByAnySite(onlyShop, "https://shop.example")).toBe(true);
    expect(isOriginAllowedByAnySite(onlyShop, "https://evil.example")).toBe(false);
    expect(preflightHeaders("https://shop.example")).toMatchObject({
      "Access-Control-Allow-Origin": "https://shop.example",
      "Access-Control-Allow-Methods": "POST, OPTIONS",
      "Access-Control-Expose-Headers": "Retry-After",
      Vary: "Origin",
    });
  });
});
