/**
 * Ad platforms' click ids: a landing URL carrying one says where the visitor clicked and, for
 * ad click ids, that the click was paid. The first id found in this list's order decides.
 *
 * Sources: each platform's documentation of its auto-tagging parameter (Google Ads gclid /
 * gbraid / wbraid, Campaign Manager dclid, Microsoft Advertising msclkid, TikTok ttclid,
 * LinkedIn li_fat_id, X twclid, Snapchat ScCid, Pinterest epik, Reddit rdt_cid, Yandex Direct
 * yclid, Quora qclid, impact.com irclickid).
 *
 * `fbclid` is the exception: Facebook and Instagram append it to every outbound link, posts
 * as well as ads, so it names the source but not a paid medium (GA4 does not treat it as paid
 * either). A paid Meta campaign is recognised by its `utm_medium` (paid_social, cpc, …).
 */

export interface ClickIdMeaning {
  /** The `utm_source` it implies. */
  source: string;
  /** The `utm_medium` it implies: "cpc" (paid search), "paid_social", "display", "affiliate", or "social" (fbclid). */
  medium: string;
}

export const CLICK_IDS: ReadonlyArray<readonly [parameter: string, meaning: ClickIdMeaning]> = [
  ["gclid", { source: "google", medium: "cpc" }],
  ["gbraid", { source: "google", medium: "cpc" }],
  ["wbraid", { source: "google", medium: "cpc" }],
  ["dclid", { source: "google", medium: "display" }],
  ["msclkid", { source: "bing", medium: "cpc" }],
  ["yclid", { source: "yandex", medium: "cpc" }],
  ["ttclid", { source: "tiktok", medium: "paid_social" }],
  ["li_fat_id", { source: "linkedin", medium: "paid_social" }],
  ["twclid", { source: "twitter", medium: "paid_social" }],
  ["sccid", { source: "snapchat", medium: "paid_social" }],
  ["epik", { source: "pinterest", medium: "paid_social" }],
  ["rdt_cid", { source: "reddit", medium: "paid_social" }],
  ["qclid", { source: "quora", medium: "paid_social" }],
  ["irclickid", { source: "impact", medium: "affiliate" }],
  ["fbclid", { source: "facebook", medium: "social" }],
];

/** What the first click id among `parameters` (names lower-cased) implies, or null. */
export function clickIdMeaningOf(parameters: ReadonlyMap<string, string>): ClickIdMeaning | null {
  for (const [parameter, meaning] of CLICK_IDS) {
    if ((parameters.get(parameter) ?? "") !== "") return meaning;
  }
  return null;
}
