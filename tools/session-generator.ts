/**
 * Realistic e-commerce sessions, pure and seeded: the same options give the same sessions.
 *
 * Used by the load generator, the benchmarks and the demo traffic. Shape of the traffic:
 * sessions arrive as a Poisson process; a session views a geometric number of pages; product
 * pages follow Zipf popularity; some views add to the cart, some carts check out, some
 * checkouts purchase; every page reports Web Vitals drawn from log-normal distributions (CLS
 * mostly near zero); landing pages carry a referrer. Visitors and sessions carry explicit ids
 * so the collector spreads them over its shards the way it would spread real visitors.
 */
import type { BatchInput, EventInput, VitalMetric } from "../protocol";
import { MAX_EVENTS_PER_BATCH } from "../protocol";
import { SeededRandom, ZipfDistribution } from "./seeded-random";

export interface Product {
  id: string;
  name: string;
  category: string;
  /** Unit price in the catalogue currency. */
  price: number;
}

/** Probabilities and timings of shopper behaviour; every field has a realistic default. */
export interface ShopBehaviour {
  /** Mean pages per session (geometric, at least 1). */
  meanPagesPerSession: number;
  /** Share of pages after the first that are product pages. */
  productPageShare: number;
  /** Probability that a product view adds the product to the cart. */
  cartAddRate: number;
  /** Probability that a visit to the cart page removes one item. */
  cartRemoveRate: number;
  /** Probability that a session ending with a non-empty cart checks out. */
  checkoutRate: number;
  /** Probability that a checkout becomes a purchase. */
  purchaseRate: number;
  /** Probability that a page had an interaction (and so reports INP). */
  interactionRate: number;
  /** Median time on a page, ms (log-normal). */
  medianDwellMs: number;
}

/** A desktop Chrome's User-Agent, for tools posting outside a generated session (a bot's is refused, worker/bot-filter.ts). */
export const BROWSER_USER_AGENT =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

export const DEFAULT_SHOP_BEHAVIOUR: ShopBehaviour = {
  meanPagesPerSession: 5,
  productPageShare: 0.5,
  cartAddRate: 0.12,
  cartRemoveRate: 0.2,
  checkoutRate: 0.45,
  purchaseRate: 0.65,
  interactionRate: 0.7,
  medianDwellMs: 20_000,
};

export interface SessionGeneratorOptions {
  seed?: number;
  /**
   * Prefix of every session, batch and order id. Give each run its own (the load generator
   * does): the collector dedups batch ids for a day, so two runs with the same ids would
   * count once.
   */
  runId?: string;
  /** Site keys; traffic is skewed towards the first ones (weights 1/(k+1)^0.8). */
  sites?: readonly string[];
  /** Distinct visitors per site. */
  visitorsPerSite?: number;
  /** Catalogue size. */
  products?: number;
  /** Zipf exponent of product popularity. */
  zipfExponent?: number;
  /** Poisson arrival rate of new sessions, for `nextArrivalGapMs`. */
  sessionsPerSecond?: number;
  currency?: string;
  behaviour?: Partial<ShopBehaviour>;
}

export interface GeneratedSession {
  site: string;
  visitor: string;
  session: string;
  userAgent: string;
  /** Where the session came from (landing page referrer), if anywhere. */
  referrer: string | undefined;
  startedAt: number;
  /** Timestamp of the last event. */
  endedAt: number;
  /** In time order; ids unique within the session. */
  events: EventInput[];
}

interface UserAgentProfile {
  userAgent: string;
  /** Multiplies timings: phones load slower. */
  slowdown: number;
}

const USER_AGENTS: readonly (readonly [UserAgentProfile, number])[] = [
  [
    {
      userAgent:
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
      slowdown: 1,
    },
    30,
  ],
  [
    {
      userAgent:
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
      slowdown: 1,
    },
    10,
  ],
  [
    {
      userAgent:
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
      slowdown: 1.4,
    },
    25,
  ],
  [
    {
      userAgent:
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
      slowdown: 1.6,
    },
    22,
  ],
  [{ userAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", slowdown: 1 }, 5],
  [
    {
      userAgent:
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
      slowdown: 1,
    },
    5,
  ],
  [
    {
      userAgent:
        "Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
      slowdown: 1.2,
    },
    3,
  ],
];

/**
 * Where sessions come from: the landing page's referrer (`undefined`: none) and the query its
 * URL carries (campaign tags, ad click ids), so the demo shows every kind of channel
 * (worker/attribution/channel.ts) and several campaigns.
 */
interface Arrival {
  referrer: string | undefined;
  query: string;
}
const ARRIVALS: readonly (readonly [Arrival, number])[] = [
  [{ referrer: undefined, query: "" }, 30],
  [{ referrer: "https://www.google.com/", query: "" }, 25],
  [
    {
      referrer: "https://www.google.com/",
      query: "utm_source=google&utm_medium=cpc&utm_campaign=spring-sale&utm_term=ceramic+mug&gclid=EAIaIQobChMI",
    },
    6,
  ],
  [{ referrer: "https://www.bing.com/", query: "" }, 4],
  [{ referrer: "https://www.bing.com/", query: "msclkid=4f1c2a9e" }, 2],
  [{ referrer: "https://duckduckgo.com/", query: "" }, 3],
  [{ referrer: "https://l.facebook.com/", query: "fbclid=IwAR2x" }, 5],
  [
    {
      referrer: "https://l.facebook.com/",
      query: "utm_source=facebook&utm_medium=paid_social&utm_campaign=spring-sale&utm_content=carousel",
    },
    4,
  ],
  [{ referrer: "https://www.instagram.com/", query: "" }, 3],
  [
    {
      referrer: "https://l.instagram.com/",
      query: "utm_source=instagram&utm_medium=paid_social&utm_campaign=new-arrivals&utm_content=reel",
    },
    3,
  ],
  [{ referrer: "https://t.co/", query: "" }, 2],
  [{ referrer: "https://news.ycombinator.com/", query: "" }, 2],
  [{ referrer: "https://www.youtube.com/", query: "" }, 2],
  [{ referrer: undefined, query: "utm_source=newsletter&utm_medium=email&utm_campaign=june-drop&utm_content=hero" }, 5],
  [
    {
      referrer: "https://deals-blog.example/",
      query: "utm_source=deals-blog&utm_medium=affiliate&utm_campaign=summer-deals",
    },
    2,
  ],
  [{ referrer: "https://ads.example/", query: "utm_source=adnetwork&utm_medium=display&utm_campaign=retargeting" }, 2],
  [{ referrer: "https://blog.example.org/", query: "" }, 2],
  [{ referrer: undefined, query: "utm_source=sms&utm_campaign=flash-sale" }, 1],
];

const CATEGORIES = ["mugs", "lamps", "chairs", "rugs", "plants", "posters", "bags", "socks"] as const;
const COLOURS = ["Blue", "Red", "Green", "Black", "White", "Amber", "Teal", "Grey", "Olive", "Coral"] as const;
const MATERIALS = ["ceramic", "oak", "wool", "linen", "steel", "cotton", "clay"] as const;

/** Upper bound on pages, so one unlucky draw cannot make a session of thousands of events. */
const MAX_PAGES = 40;
const MAX_DWELL_MS = 10 * 60_000;

function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

/** The catalogue is a function of the seed alone, so every run of a seed sells the same products. */
function buildCatalogue(size: number, seed: number): Product[] {
  const random = new SeededRandom(seed ^ 0x5eed_ca7a);
  return Array.from({ length: size }, (_, rank) => {
    const category = CATEGORIES[rank % CATEGORIES.length] ?? "mugs";
    const colour = COLOURS[Math.floor(rank / CATEGORIES.length) % COLOURS.length] ?? "Blue";
    const material = MATERIALS[Math.floor(rank / (CATEGORIES.length * COLOURS.length)) % MATERIALS.length] ?? "oak";
    // Prices cluster around 30 with a long tail, and end in .99 like shop prices do.
    const price = Math.max(1, Math.floor(random.logNormal(30, 0.8))) - 0.01;
    return {
      id: `sku-${rank + 1}`,
      name: `${colour} ${material} ${category.slice(0, -1)}`,
      category,
      price: round(price, 2),
    };
  });
}

export class SessionGenerator {
  readonly catalogue: readonly Product[];
  readonly sites: readonly string[];
  private readonly random: SeededRandom;
  private readonly popularity: ZipfDistribution;
  private readonly siteWeights: readonly (readonly [string, number])[];
  private readonly behaviour: ShopBehaviour;
  private readonly visitorsPerSite: number;
  private readonly sessionsPerSecond: number;
  private readonly currency: string;
  private readonly runId: string;
  private sessionCounter = 0;

  constructor(options: SessionGeneratorOptions = {}) {
    const seed = options.seed ?? 1;
    this.random = new SeededRandom(seed);
    this.sites = options.sites ?? ["demo"];
    if (this.sites.length === 0) throw new RangeError("at least one site is needed");
    this.siteWeights = this.sites.map((site, rank) => [site, 1 / (rank + 1) ** 0.8] as const);
    this.catalogue = buildCatalogue(options.products ?? 500, seed);
    this.popularity = new ZipfDistribution(this.catalogue.length, options.zipfExponent ?? 1.1);
    this.behaviour = { ...DEFAULT_SHOP_BEHAVIOUR, ...options.behaviour };
    this.visitorsPerSite = options.visitorsPerSite ?? 50_000;
    this.sessionsPerSecond = options.sessionsPerSecond ?? 1;
    this.currency = options.currency ?? "EUR";
    this.runId = options.runId ?? `r${seed.toString(36)}`;
    if (!/^[A-Za-z0-9_.:@-]{1,40}$/.test(this.runId)) throw new RangeError("runId must be 1–40 id characters");
  }

  /** Gap to the next session's arrival (Poisson process at `sessionsPerSecond`), ms. */
  nextArrivalGapMs(): number {
    return this.random.exponential(1000 / this.sessionsPerSecond);
  }

  /** A whole session starting at `startedAt` (ms since the epoch). */
  nextSession(startedAt: number): GeneratedSession {
    const random = this.random;
    const behaviour = this.behaviour;
    const site = random.weighted(this.siteWeights);
    const visitor = `v-${site}-${random.int(0, this.visitorsPerSite - 1).toString(36)}`;
    const session = `s-${this.runId}-${(this.sessionCounter++).toString(36)}`;
    const device = random.weighted(USER_AGENTS);
    const arrival = random.weighted(ARRIVALS);
    const referrer = arrival.referrer;
    let landingQuery = arrival.query;
    const origin = `https://${site}.example`;
    const events: EventInput[] = [];
    const cart = new Map<string, { product: Product; quantity: number }>();
    let eventCounter = 0;
    const nextId = (): string => `e${(eventCounter++).toString(36)}`;
    let now = startedAt;
    let previousUrl = referrer;

    const visit = (path: string, title: string): string => {
      // Only the landing page carries the campaign's query, as a link in an ad or an email does.
      const url = `${origin}${path}${landingQuery === "" ? "" : `?${landingQuery}`}`;
      landingQuery = "";
      events.push({
        type: "page_view",
        id: nextId(),
        ts: Math.round(now),
        url,
        ...(previousUrl ? { referrer: previousUrl } : {}),
        title,
      });
      previousUrl = url;
      return url;
    };
    const vital = (url: string, metric: VitalMetric, value: number, at: number): void => {
      events.push({ type: "vital", id: nextId(), ts: Math.round(at), url, metric, value });
    };
    /** Loads a page, reports its vitals, lets `during` act on it, and moves the clock past it. */
    const page = (path: string, title: string, during?: (url: string, dwell: number) => void): void => {
      const url = visit(path, title);
      const slow = device.slowdown;
      const ttfb = random.logNormal(280, 0.6) * slow;
      const fcp = ttfb + random.logNormal(650, 0.5) * slow;
      const lcp = fcp + random.logNormal(450, 0.8) * slow;
      vital(url, "TTFB", round(ttfb, 1), now + ttfb);
      vital(url, "FCP", round(fcp, 1), now + fcp);
      vital(url, "LCP", round(lcp, 1), now + lcp);
      const dwell = Math.min(MAX_DWELL_MS, Math.max(lcp + 200, random.logNormal(behaviour.medianDwellMs, 0.9)));
      during?.(url, dwell);
      // CLS and INP are final only when the page is hidden, so they are sent at its end.
      const cls = random.chance(0.75) ? random.exponential(0.02) : random.logNormal(0.12, 0.7);
      vital(url, "CLS", round(Math.min(cls, 5), 4), now + dwell - 50);
      if (random.chance(behaviour.interactionRate))
        vital(url, "INP", round(random.logNormal(110, 0.7) * slow, 1), now + dwell - 40);
      now += dwell;
    };
    const productPage = (product: Product): void => {
      page(`/p/${product.id}`, product.name, (url, dwell) => {
        events.push({
          type: "custom",
          id: nextId(),
          ts: Math.round(now + 300),
          name: "product_view",
          url,
          props: { product_id: product.id, name: product.name },
        });
        if (random.chance(behaviour.cartAddRate)) {
          const quantity = Math.min(5, random.geometric(0.7));
          const line = cart.get(product.id);
          cart.set(product.id, { product, quantity: (line?.quantity ?? 0) + quantity });
          events.push({
            type: "cart",
            id: nextId(),
            ts: Math.round(now + dwell * 0.6),
            action: "add",
            product_id: product.id,
            name: product.name,
            price: product.price,
            quantity,
            currency: this.currency,
          });
        }
      });
    };
    const pickProduct = (): Product => this.catalogue[this.popularity.sample(random)] as Product;

    const pages = Math.min(MAX_PAGES, random.geometric(1 / behaviour.meanPagesPerSession));
    for (let index = 0; index < pages; index++) {
      const roll = random.next();
      if (index === 0 ? roll < 0.35 : roll < behaviour.productPageShare) {
        productPage(pickProduct());
      } else if (index === 0 ? roll < 0.7 : roll < behaviour.productPageShare + 0.25) {
        const category = random.pick(CATEGORIES);
        page(`/c/${category}`, `All ${category}`);
      } else if (cart.size > 0 && random.chance(0.5)) {
        page("/cart", "Your cart", (_url, dwell) => {
          if (!random.chance(behaviour.cartRemoveRate)) return;
          const [productId, line] = [...cart.entries()][random.int(0, cart.size - 1)] ?? [];
          if (productId === undefined || line === undefined) return;
          cart.delete(productId);
          events.push({
            type: "cart",
            id: nextId(),
            ts: Math.round(now + dwell * 0.5),
            action: "remove",
            product_id: productId,
            name: line.product.name,
            price: line.product.price,
            quantity: line.quantity,
            currency: this.currency,
          });
        });
      } else {
        page(index === 0 ? "/" : `/search?q=${random.pick(COLOURS).toLowerCase()}`, index === 0 ? "Shop" : "Search");
      }
    }

    if (cart.size > 0 && random.chance(behaviour.checkoutRate)) {
      const lines = [...cart.values()];
      const value = round(
        lines.reduce((sum, line) => sum + line.product.price * line.quantity, 0),
        2,
      );
      page("/checkout", "Checkout", (_url, dwell) => {
        events.push({
          type: "cart",
          id: nextId(),
          ts: Math.round(now + 200),
          action: "checkout",
          value,
          currency: this.currency,
        });
        if (!random.chance(behaviour.purchaseRate)) return;
        events.push({
          type: "purchase",
          id: nextId(),
          ts: Math.round(now + dwell * 0.8),
          order_id: `o-${session}`,
          value,
          currency: this.currency,
          items: lines.map((line) => ({
            product_id: line.product.id,
            name: line.product.name,
            price: line.product.price,
            quantity: line.quantity,
          })),
        });
      });
    }

    events.sort((left, right) => left.ts - right.ts);
    const last = events[events.length - 1];
    return {
      site,
      visitor,
      session,
      userAgent: device.userAgent,
      referrer,
      startedAt,
      endedAt: last?.ts ?? startedAt,
      events,
    };
  }
}

export interface BatchingOptions {
  /** Flush when the queue holds this many events (the SDK's count trigger). Default 20. */
  maxEvents?: number;
  /** Also flush when a page is left (the SDK's pagehide trigger), giving smaller batches. */
  flushOnPageHide?: boolean;
  /** Send the session id explicitly (the npm API can); otherwise the collector assigns one. */
  includeSession?: boolean;
}

/**
 * Splits a session's events into the batches the SDK would send, in order. Batch ids derive
 * from the session id, so they are unique per run; `sent_at` is the last event's time.
 */
export function sessionToBatches(session: GeneratedSession, options: BatchingOptions = {}): BatchInput[] {
  const maxEvents = Math.min(options.maxEvents ?? 20, MAX_EVENTS_PER_BATCH);
  const groups: EventInput[][] = [];
  let current: EventInput[] = [];
  for (const event of session.events) {
    if (
      current.length > 0 &&
      (current.length >= maxEvents || (options.flushOnPageHide === true && event.type === "page_view"))
    ) {
      groups.push(current);
      current = [];
    }
    current.push(event);
  }
  if (current.length > 0) groups.push(current);
  return groups.map((events, index) => ({
    v: 1,
    site: session.site,
    batch: `${session.session}-b${index}`,
    sent_at: events[events.length - 1]?.ts ?? session.startedAt,
    visitor: session.visitor,
    ...(options.includeSession === false ? {} : { session: session.session }),
    events,
  }));
}

/**
 * The batch as if sent at `sentAt`: its last event happened just then and the others keep
 * their order and spacing, squeezed into at most `maxSpanMs`. Replaying recorded sessions
 * this way keeps every event inside the collector's accepted time range and its windows
 * current, whatever the session's real length was.
 */
export function rebaseBatch(batch: BatchInput, sentAt: number, maxSpanMs = 2_000): BatchInput {
  const first = batch.events[0]?.ts ?? sentAt;
  const last = batch.events[batch.events.length - 1]?.ts ?? sentAt;
  const span = last - first;
  const scale = span > maxSpanMs ? maxSpanMs / span : 1;
  return {
    ...batch,
    sent_at: sentAt,
    events: batch.events.map((event) => ({ ...event, ts: Math.round(sentAt - (last - event.ts) * scale) })),
  };
}
