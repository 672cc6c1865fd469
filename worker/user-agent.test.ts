import { describe, expect, it } from "vitest";
import { parseUserAgent, USER_AGENT_CACHE_SIZE } from "./user-agent";

const CHROME_WINDOWS =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const SAFARI_IPHONE =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
const SAFARI_IPAD =
  "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
const FIREFOX_ANDROID = "Mozilla/5.0 (Android 14; Mobile; rv:132.0) Gecko/132.0 Firefox/132.0";
const GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

describe("parseUserAgent", () => {
  it.each([
    [CHROME_WINDOWS, { device: "desktop", browser: "Chrome", os: "Windows" }],
    [SAFARI_IPHONE, { device: "mobile", browser: "Safari", os: "iOS" }],
    [SAFARI_IPAD, { device: "tablet", browser: "Safari", os: "iOS" }],
    [FIREFOX_ANDROID, { device: "mobile", browser: "Firefox", os: "Android" }],
    [GOOGLEBOT, { device: "bot", browser: "Googlebot", os: "" }],
  ])("classifies %s", (userAgent, expected) => {
    expect(parseUserAgent(userAgent)).toEqual(expected);
  });

  it("calls generic crawlers and scripts bots", () => {
    expect(parseUserAgent("curl/8.5.0").device).toBe("bot");
    expect(parseUserAgent("SomeCrawler/1.0 (+https://crawler.example)").device).toBe("bot");
  });

  it("answers unknown for a missing or empty header", () => {
    expect(parseUserAgent(null)).toEqual({ device: "unknown", browser: "", os: "" });
    expect(parseUserAgent("   ")).toEqual({ device: "unknown", browser: "", os: "" });
  });

  it("survives a huge hostile header", () => {
    expect(parseUserAgent("Mozilla/5.0 (".repeat(10_000)).device).toMatch(/^(desktop|mobile|tablet|bot|unknown)$/);
  });

  it("parses a header once and answers repeats from a bounded cache, the same for every caller", () => {
    const header = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0 cache-test";
    const first = parseUserAgent(header);
    expect(parseUserAgent(header)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    // A client sending endless distinct headers cannot grow the cache past its bound.
    for (let i = 0; i < USER_AGENT_CACHE_SIZE + 10; i++) parseUserAgent(`bot/${i}`);
    expect(parseUserAgent(header)).toEqual(first);
  });
});
