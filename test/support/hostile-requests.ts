/**
 * A seeded generator of requests to `POST /v1/events` for the hostile-input fuzz test: each
 * one is either hostile (malformed, out of range, oversize, wrong method or media type, unknown
 * site or origin, prototype-pollution keys, invalid UTF-8 …) and must be refused with a 4xx,
 * or a valid batch carrying awkward-but-legal content that must be accepted.
 *
 * Every hostile request is invalid by construction (the family says why), so the test can check
 * both directions: nothing hostile is accepted, nothing valid is refused, and ClickHouse ends up
 * holding exactly the valid events.
 */
import { MAX_BODY_BYTES, MAX_EVENT_AGE_MS, MAX_EVENT_FUTURE_MS, MAX_EVENTS_PER_BATCH } from "../../protocol";
import { SeededRandom } from "../../tools/seeded-random";
import { BROWSER_USER_AGENT } from "./browser-user-agent";

export interface FuzzRequest {
  /** Why this request is what it is (reported per family). */
  family: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Uint8Array | null;
  /** Send the body as a stream (Transfer-Encoding: chunked, no Content-Length). */
  chunked: boolean;
  expect: "reject" | "accept";
  /** For accepted batches: events it carries (0 for a resend). */
  events: number;
}

export interface FuzzContext {
  site: string;
  /** The one origin the fuzz site allows. */
  origin: string;
  now: number;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const encoder = new TextEncoder();
const CONTENT_TYPES_ACCEPTED = [
  "text/plain",
  "text/plain;charset=UTF-8",
  "application/json",
  "application/json; charset=utf-8",
];
const CONTENT_TYPES_REFUSED = [
  "application/xml",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "image/png",
  "text/html",
  "application/octet-stream",
  "text/jsonx",
  "",
];

function randomId(random: SeededRandom, prefix: string): string {
  return `${prefix}-${random.uint32().toString(36)}${random.uint32().toString(36)}`;
}

function randomText(random: SeededRandom, length: number): string {
  const alphabets = [
    "abcdefghijklmnopqrstuvwxyz ",
    "äöüßéèñ",
    "日本語中文한국어",
    "😀🛒💳🚀",
    "\u0000\u0007\u001b\u007f\u0085",
    "<>&\"'\\/`${}",
    "\u202e\u200b\ufeff",
  ];
  let text = "";
  while (text.length < length) text += random.pick(alphabets).charAt(random.int(0, 6));
  return text;
}

function pageView(random: SeededRandom, id: string, ts: number): JsonObject {
  return {
    type: "page_view",
    id,
    ts,
    url: `https://fuzz.example/p/${random.int(1, 500)}?q=${random.int(0, 9)}`,
    referrer: "https://search.example/",
    title: "Product",
  };
}

function anyValidEvent(random: SeededRandom, id: string, ts: number): JsonObject {
  switch (random.int(0, 5)) {
    case 0:
      return pageView(random, id, ts);
    case 1:
      return {
        type: "cart",
        id,
        ts,
        action: "add",
        product_id: `sku-${random.int(1, 99)}`,
        name: "Mug",
        price: random.int(1, 9999) / 100,
        quantity: random.int(1, 5),
        currency: "eur",
      };
    case 2:
      return { type: "cart", id, ts, action: "checkout", value: random.int(1, 99999) / 100, currency: "USD" };
    case 3:
      return {
        type: "purchase",
        id,
        ts,
        order_id: randomId(random, "o"),
        value: 25,
        currency: "EUR",
        items: [{ product_id: "sku-1", price: 12.5, quantity: 2 }],
      };
    case 4:
      return {
        type: "vital",
        id,
        ts,
        url: "https://fuzz.example/",
        metric: random.pick(["LCP", "INP", "CLS", "FCP", "TTFB"]),
        value: random.int(0, 5000),
      };
    default:
      return { type: "custom", id, ts, name: "signup", props: { plan: "free", step: random.int(1, 3), ok: true } };
  }
}

function validBatch(random: SeededRandom, context: FuzzContext, events = random.int(1, 4)): JsonObject {
  const sentAt = context.now + random.int(0, 1000);
  return {
    v: 1,
    site: context.site,
    batch: randomId(random, "fz"),
    sent_at: sentAt,
    visitor: randomId(random, "v"),
    events: Array.from({ length: events }, (_, index) =>
      anyValidEvent(random, `e${index}`, sentAt - random.int(0, 30_000)),
    ),
  };
}

function request(family: string, body: string | Uint8Array | null, options: Partial<FuzzRequest> = {}): FuzzRequest {
  return {
    family,
    method: "POST",
    path: "/v1/events",
    headers: { "Content-Type": "text/plain", "User-Agent": BROWSER_USER_AGENT },
    body: typeof body === "string" ? encoder.encode(body) : body,
    chunked: false,
    expect: "reject",
    events: 0,
    ...options,
  };
}

function firstEvent(batch: JsonObject): JsonObject {
  const events = batch.events;
  if (!Array.isArray(events)) throw new Error("batch without events");
  const event = events[0];
  if (event === undefined || event === null || typeof event !== "object" || Array.isArray(event))
    throw new Error("event is not an object");
  return event;
}

function nested(depth: number, open: string, close: string, inner: string): string {
  return open.repeat(depth) + inner + close.repeat(depth);
}

/** Replaces the JSON string `"@@"` in `text` with raw JSON text (numbers no JSON.stringify can write). */
function withRaw(template: JsonObject, raw: string): string {
  return JSON.stringify(template).replace('"@@"', raw);
}

/** Each family returns a request that must be refused; a comment names the rule it breaks. */
const HOSTILE_FAMILIES: readonly (readonly [
  string,
  number,
  (random: SeededRandom, context: FuzzContext) => FuzzRequest,
])[] = [
  [
    "truncated-json",
    8,
    (random, context) => {
      const text = JSON.stringify(validBatch(random, context));
      return request("truncated-json", text.slice(0, random.int(1, text.length - 2)));
    },
  ],
  ["garbage-text", 4, (random) => request("garbage-text", randomText(random, random.int(1, 300)))],
  [
    "json-not-a-batch",
    4,
    (random, context) =>
      request(
        "json-not-a-batch",
        random.pick([
          "null",
          "[]",
          "1",
          '"batch"',
          "true",
          "{}",
          "[{}]",
          `[${JSON.stringify(validBatch(random, context))}]`,
          "NaN",
          "undefined",
          "{'v':1}",
        ]),
      ),
  ],
  ["empty-body", 2, (random) => request("empty-body", random.pick(["", " ", "\n\t ", "\ufeff"]))],
  [
    "wrong-type",
    12,
    (random, context) => {
      const batch = validBatch(random, context);
      // A page view, so that `url` is a field the event must have (on other types it is ignored).
      const event = pageView(random, "e0", context.now);
      batch.events = [event];
      const cases: (() => void)[] = [
        () => (batch.v = random.pick<Json>(["1", 2, 0, null, 1.5, true, [1]])),
        () =>
          (batch.site = random.pick<Json>([
            5,
            "",
            "UPPER",
            "a b",
            "x".repeat(65),
            null,
            ["a"],
            { key: "a" },
            "../a",
            "a\u0000",
          ])),
        () =>
          (batch.batch = random.pick<Json>([
            "",
            123,
            null,
            "has space",
            "b".repeat(129),
            "é",
            "x'; DROP TABLE events; --",
            "a\nb",
          ])),
        () => (batch.sent_at = random.pick<Json>(["now", -1, 1.5, null, 9e15, "1732350000123", true])),
        () => (batch.events = random.pick<Json>([{}, [], "x", null, 7, [null], [1, 2], [[]]])),
        () => (batch.visitor = random.pick<Json>([1, "", "v v", "v".repeat(200), null])),
        () => (event.type = random.pick<Json>(["unknown", "", null, 5, "PAGE_VIEW", "page_view "])),
        () => (event.id = random.pick<Json>(["", 1, null, "é", "i".repeat(129), "a/b"])),
        () => (event.ts = random.pick<Json>(["2024-01-01", -5, 1.5, null, true, "1732350000001"])),
        () => (event.url = random.pick<Json>([5, null, ["https://x"], { href: "https://x" }, true])),
      ];
      random.pick(cases)();
      return request("wrong-type", JSON.stringify(batch));
    },
  ],
  [
    "missing-field",
    6,
    (random, context) => {
      const batch = validBatch(random, context, 1);
      const event = firstEvent(batch);
      const field = random.pick([
        "v",
        "site",
        "batch",
        "sent_at",
        "events",
        "event.type",
        "event.id",
        "event.ts",
        "event.payload",
      ]);
      if (field === "event.payload") {
        // The field each type needs: a page view's url, a purchase's order id, a vital's metric …
        const required: Record<string, string> = {
          page_view: "url",
          cart: "action",
          purchase: "order_id",
          vital: "metric",
          custom: "name",
        };
        delete event[required[String(event.type)] ?? "type"];
      } else if (field.startsWith("event.")) delete event[field.slice(6)];
      else delete batch[field];
      return request("missing-field", JSON.stringify(batch));
    },
  ],
  [
    "bad-enum-or-range",
    10,
    (random, context) => {
      const batch = validBatch(random, context, 1);
      const ts = Number(firstEvent(batch).ts);
      const bad = random.pick<JsonObject>([
        { type: "cart", id: "e0", ts, action: "buy", product_id: "p" },
        { type: "cart", id: "e0", ts, action: "add" },
        { type: "cart", id: "e0", ts, action: "add", product_id: "p", price: -1 },
        { type: "cart", id: "e0", ts, action: "add", product_id: "p", quantity: 0 },
        { type: "cart", id: "e0", ts, action: "add", product_id: "p", quantity: 1.5 },
        { type: "cart", id: "e0", ts, action: "add", product_id: "p", quantity: 100_001 },
        { type: "cart", id: "e0", ts, action: "checkout", value: 1e10, currency: "EUR" },
        {
          type: "cart",
          id: "e0",
          ts,
          action: "checkout",
          value: 1,
          currency: random.pick(["EURO", "E1R", "€€€", "", "eu"]),
        },
        {
          type: "purchase",
          id: "e0",
          ts,
          order_id: "o",
          value: 1,
          currency: "EUR",
          items: Array.from({ length: 51 }, () => ({ product_id: "p", price: 1 })),
        },
        { type: "purchase", id: "e0", ts, order_id: "o", value: 1, currency: "EUR", items: "sku-1" },
        {
          type: "vital",
          id: "e0",
          ts,
          url: "https://fuzz.example/",
          metric: random.pick(["FID", "lcp", "", "TTI"]),
          value: 1,
        },
        {
          type: "vital",
          id: "e0",
          ts,
          url: "https://fuzz.example/",
          metric: "LCP",
          value: random.pick([-1, 3_600_001]),
        },
        { type: "custom", id: "e0", ts, name: "" },
        {
          type: "custom",
          id: "e0",
          ts,
          name: "x",
          props: Object.fromEntries(Array.from({ length: 21 }, (_, index) => [`k${index}`, index])),
        },
        {
          type: "custom",
          id: "e0",
          ts,
          name: "x",
          props: { [random.pick(["1abc", "_x", "", "a b", "k".repeat(65), "ä"])]: 1 },
        },
        { type: "custom", id: "e0", ts, name: "x", props: { k: random.pick<Json>([{ nested: 1 }, [1, 2], null]) } },
      ]);
      batch.events = [bad];
      if (random.chance(0.1)) batch.v = 2;
      return request("bad-enum-or-range", JSON.stringify(batch));
    },
  ],
  [
    "huge-number",
    5,
    (random, context) => {
      const batch = validBatch(random, context, 1);
      const raw = random.pick([
        "1e309",
        "-1e309",
        "123456789012345678901234567890",
        "1.7976931348623157e309",
        "9".repeat(400),
        "-0.0e-999999",
      ]);
      const where = random.int(0, 2);
      if (where === 0) batch.sent_at = "@@";
      else if (where === 1) firstEvent(batch).ts = "@@";
      else
        batch.events = [{ type: "cart", id: "e0", ts: context.now, action: "checkout", value: "@@", currency: "EUR" }];
      // -0.0e-999999 is 0: harmless as a price, so it is only used where 0 is invalid (sent_at, ts).
      const text = where === 2 && raw.startsWith("-0") ? withRaw(batch, "-1") : withRaw(batch, raw);
      return request("huge-number", text);
    },
  ],
  [
    "huge-string",
    3,
    (random, context) => {
      const batch = validBatch(random, context, 1);
      const long = "x".repeat(random.int(129, 20_000));
      random.pick([
        () => (batch.batch = long),
        () => (batch.visitor = long),
        () => (firstEvent(batch).id = long),
        () => (batch.site = long),
      ])();
      return request("huge-string", JSON.stringify(batch));
    },
  ],
  [
    "deep-nesting",
    4,
    (random, context) => {
      const depth = random.int(50, 12_000);
      const batch = validBatch(random, context, 1);
      const where = random.int(0, 3);
      if (where === 0) return request("deep-nesting", nested(depth, "[", "]", "1"));
      if (where === 1) return request("deep-nesting", nested(depth, '{"a":', "}", "1"));
      if (where === 2) {
        batch.events = "@@";
        return request("deep-nesting", withRaw(batch, nested(depth, "[", "]", "")));
      }
      batch.events = [{ type: "custom", id: "e0", ts: context.now, name: "n", props: { deep: "@@" } }];
      return request("deep-nesting", withRaw(batch, nested(depth, '{"a":', "}", "1")));
    },
  ],
  [
    "prototype-keys",
    6,
    (random, context) => {
      const batch = validBatch(random, context, 1);
      // Each variant lacks a required field that a polluted prototype would supply: if the
      // Worker ever read inherited properties, these would be accepted.
      switch (random.int(0, 4)) {
        case 0: {
          delete batch.site;
          return request(
            "prototype-keys",
            JSON.stringify(batch).replace(/^\{/, `{"__proto__":{"site":"${context.site}"},`),
          );
        }
        case 1: {
          delete batch.v;
          return request(
            "prototype-keys",
            JSON.stringify(batch).replace(/^\{/, '{"constructor":{"prototype":{"v":1}},"__proto__":{"v":1},'),
          );
        }
        case 2: {
          delete firstEvent(batch).type;
          return request(
            "prototype-keys",
            JSON.stringify(batch).replace('"events":[{', '"events":[{"__proto__":{"type":"page_view"},'),
          );
        }
        case 3: {
          batch.events = [
            {
              type: "custom",
              id: "e0",
              ts: context.now,
              name: "n",
              props: { constructor: { prototype: { polluted: true } } },
            },
          ];
          return request("prototype-keys", JSON.stringify(batch));
        }
        default: {
          delete batch.events;
          return request(
            "prototype-keys",
            JSON.stringify(batch).replace(
              /^\{/,
              '{"__proto__":{"events":[{"type":"page_view","id":"e","ts":1,"url":"u"}]},',
            ),
          );
        }
      }
    },
  ],
  [
    "invalid-utf8",
    5,
    (random, context) => {
      const batch = validBatch(random, context, 1);
      batch.events = [{ type: "page_view", id: "e0", ts: context.now, url: "https://fuzz.example/@@" }];
      const text = JSON.stringify(batch);
      const at = encoder.encode(text.slice(0, text.indexOf("@@"))).length;
      const bytes = encoder.encode(text);
      // Lone continuation, invalid lead, overlong '/', a UTF-16 surrogate in UTF-8, truncated sequence, > U+10FFFF.
      const invalid = random.pick([
        [0x80],
        [0xff],
        [0xc0, 0xaf],
        [0xed, 0xa0, 0x80],
        [0xe2, 0x82],
        [0xf4, 0x90, 0x80, 0x80],
      ]);
      const body = new Uint8Array(bytes.length - 2 + invalid.length);
      body.set(bytes.subarray(0, at), 0);
      body.set(invalid, at);
      body.set(bytes.subarray(at + 2), at + invalid.length);
      return request("invalid-utf8", body);
    },
  ],
  [
    "oversize",
    1,
    (random, context) => {
      // A valid batch padded with JSON whitespace: legal JSON, but over the byte limit.
      const text = JSON.stringify(validBatch(random, context));
      return request("oversize", text + " ".repeat(MAX_BODY_BYTES + random.int(1, 16 * 1024) - text.length));
    },
  ],
  [
    "oversize-chunked",
    1,
    (random, context) => {
      const text = JSON.stringify(validBatch(random, context));
      return request("oversize-chunked", text + " ".repeat(MAX_BODY_BYTES + random.int(1, 16 * 1024) - text.length), {
        chunked: true,
      });
    },
  ],
  [
    "too-many-events",
    2,
    (random, context) =>
      request("too-many-events", JSON.stringify(validBatch(random, context, MAX_EVENTS_PER_BATCH + random.int(1, 50)))),
  ],
  [
    "duplicate-event-ids",
    2,
    (random, context) => {
      const batch = validBatch(random, context, 3);
      const events = batch.events as JsonObject[];
      const last = events[2];
      if (last !== undefined) last.id = "e0";
      return request("duplicate-event-ids", JSON.stringify(batch));
    },
  ],
  [
    "far-off-timestamp",
    6,
    (random, context) => {
      const batch = validBatch(random, context, 1);
      const sentAt = Number(batch.sent_at);
      firstEvent(batch).ts = random.pick([
        // An hour beyond each bound at least, so the time the test takes to send cannot bring them in.
        sentAt - MAX_EVENT_AGE_MS - random.int(3_600_000, 365 * 86_400_000),
        sentAt + MAX_EVENT_FUTURE_MS + random.int(3_600_000, 365 * 86_400_000),
        0,
        8_640_000_000_000,
      ]);
      return request("far-off-timestamp", JSON.stringify(batch));
    },
  ],
  [
    "wrong-method",
    4,
    (random, context) => {
      const method = random.pick(["GET", "PUT", "DELETE", "PATCH"]);
      return request("wrong-method", method === "GET" ? null : JSON.stringify(validBatch(random, context)), { method });
    },
  ],
  [
    "wrong-content-type",
    4,
    (random, context) => {
      const contentType = random.pick(CONTENT_TYPES_REFUSED);
      return request("wrong-content-type", JSON.stringify(validBatch(random, context)), {
        headers: contentType === "" ? {} : { "Content-Type": contentType },
      });
    },
  ],
  [
    "wrong-path",
    2,
    (random, context) =>
      request("wrong-path", JSON.stringify(validBatch(random, context)), {
        path: random.pick(["/v1/events/x", "/v1/event", "/v1/EVENTS", "/v1/events/%2e%2e/sql", "/v1/"]),
      }),
  ],
  [
    "unknown-site",
    4,
    (random, context) => {
      const batch = validBatch(random, context);
      batch.site = random.pick(["nope", "other-site", `s${random.int(0, 1e6)}`, "fuzz2", "fuzz-"]);
      return request("unknown-site", JSON.stringify(batch));
    },
  ],
  [
    "origin-not-allowed",
    4,
    (random, context) =>
      request("origin-not-allowed", JSON.stringify(validBatch(random, context)), {
        headers: {
          "Content-Type": "text/plain",
          Origin: random.pick([
            "https://evil.example",
            "null",
            "http://fuzz.example",
            "https://fuzz.example.evil.example",
            `${context.origin}:8443`,
            "file://",
          ]),
        },
      }),
  ],
];

/** A valid batch with awkward-but-legal content; it must be accepted and stored. */
function awkwardValidRequest(random: SeededRandom, context: FuzzContext): FuzzRequest {
  const batch = validBatch(random, context);
  const events = batch.events as JsonObject[];
  const headers: Record<string, string> = { "Content-Type": random.pick(CONTENT_TYPES_ACCEPTED) };
  if (random.chance(0.5)) headers.Origin = random.chance(0.5) ? context.origin : context.origin.toUpperCase();
  let text: string | null = null;
  let chunked = false;
  switch (random.int(0, 9)) {
    case 0: // free text longer than its limit is cut, control characters stripped, not refused
      events[0] = {
        type: "page_view",
        id: "e0",
        ts: context.now,
        url: `https://fuzz.example/${"a".repeat(random.int(2048, 10_000))}`,
        title: randomText(random, random.int(1, 2000)),
      };
      break;
    case 1: // ids at their longest
      batch.batch = `fz${random.uint32()}`.padEnd(128, "b");
      events[0] = { ...(events[0] ?? {}), id: "i".repeat(128) };
      break;
    case 2: // property names that are Object.prototype members are just names
      events[0] = {
        type: "custom",
        id: "e0",
        ts: context.now,
        name: "n",
        props: { constructor: "c", toString: "t", hasOwnProperty: 1, valueOf: false },
      };
      break;
    case 3: // unknown fields are ignored, including one spelled __proto__ (an own key after JSON.parse)
      text = JSON.stringify(batch).replace(
        /^\{/,
        '{"__proto__":{"site":"polluted","admin":true},"extra":{"nested":[1,2,3]},',
      );
      break;
    case 4: // a client clock a day off: corrected by sent_at, not refused
      {
        const skew = random.pick([-1, 1]) * 86_400_000;
        batch.sent_at = Number(batch.sent_at) + skew;
        for (const event of events) event.ts = Number(event.ts) + skew;
      }
      break;
    case 5: // escaped lone surrogates and NULs in free text are made well-formed
      events[0] = { type: "page_view", id: "e0", ts: context.now, url: "https://fuzz.example/", title: "@@" };
      text = withRaw(batch, '"\\ud800 lone \\udfff and \\u0000 nul"');
      break;
    case 6: // a UTF-8 byte order mark before the JSON
      text = `\ufeff${JSON.stringify(batch)}`;
      break;
    case 7: // a small body sent chunked
      chunked = true;
      break;
    case 8: // a `__proto__` property is dropped (zod skips the key), never stored, never inherited
      events[0] = { type: "custom", id: "e0", ts: context.now, name: "n", props: { x: 1 } };
      text = JSON.stringify(batch).replace('"props":{', '"props":{"__proto__":{"polluted":true},');
      break;
    default:
      break;
  }
  return request("valid", text ?? JSON.stringify(batch), { headers, chunked, expect: "accept", events: events.length });
}

/**
 * `total` requests, about `validShare` of them valid batches (some resent later, which must be
 * answered as duplicates and stored once), the rest drawn from the hostile families by weight.
 */
export function generateFuzzRequests(
  seed: number,
  total: number,
  context: FuzzContext,
  validShare = 0.05,
): FuzzRequest[] {
  const random = new SeededRandom(seed);
  const requests: FuzzRequest[] = [];
  const accepted: FuzzRequest[] = [];
  const families = HOSTILE_FAMILIES.map(([, weight, make]) => [make, weight] as const);
  while (requests.length < total) {
    if (random.chance(validShare)) {
      if (accepted.length > 0 && random.chance(0.1)) {
        const original = random.pick(accepted);
        requests.push({ ...original, family: "valid-resend", events: 0 });
      } else {
        const valid = awkwardValidRequest(random, context);
        accepted.push(valid);
        requests.push(valid);
      }
    } else {
      requests.push(random.weighted(families)(random, context));
    }
  }
  return requests;
}
