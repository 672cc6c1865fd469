/**
 * Device class, browser and operating system from the User-Agent header, with bowser.
 * Only these three coarse fields leave this module; the header itself is never stored.
 */
import Bowser from "bowser";
import { LruCache } from "./lru-cache";

export type DeviceClass = "desktop" | "mobile" | "tablet" | "bot" | "unknown";

export interface UserAgentInfo {
  device: DeviceClass;
  /** Browser name as bowser reports it ("Chrome", "Safari", "Firefox", …), '' when unknown. */
  browser: string;
  /** OS name as bowser reports it ("Windows", "macOS", "iOS", "Android", …), '' when unknown. */
  os: string;
}

const UNKNOWN: UserAgentInfo = { device: "unknown", browser: "", os: "" };
/** Longer headers are cut before parsing so a hostile header cannot make regexes slow. */
const MAX_USER_AGENT_LENGTH = 512;
/** Crawlers bowser does not list still announce themselves. */
const GENERIC_BOT = /bot\b|crawler|spider|crawling|headless|curl\/|wget\/|python-requests|node-fetch|go-http-client/i;

function toDeviceClass(platformType: string): DeviceClass {
  switch (platformType) {
    case "desktop":
    case "mobile":
    case "tablet":
    case "bot":
      return platformType;
    default:
      // bowser's "tv" and anything it cannot place.
      return "unknown";
  }
}

/**
 * Parsed headers by string: a site's visitors send a few hundred distinct User-Agents, and
 * bowser's regexes cost far more than a lookup. Bounded, since a client can send any header.
 */
export const USER_AGENT_CACHE_SIZE = 2_000;
const parsedByHeader = new LruCache<string, UserAgentInfo>(USER_AGENT_CACHE_SIZE);

/** Device class, browser and OS of a User-Agent header; the answer is shared, never change it. */
export function parseUserAgent(header: string | null | undefined): UserAgentInfo {
  const userAgent = (header ?? "").slice(0, MAX_USER_AGENT_LENGTH).trim();
  if (userAgent === "") return UNKNOWN;
  const cached = parsedByHeader.get(userAgent);
  if (cached !== undefined) return cached;
  const info = Object.freeze(parseUncached(userAgent));
  parsedByHeader.set(userAgent, info);
  return info;
}

function parseUncached(userAgent: string): UserAgentInfo {
  let parsed: Bowser.Parser.ParsedResult;
  try {
    parsed = Bowser.parse(userAgent);
  } catch {
    return UNKNOWN;
  }
  const device = GENERIC_BOT.test(userAgent) ? "bot" : toDeviceClass(parsed.platform.type ?? "");
  return { device, browser: parsed.browser.name ?? "", os: parsed.os.name ?? "" };
}
