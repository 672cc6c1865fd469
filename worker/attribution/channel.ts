/**
 * The channel of a visit, by a fixed rule set modelled on GA4's default channel grouping
 * (https://support.google.com/analytics/answer/9756891): the first rule that matches wins, in
 * the order of CHANNEL_RULES below. Inputs are the visit's effective source, medium and
 * campaign (campaign-params.ts: explicit utm_* first, then what a click id, `ref` or the
 * referrer implies), lower-cased.
 *
 * Differences from GA4, on purpose: webmail referrers count as Email (source-categories.ts);
 * medium "newsletter" is Email too; a `ref` / referrer source without a medium is "referral".
 */
import { sourceCategoryOf, type SourceCategory } from "./source-categories";

export const CHANNELS = [
  "Direct",
  "Cross-network",
  "Paid Shopping",
  "Paid Search",
  "Paid Social",
  "Paid Video",
  "Display",
  "Paid Other",
  "Organic Shopping",
  "Organic Social",
  "Organic Video",
  "Organic Search",
  "Referral",
  "Email",
  "Affiliates",
  "Audio",
  "SMS",
  "Mobile Push Notifications",
  "Unassigned",
] as const;
export type Channel = (typeof CHANNELS)[number];

export interface ChannelInputs {
  /** Effective source: utm_source, or a click id's / `ref`'s source, or the referrer host; '' for none. */
  source: string;
  medium: string;
  campaign: string;
}

interface RuleInputs extends ChannelInputs {
  category: SourceCategory | null;
}

const PAID_MEDIUM = /^(.*cp.*|ppc|retargeting|paid.*)$/;
const SHOPPING_CAMPAIGN = /^(.*(([^a-df-z]|^)shop|shopping).*)$/;
const DISPLAY_MEDIUMS = new Set(["display", "banner", "expandable", "interstitial", "cpm"]);
const SOCIAL_MEDIUMS = new Set(["social", "social-network", "social-media", "sm", "social network", "social media"]);
const REFERRAL_MEDIUMS = new Set(["referral", "app", "link"]);
const EMAIL = /^(email|e-mail|e_mail|e mail|newsletter)$/;
const NO_VALUE = new Set(["", "(none)", "(not set)", "(direct)"]);

const isShopping = (v: RuleInputs) => v.category === "shopping" || SHOPPING_CAMPAIGN.test(v.campaign);

/** GA4's order: the first matching rule names the channel. */
const CHANNEL_RULES: ReadonlyArray<readonly [Channel, (v: RuleInputs) => boolean]> = [
  ["Direct", (v) => NO_VALUE.has(v.source) && NO_VALUE.has(v.medium)],
  ["Cross-network", (v) => v.campaign.includes("cross-network")],
  ["Paid Shopping", (v) => isShopping(v) && PAID_MEDIUM.test(v.medium)],
  ["Paid Search", (v) => v.category === "search" && PAID_MEDIUM.test(v.medium)],
  ["Paid Social", (v) => v.category === "social" && PAID_MEDIUM.test(v.medium)],
  ["Paid Video", (v) => v.category === "video" && PAID_MEDIUM.test(v.medium)],
  ["Display", (v) => DISPLAY_MEDIUMS.has(v.medium)],
  ["Paid Other", (v) => PAID_MEDIUM.test(v.medium)],
  ["Organic Shopping", isShopping],
  ["Organic Social", (v) => v.category === "social" || SOCIAL_MEDIUMS.has(v.medium)],
  ["Organic Video", (v) => v.category === "video" || v.medium.includes("video")],
  ["Organic Search", (v) => v.category === "search" || v.medium === "organic"],
  ["Email", (v) => v.category === "email" || EMAIL.test(v.source) || EMAIL.test(v.medium)],
  ["Referral", (v) => REFERRAL_MEDIUMS.has(v.medium)],
  ["Affiliates", (v) => v.medium === "affiliate" || v.medium === "affiliates"],
  ["Audio", (v) => v.medium === "audio" || v.medium === "podcast"],
  ["SMS", (v) => v.source === "sms" || v.medium === "sms"],
  [
    "Mobile Push Notifications",
    (v) =>
      v.medium.endsWith("push") ||
      v.medium.includes("mobile") ||
      v.medium.includes("notification") ||
      v.source === "firebase",
  ],
];

export function channelOf(inputs: ChannelInputs): Channel {
  const values: RuleInputs = {
    source: inputs.source.trim().toLowerCase(),
    medium: inputs.medium.trim().toLowerCase(),
    campaign: inputs.campaign.trim().toLowerCase(),
    category: sourceCategoryOf(inputs.source),
  };
  for (const [channel, matches] of CHANNEL_RULES) {
    if (matches(values)) return channel;
  }
  return "Unassigned";
}
