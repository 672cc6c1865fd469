/**
 * A page view's campaign (its `utm_*` values) and channel, from the page URL the collector
 * already receives and the referrer host: no SDK bytes.
 *
 * Effective values, the first present wins:
 * - source: `utm_source`, `ref`, `source`, the source a click id implies (click-ids.ts);
 * - medium: `utm_medium`, the medium a click id implies, "referral" when the source came from
 *   `ref` / `source`;
 * - campaign, term, content: `utm_campaign`, `utm_term`, `utm_content` only.
 * Parameter names are matched case-insensitively; source and medium are lower-cased (so
 * "Google" and "google" are one source), campaign, term and content kept as written. Each
 * value is cut to MAX_CAMPAIGN_VALUE_LENGTH. The referrer never fills a `utm_*` value (it has
 * its own column) but does count for the channel: with no campaign source, the referrer host
 * is the source and "referral" the medium, so google.com is Organic Search, a blog Referral.
 */
import { type Channel, channelOf } from "./channel";
import { clickIdMeaningOf } from "./click-ids";

export const MAX_CAMPAIGN_VALUE_LENGTH = 200;

export interface CampaignAttribution {
  utm_source: string;
  utm_medium: string;
  utm_campaign: string;
  utm_term: string;
  utm_content: string;
  channel: Channel;
}

const cut = (value: string | undefined): string => (value ?? "").trim().slice(0, MAX_CAMPAIGN_VALUE_LENGTH);

/** Query parameters by lower-cased name, the first occurrence of each; empty for an unparsable URL. */
function parametersOf(url: string): Map<string, string> {
  const parameters = new Map<string, string>();
  let search: URLSearchParams;
  try {
    search = new URL(url).searchParams;
  } catch {
    return parameters;
  }
  for (const [name, value] of search) {
    const key = name.toLowerCase();
    if (!parameters.has(key)) parameters.set(key, value);
  }
  return parameters;
}

/** The campaign and channel of a page view at `url` reached from `referrerHost` ('' when none or internal). */
export function campaignAttributionOf(url: string, referrerHost: string): CampaignAttribution {
  const parameters = parametersOf(url);
  const clickId = clickIdMeaningOf(parameters);
  const explicitSource = cut(parameters.get("utm_source")).toLowerCase();
  const refSource = cut(parameters.get("ref") || parameters.get("source")).toLowerCase();
  const source = explicitSource || refSource || clickId?.source || "";
  const explicitMedium = cut(parameters.get("utm_medium")).toLowerCase();
  const medium = explicitMedium || clickId?.medium || (explicitSource === "" && refSource !== "" ? "referral" : "");
  const campaign = cut(parameters.get("utm_campaign"));
  const channel = channelOf({
    source: source || referrerHost,
    medium: medium || (source === "" && referrerHost !== "" ? "referral" : ""),
    campaign,
  });
  return {
    utm_source: source,
    utm_medium: medium,
    utm_campaign: campaign,
    utm_term: cut(parameters.get("utm_term")),
    utm_content: cut(parameters.get("utm_content")),
    channel,
  };
}
