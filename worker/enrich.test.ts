import { describe, expect, it } from "vitest";
import { batchSchema, MAX_EVENT_AGE_MS, MAX_EVENT_FUTURE_MS, type BatchInput } from "../protocol";
import { enrichBatch, pathOf, referrerHostOf } from "./enrich";
import { ApiError } from "./errors";

const RECEIVED_AT = Date.UTC(2026, 10, 23, 10, 0, 0);
const context = {
  receivedAt: RECEIVED_AT,
  visitorId: "v-abc",
  shard: 3,
  country: "DE",
  userAgent: { device: "mobile", browser: "Safari", os: "iOS" } as const,
};

function batch(input: Partial<BatchInput> = {}): BatchInput {
  return {
    v: 1,
    site: "demo",
    batch: "b-1",
    sent_at: RECEIVED_AT,
    events: [{ type: "page_view", id: "e1", ts: RECEIVED_AT - 1000, url: "https://shop.example/p/42?x=1#top" }],
    ...input,
  };
}

const parse = (input: BatchInput) => batchSchema.parse(input);

describe("enrichBatch", () => {
  it("copies batch fields and the request's context", () => {
    const enriched = enrichBatch(parse(batch({ session: "s-1" })), context);
    expect(enriched).toMatchObject({
      site: "demo",
      shard: 3,
      batch_id: "b-1",
      received_at: RECEIVED_AT,
      visitor_id: "v-abc",
      session_id: "s-1",
      country: "DE",
      device: "mobile",
      browser: "Safari",
      os: "iOS",
    });
    expect(enrichBatch(parse(batch()), context).session_id).toBeNull();
  });

  it("corrects client clock skew: ts += received_at - sent_at", () => {
    // The client clock is an hour behind.
    const hour = 3_600_000;
    const enriched = enrichBatch(
      parse(
        batch({
          sent_at: RECEIVED_AT - hour,
          events: [{ type: "page_view", id: "e1", ts: RECEIVED_AT - hour - 500, url: "https://a/" }],
        }),
      ),
      context,
    );
    expect(enriched.events[0]?.ts).toBe(RECEIVED_AT - 500);
  });

  it("refuses events too old or too far in the future, naming their paths", () => {
    const input = batch({
      events: [
        { type: "page_view", id: "e1", ts: RECEIVED_AT, url: "https://a/" },
        { type: "page_view", id: "e2", ts: RECEIVED_AT - MAX_EVENT_AGE_MS - 1, url: "https://a/" },
        { type: "page_view", id: "e3", ts: RECEIVED_AT + MAX_EVENT_FUTURE_MS + 1, url: "https://a/" },
      ],
    });
    let error: unknown;
    try {
      enrichBatch(parse(input), context);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(400);
    expect((error as ApiError).issues?.map((issue) => issue.path)).toEqual(["events.1.ts", "events.2.ts"]);
  });

  it("accepts the range's edges", () => {
    const input = batch({
      events: [
        { type: "page_view", id: "e1", ts: RECEIVED_AT - MAX_EVENT_AGE_MS, url: "https://a/" },
        { type: "page_view", id: "e2", ts: RECEIVED_AT + MAX_EVENT_FUTURE_MS, url: "https://a/" },
      ],
    });
    expect(enrichBatch(parse(input), context).events).toHaveLength(2);
  });

  it("derives a page view's campaign and channel from its URL and referrer", () => {
    const ts = RECEIVED_AT - 10;
    const url =
      "https://shop.example/?utm_source=Newsletter&utm_medium=email&utm_campaign=June%20Drop&utm_content=hero";
    const [viaCampaign, viaClickId] = enrichBatch(
      parse(
        batch({
          events: [
            { type: "page_view", id: "e1", ts, url },
            {
              type: "page_view",
              id: "e2",
              ts,
              url: "https://shop.example/?gclid=abc",
              referrer: "https://www.google.com/",
            },
          ],
        }),
      ),
      context,
    ).events;
    expect(viaCampaign).toMatchObject({
      utm_source: "newsletter",
      utm_medium: "email",
      utm_campaign: "June Drop",
      utm_term: "",
      utm_content: "hero",
      channel: "Email",
    });
    expect(viaClickId).toMatchObject({
      utm_source: "google",
      utm_medium: "cpc",
      utm_campaign: "",
      channel: "Paid Search",
      referrer_host: "www.google.com",
    });
  });

  it("flattens every event type onto the events columns with '' and 0 defaults", () => {
    const ts = RECEIVED_AT - 10;
    const enriched = enrichBatch(
      parse(
        batch({
          events: [
            {
              type: "page_view",
              id: "e1",
              ts,
              url: "https://Shop.Example/p/42?q=1#x",
              referrer: "https://WWW.Google.com/search?q=mug",
              title: "Blue mug",
            },
            {
              type: "cart",
              id: "e2",
              ts,
              action: "add",
              product_id: "sku-42",
              name: "Blue mug",
              price: 12.5,
              quantity: 2,
              currency: "eur",
            },
            { type: "cart", id: "e3", ts, action: "remove", product_id: "sku-42" },
            { type: "cart", id: "e4", ts, action: "checkout", value: 25, currency: "EUR" },
            {
              type: "purchase",
              id: "e5",
              ts,
              order_id: "o-1",
              value: 25,
              currency: "EUR",
              items: [{ product_id: "sku-42", price: 12.5 }],
            },
            { type: "vital", id: "e6", ts, url: "https://shop.example/p/42", metric: "LCP", value: 1830.4 },
            { type: "custom", id: "e7", ts, name: "newsletter_signup", props: { plan: "free", seats: 3, trial: true } },
          ],
        }),
      ),
      context,
    );
    const empty = {
      url: "",
      path: "",
      title: "",
      referrer_host: "",
      utm_source: "",
      utm_medium: "",
      utm_campaign: "",
      utm_term: "",
      utm_content: "",
      channel: "",
      action: "",
      product_id: "",
      product_name: "",
      price: 0,
      quantity: 0,
      value: 0,
      currency: "",
      order_id: "",
      items: [],
      metric: "",
      metric_value: 0,
      name: "",
      props: {},
    };
    expect(enriched.events).toEqual([
      {
        ...empty,
        type: "page_view",
        event_id: "e1",
        ts,
        url: "https://Shop.Example/p/42?q=1#x",
        path: "/p/42",
        title: "Blue mug",
        referrer_host: "www.google.com",
        channel: "Organic Search",
      },
      {
        ...empty,
        type: "cart",
        event_id: "e2",
        ts,
        action: "add",
        product_id: "sku-42",
        product_name: "Blue mug",
        price: 12.5,
        quantity: 2,
        currency: "EUR",
      },
      { ...empty, type: "cart", event_id: "e3", ts, action: "remove", product_id: "sku-42", quantity: 1 },
      { ...empty, type: "cart", event_id: "e4", ts, action: "checkout", value: 25, currency: "EUR" },
      {
        ...empty,
        type: "purchase",
        event_id: "e5",
        ts,
        order_id: "o-1",
        value: 25,
        currency: "EUR",
        items: [{ product_id: "sku-42", price: 12.5, quantity: 1 }],
      },
      {
        ...empty,
        type: "vital",
        event_id: "e6",
        ts,
        url: "https://shop.example/p/42",
        path: "/p/42",
        metric: "LCP",
        metric_value: 1830.4,
      },
      {
        ...empty,
        type: "custom",
        event_id: "e7",
        ts,
        name: "newsletter_signup",
        props: { plan: "free", seats: 3, trial: true },
      },
    ]);
  });
});

describe("pathOf and referrerHostOf", () => {
  it("drops query and fragment, and answers '' for what does not parse", () => {
    expect(pathOf("https://a.example/x/y?z=1#f")).toBe("/x/y");
    expect(pathOf("https://a.example")).toBe("/");
    expect(pathOf("not a url")).toBe("");
    expect(pathOf("")).toBe("");
  });

  it("keeps the referrer's host lower-case, without stripping www.", () => {
    const page = "https://shop.example/p/42";
    expect(referrerHostOf("https://WWW.Example.COM/a?b", page)).toBe("www.example.com");
    expect(referrerHostOf("android-app://com.google.android.gm/", page)).toBe("com.google.android.gm");
    expect(referrerHostOf("garbage", page)).toBe("");
    expect(referrerHostOf(undefined, page)).toBe("");
    // Internal navigation is not a traffic source; another subdomain is.
    expect(referrerHostOf("https://SHOP.example/cart", page)).toBe("");
    expect(referrerHostOf("https://blog.shop.example/post", page)).toBe("blog.shop.example");
    expect(referrerHostOf("https://google.com/", "not a url")).toBe("google.com");
  });
});
