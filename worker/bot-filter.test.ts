import { describe, expect, it } from "vitest";
import { isBotUserAgent } from "./bot-filter";

describe("isBotUserAgent", () => {
  it.each([
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
  ])("calls %s a bot", (userAgent) => {
    expect(isBotUserAgent(userAgent)).toBe(true);
  });

  it.each([
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
  ])("lets the browser %s through", (userAgent) => {
    expect(isBotUserAgent(userAgent)).toBe(false);
  });

  // isbot lists these; a backend posting events on purpose is not a crawler.
  it.each(["curl/8.5.0", "python-requests/2.32.3", "node", "undici", "Go-http-client/2.0", "axios/1.7.9"])(
    "lets the HTTP client library %s through",
    (userAgent) => {
      expect(isBotUserAgent(userAgent)).toBe(false);
    },
  );

  it("does not call a missing header a bot, and cuts a huge one", () => {
    expect(isBotUserAgent(undefined)).toBe(false);
    expect(isBotUserAgent("   ")).toBe(false);
    expect(typeof isBotUserAgent("Mozilla/5.0 (".repeat(10_000))).toBe("boolean");
  });
});
