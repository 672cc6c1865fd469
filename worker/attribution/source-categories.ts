/**
 * The maintained list of traffic sources the channel rules (channel.ts) need to know by kind:
 * search engines, social networks, video sites, shopping sites and webmail. A source is either
 * a `utm_source` name ("google", "fb", "newsletter") or a host (a referrer, "l.facebook.com").
 *
 * Where the entries come from (review them when a rule misfires, add a line, add a test):
 * - GA4's "source categories" list behind its default channel grouping
 *   (https://support.google.com/analytics/answer/9756891, the downloadable list of sources
 *   in the categories SOURCE_CATEGORY_SEARCH / _SOCIAL / _VIDEO / _SHOPPING);
 * - the search engines and social networks Plausible and Matomo recognise
 *   (plausible/analytics `referer_parser` data, matomo-org/searchengine-and-social-list);
 * - webmail hosts (an EdgePulse addition: GA4 has no email source category, but a click from
 *   mail.google.com is an email visit, not a Google search).
 *
 * `google.*` stands for every country domain of one name (google.de, google.co.uk,
 * google.com.br). A host matches its own entry or the entry of any parent domain
 * (m.facebook.com → facebook.com), the most specific first: mail.google.com is webmail
 * before google.* is search.
 */

export type SourceCategory = "search" | "social" | "video" | "shopping" | "email";

interface SourceEntry {
  category: SourceCategory;
  /** `utm_source` values, lower case. */
  names: readonly string[];
  /** Hosts or `name.*` patterns, lower case, no `www.`. */
  domains: readonly string[];
}

const SOURCES: readonly SourceEntry[] = [
  // Search engines.
  { category: "search", names: ["google"], domains: ["google.*", "googleadservices.com"] },
  { category: "search", names: ["bing"], domains: ["bing.com", "cn.bing.com"] },
  { category: "search", names: ["yahoo"], domains: ["search.yahoo.com", "yahoo.*"] },
  { category: "search", names: ["duckduckgo", "ddg"], domains: ["duckduckgo.com"] },
  { category: "search", names: ["baidu"], domains: ["baidu.com"] },
  { category: "search", names: ["yandex"], domains: ["yandex.*", "ya.ru"] },
  { category: "search", names: ["ecosia"], domains: ["ecosia.org"] },
  { category: "search", names: ["qwant"], domains: ["qwant.com"] },
  { category: "search", names: ["startpage"], domains: ["startpage.com"] },
  { category: "search", names: ["brave"], domains: ["search.brave.com"] },
  { category: "search", names: ["naver"], domains: ["naver.com"] },
  { category: "search", names: ["daum"], domains: ["daum.net"] },
  { category: "search", names: ["seznam"], domains: ["seznam.cz"] },
  { category: "search", names: ["sogou"], domains: ["sogou.com"] },
  { category: "search", names: ["so.com", "360"], domains: ["so.com"] },
  { category: "search", names: ["ask"], domains: ["ask.com"] },
  { category: "search", names: ["aol"], domains: ["search.aol.com"] },
  { category: "search", names: ["kagi"], domains: ["kagi.com"] },
  { category: "search", names: ["mojeek"], domains: ["mojeek.com"] },
  { category: "search", names: ["petal"], domains: ["petalsearch.com"] },
  // Social networks.
  {
    category: "social",
    names: ["facebook", "fb", "meta"],
    domains: ["facebook.com", "fb.com", "fb.me", "messenger.com"],
  },
  { category: "social", names: ["instagram", "ig"], domains: ["instagram.com"] },
  { category: "social", names: ["twitter", "x", "tw"], domains: ["twitter.com", "x.com", "t.co"] },
  { category: "social", names: ["linkedin", "li"], domains: ["linkedin.com", "lnkd.in"] },
  { category: "social", names: ["pinterest"], domains: ["pinterest.*", "pin.it"] },
  { category: "social", names: ["reddit"], domains: ["reddit.com", "redd.it"] },
  { category: "social", names: ["tiktok"], domains: ["tiktok.com"] },
  { category: "social", names: ["snapchat"], domains: ["snapchat.com"] },
  { category: "social", names: ["threads"], domains: ["threads.net", "threads.com"] },
  { category: "social", names: ["bluesky", "bsky"], domains: ["bsky.app"] },
  { category: "social", names: ["mastodon"], domains: ["mastodon.social", "mastodon.online"] },
  { category: "social", names: ["hackernews", "hn"], domains: ["news.ycombinator.com"] },
  { category: "social", names: ["tumblr"], domains: ["tumblr.com"] },
  { category: "social", names: ["vk"], domains: ["vk.com"] },
  { category: "social", names: ["weibo"], domains: ["weibo.com"] },
  { category: "social", names: ["quora"], domains: ["quora.com"] },
  { category: "social", names: ["discord"], domains: ["discord.com", "discord.gg"] },
  { category: "social", names: ["telegram"], domains: ["t.me", "telegram.org"] },
  { category: "social", names: ["whatsapp"], domains: ["whatsapp.com", "wa.me"] },
  { category: "social", names: ["line"], domains: ["line.me"] },
  { category: "social", names: ["xing"], domains: ["xing.com"] },
  { category: "social", names: ["producthunt"], domains: ["producthunt.com"] },
  // Video sites.
  { category: "video", names: ["youtube", "yt"], domains: ["youtube.com", "youtu.be"] },
  { category: "video", names: ["vimeo"], domains: ["vimeo.com"] },
  { category: "video", names: ["twitch"], domains: ["twitch.tv"] },
  { category: "video", names: ["dailymotion"], domains: ["dailymotion.com"] },
  // Shopping sites.
  { category: "shopping", names: ["google shopping", "google_shopping"], domains: ["shopping.google.com"] },
  { category: "shopping", names: ["amazon"], domains: ["amazon.*"] },
  { category: "shopping", names: ["ebay"], domains: ["ebay.*"] },
  { category: "shopping", names: ["etsy"], domains: ["etsy.com"] },
  { category: "shopping", names: ["walmart"], domains: ["walmart.com"] },
  { category: "shopping", names: ["idealo"], domains: ["idealo.*"] },
  { category: "shopping", names: ["shopify"], domains: ["shop.app"] },
  // Webmail (see the module comment).
  {
    category: "email",
    names: ["email", "e-mail", "e_mail", "e mail"],
    domains: [
      "mail.google.com",
      "outlook.live.com",
      "outlook.office.com",
      "outlook.office365.com",
      "mail.yahoo.com",
      "mail.aol.com",
      "mail.proton.me",
      "mail.yandex.ru",
    ],
  },
];

const byName = new Map<string, SourceCategory>();
const byDomain = new Map<string, SourceCategory>();
for (const entry of SOURCES) {
  for (const name of entry.names) byName.set(name, entry.category);
  for (const domain of entry.domains) byDomain.set(domain, entry.category);
}

/** `label.tld` or `label.sld.tld` with short country / generic tails: google.de, google.co.uk, google.com.br. */
const COUNTRY_DOMAIN = /^([a-z0-9-]+)\.((?:[a-z]{2,3}\.)?[a-z]{2,4})$/;

function categoryOfDomain(domain: string): SourceCategory | null {
  const exact = byDomain.get(domain);
  if (exact !== undefined) return exact;
  const match = COUNTRY_DOMAIN.exec(domain);
  return match === null ? null : (byDomain.get(`${match[1]}.*`) ?? null);
}

/**
 * The category of a source name or host, or null for a source the list does not know
 * (a blog, a partner site: Referral or Unassigned by the channel rules).
 */
export function sourceCategoryOf(source: string): SourceCategory | null {
  const normalised = source
    .trim()
    .toLowerCase()
    .replace(/^www\./, "");
  if (normalised === "") return null;
  const named = byName.get(normalised);
  if (named !== undefined) return named;
  // A host: itself, then each parent domain (the most specific entry wins).
  const labels = normalised.split(".");
  for (let start = 0; start < labels.length - 1; start++) {
    const category = categoryOfDomain(labels.slice(start).join("."));
    if (category !== null) return category;
  }
  return null;
}
