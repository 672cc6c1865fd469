import { describe, expect, it } from "vitest";
import { campaignAttributionOf, MAX_CAMPAIGN_VALUE_LENGTH } from "./campaign-params";
import { CHANNELS } from "./channel";

const page = (query: string) => `https://shop.example/p/42${query === "" ? "" : `?${query}`}`;

// [what, url query, referrer host, channel, effective utm_source, effective utm_medium]
const CASES: ReadonlyArray<readonly [string, string, string, string, string, string]> = [
  // No campaign, no referrer.
  ["typed URL", "", "", "Direct", "", ""],
  ["campaign without source or medium", "utm_campaign=spring", "", "Direct", "", ""],
  ["explicit (direct)/(none)", "utm_source=(direct)&utm_medium=(none)", "", "Direct", "(direct)", "(none)"],
  // Referrer only.
  ["google search", "", "www.google.com", "Organic Search", "", ""],
  ["google country domain", "", "www.google.co.uk", "Organic Search", "", ""],
  ["bing", "", "www.bing.com", "Organic Search", "", ""],
  ["duckduckgo", "", "duckduckgo.com", "Organic Search", "", ""],
  ["yandex country domain", "", "yandex.ru", "Organic Search", "", ""],
  ["ecosia", "", "www.ecosia.org", "Organic Search", "", ""],
  ["facebook link shim", "", "l.facebook.com", "Organic Social", "", ""],
  ["x short links", "", "t.co", "Organic Social", "", ""],
  ["linkedin", "", "www.linkedin.com", "Organic Social", "", ""],
  ["reddit", "", "old.reddit.com", "Organic Social", "", ""],
  ["hacker news", "", "news.ycombinator.com", "Organic Social", "", ""],
  ["youtube", "", "m.youtube.com", "Organic Video", "", ""],
  ["amazon", "", "www.amazon.de", "Organic Shopping", "", ""],
  ["gmail web", "", "mail.google.com", "Email", "", ""],
  ["outlook web", "", "outlook.live.com", "Email", "", ""],
  ["a blog", "", "blog.example.org", "Referral", "", ""],
  // Explicit UTM.
  ["google cpc", "utm_source=google&utm_medium=cpc&utm_campaign=brand", "", "Paid Search", "google", "cpc"],
  ["bing ppc", "utm_source=bing&utm_medium=ppc", "", "Paid Search", "bing", "ppc"],
  [
    "facebook paid_social",
    "utm_source=facebook&utm_medium=paid_social",
    "l.facebook.com",
    "Paid Social",
    "facebook",
    "paid_social",
  ],
  ["instagram cpc", "utm_source=ig&utm_medium=cpc", "", "Paid Social", "ig", "cpc"],
  ["youtube cpv", "utm_source=youtube&utm_medium=cpv", "", "Paid Video", "youtube", "cpv"],
  ["display banner", "utm_source=partner-network&utm_medium=banner", "", "Display", "partner-network", "banner"],
  ["display cpm", "utm_source=gdn&utm_medium=cpm", "", "Display", "gdn", "cpm"],
  ["paid, unknown source", "utm_source=adnetwork&utm_medium=paid", "", "Paid Other", "adnetwork", "paid"],
  ["retargeting", "utm_source=criteo&utm_medium=retargeting", "", "Paid Other", "criteo", "retargeting"],
  [
    "shopping campaign, paid",
    "utm_source=google&utm_medium=cpc&utm_campaign=Shopping-Winter",
    "",
    "Paid Shopping",
    "google",
    "cpc",
  ],
  ["shopping source, organic", "utm_source=amazon&utm_medium=listing", "", "Organic Shopping", "amazon", "listing"],
  [
    "cross-network campaign",
    "utm_source=google&utm_medium=cpc&utm_campaign=pmax-cross-network",
    "",
    "Cross-network",
    "google",
    "cpc",
  ],
  [
    "social medium",
    "utm_source=mastodon.example&utm_medium=social",
    "",
    "Organic Social",
    "mastodon.example",
    "social",
  ],
  ["organic medium", "utm_source=someengine&utm_medium=organic", "", "Organic Search", "someengine", "organic"],
  ["video medium", "utm_source=partner&utm_medium=video", "", "Organic Video", "partner", "video"],
  ["newsletter email", "utm_source=newsletter&utm_medium=email&utm_campaign=june", "", "Email", "newsletter", "email"],
  ["e-mail source", "utm_source=e-mail", "", "Email", "e-mail", ""],
  [
    "affiliate",
    "utm_source=partner-blog&utm_medium=affiliate&utm_campaign=summer",
    "",
    "Affiliates",
    "partner-blog",
    "affiliate",
  ],
  ["audio", "utm_source=spotify&utm_medium=audio", "", "Audio", "spotify", "audio"],
  ["sms", "utm_source=sms&utm_campaign=flash-sale", "", "SMS", "sms", ""],
  ["push", "utm_source=app&utm_medium=web-push", "", "Mobile Push Notifications", "app", "web-push"],
  ["referral medium", "utm_source=partner.example&utm_medium=referral", "", "Referral", "partner.example", "referral"],
  ["unknown source, no medium", "utm_source=flyer", "", "Unassigned", "flyer", ""],
  ["unknown medium", "utm_source=flyer&utm_medium=print", "", "Unassigned", "flyer", "print"],
  ["names any case, source lower-cased", "UTM_SOURCE=Google&Utm_Medium=CPC", "", "Paid Search", "google", "cpc"],
  [
    "utm beats the referrer",
    "utm_source=newsletter&utm_medium=email",
    "www.google.com",
    "Email",
    "newsletter",
    "email",
  ],
  // Click ids.
  ["gclid", "gclid=Cj0KCQ", "www.google.com", "Paid Search", "google", "cpc"],
  ["gbraid", "gbraid=0AAAA", "", "Paid Search", "google", "cpc"],
  ["wbraid", "wbraid=CkQK", "", "Paid Search", "google", "cpc"],
  ["msclkid", "msclkid=abc123", "www.bing.com", "Paid Search", "bing", "cpc"],
  ["dclid", "dclid=CJ7", "", "Display", "google", "display"],
  ["ttclid", "ttclid=E.C.P", "", "Paid Social", "tiktok", "paid_social"],
  ["li_fat_id", "li_fat_id=1234", "", "Paid Social", "linkedin", "paid_social"],
  ["twclid", "twclid=2-abc", "t.co", "Paid Social", "twitter", "paid_social"],
  ["ScCid", "ScCid=xyz", "", "Paid Social", "snapchat", "paid_social"],
  ["fbclid is not paid by itself", "fbclid=IwAR0", "l.facebook.com", "Organic Social", "facebook", "social"],
  [
    "fbclid with a paid medium",
    "fbclid=IwAR0&utm_medium=paid_social&utm_campaign=retarget",
    "",
    "Paid Social",
    "facebook",
    "paid_social",
  ],
  [
    "utm_source with gclid keeps its source, takes the medium",
    "utm_source=google&gclid=x",
    "",
    "Paid Search",
    "google",
    "cpc",
  ],
  ["empty click id is none", "gclid=", "", "Direct", "", ""],
  // ref / source.
  ["ref=producthunt", "ref=producthunt", "", "Organic Social", "producthunt", "referral"],
  ["ref=some blog", "ref=coolblog", "", "Referral", "coolblog", "referral"],
  ["source=newsletter", "source=newsletter", "", "Email", "newsletter", "referral"],
  ["source=partner", "source=partner", "", "Referral", "partner", "referral"],
  ["utm_source beats ref", "utm_source=bing&utm_medium=cpc&ref=coolblog", "", "Paid Search", "bing", "cpc"],
];

describe("campaignAttributionOf", () => {
  it("has a table of at least 40 cases", () => expect(CASES.length).toBeGreaterThanOrEqual(40));

  it.each(CASES)("%s", (_what, query, referrerHost, channel, source, medium) => {
    const attribution = campaignAttributionOf(page(query), referrerHost);
    expect(attribution.channel).toBe(channel);
    expect(attribution.utm_source).toBe(source);
    expect(attribution.utm_medium).toBe(medium);
    expect(CHANNELS).toContain(attribution.channel);
  });

  it("keeps campaign, term and content as written", () => {
    expect(
      campaignAttributionOf(
        page("utm_source=google&utm_medium=cpc&utm_campaign=Spring%20Sale&utm_term=blue+mug&utm_content=ad-B"),
        "",
      ),
    ).toEqual({
      utm_source: "google",
      utm_medium: "cpc",
      utm_campaign: "Spring Sale",
      utm_term: "blue mug",
      utm_content: "ad-B",
      channel: "Paid Search",
    });
  });

  it("takes the first of a repeated parameter and cuts long values", () => {
    const long = "x".repeat(1000);
    const attribution = campaignAttributionOf(page(`utm_campaign=first&utm_campaign=second&utm_term=${long}`), "");
    expect(attribution.utm_campaign).toBe("first");
    expect(attribution.utm_term).toHaveLength(MAX_CAMPAIGN_VALUE_LENGTH);
  });

  it("answers Direct with no values for an unparsable or empty URL", () => {
    for (const url of ["", "not a url", "https://"]) {
      expect(campaignAttributionOf(url, "")).toEqual({
        utm_source: "",
        utm_medium: "",
        utm_campaign: "",
        utm_term: "",
        utm_content: "",
        channel: "Direct",
      });
    }
  });
});
