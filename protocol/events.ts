/**
 * Wire protocol v1: the batch the SDK posts to `POST /v1/events`.
 *
 * These schemas both validate and normalise: free text is made well-formed, stripped of
 * control characters and cut to its limit; money is rounded to 4 decimals; currencies are
 * upper-cased. What passes here can always be inserted into ClickHouse, so one odd event can
 * never block the rows flushed behind it.
 */
import { z } from "zod";
import {
  MAX_EVENTS_PER_BATCH,
  MAX_ID_LENGTH,
  MAX_MONEY,
  MAX_NAME_LENGTH,
  MAX_PROP_VALUE_LENGTH,
  MAX_PROPS,
  MAX_PURCHASE_ITEMS,
  MAX_QUANTITY,
  MAX_RETRY_COUNT,
  MAX_TEXT_LENGTH,
  MAX_URL_LENGTH,
} from "./limits";

// Control characters (C0, DEL, C1) have no place in analytics text and break some consumers.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;

/** Makes text safe to store: well-formed UTF-16, no control characters, at most `max` code units. */
export function normaliseText(value: string, max: number): string {
  const clean = value.toWellFormed().replace(CONTROL_CHARACTERS, "").trim();
  if (clean.length <= max) return clean;
  // Do not cut a surrogate pair in half.
  const cut = clean.slice(0, max);
  return cut.toWellFormed() === cut ? cut : cut.slice(0, -1);
}

const text = (max: number) => z.string().transform((value) => normaliseText(value, max));

/** Identifiers are never cut: a changed id would break dedup. They are checked instead. */
export const idSchema = z
  .string()
  .min(1)
  .max(MAX_ID_LENGTH)
  .regex(/^[A-Za-z0-9_.:@-]+$/, "must contain only letters, digits and _ . : @ -");

const money = z
  .number()
  .finite()
  .min(0)
  .max(MAX_MONEY)
  .transform((value) => Math.round(value * 10_000) / 10_000);

const quantity = z.number().int().min(1).max(MAX_QUANTITY);

const currency = z
  .string()
  .regex(/^[A-Za-z]{3}$/, "must be a three-letter ISO 4217 code")
  .transform((value) => value.toUpperCase());

/** Milliseconds since the epoch; the range check against the receive time happens in the Worker. */
export const timestampSchema = z.number().int().min(0).max(8_640_000_000_000);

const eventBase = {
  id: idSchema,
  ts: timestampSchema,
};

export const pageViewEventSchema = z.object({
  type: z.literal("page_view"),
  ...eventBase,
  url: text(MAX_URL_LENGTH),
  referrer: text(MAX_URL_LENGTH).optional(),
  title: text(MAX_TEXT_LENGTH).optional(),
});

export const cartActionSchema = z.enum(["add", "remove", "checkout"]);

export const cartEventSchema = z
  .object({
    type: z.literal("cart"),
    ...eventBase,
    action: cartActionSchema,
    product_id: idSchema.optional(),
    name: text(MAX_TEXT_LENGTH).optional(),
    price: money.optional(),
    quantity: quantity.optional(),
    value: money.optional(),
    currency: currency.optional(),
  })
  .superRefine((event, ctx) => {
    if (event.action !== "checkout" && event.product_id === undefined) {
      ctx.addIssue({ code: "custom", path: ["product_id"], message: `is required for cart action "${event.action}"` });
    }
  });

export const purchaseItemSchema = z.object({
  product_id: idSchema,
  name: text(MAX_TEXT_LENGTH).optional(),
  price: money,
  quantity: quantity.default(1),
});

export const purchaseEventSchema = z.object({
  type: z.literal("purchase"),
  ...eventBase,
  order_id: idSchema,
  value: money,
  currency: currency,
  items: z.array(purchaseItemSchema).max(MAX_PURCHASE_ITEMS).default([]),
});

export const vitalMetricSchema = z.enum(["LCP", "INP", "CLS", "FCP", "TTFB"]);

export const vitalEventSchema = z.object({
  type: z.literal("vital"),
  ...eventBase,
  url: text(MAX_URL_LENGTH),
  metric: vitalMetricSchema,
  // Milliseconds for timings, a unitless score for CLS; an hour bounds any real timing.
  value: z.number().finite().min(0).max(3_600_000),
});

/**
 * Property names start with a letter. A `__proto__` key is not refused but never arrives:
 * zod's record parsing leaves it out (the hostile-input fuzz checks that no such prop is
 * stored), so no property can reach an object's prototype.
 */
const propKey = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/, "must be a letter followed by up to 63 letters, digits or _ . : -");
const propValue = z.union([text(MAX_PROP_VALUE_LENGTH), z.number().finite(), z.boolean()]);

export const customEventSchema = z.object({
  type: z.literal("custom"),
  ...eventBase,
  name: text(MAX_NAME_LENGTH).pipe(z.string().min(1)),
  url: text(MAX_URL_LENGTH).optional(),
  props: z
    .record(propKey, propValue)
    .refine((props) => Object.keys(props).length <= MAX_PROPS, `at most ${MAX_PROPS} properties`)
    .optional(),
});

export const eventSchema = z.discriminatedUnion("type", [
  pageViewEventSchema,
  cartEventSchema,
  purchaseEventSchema,
  vitalEventSchema,
  customEventSchema,
]);

export const siteKeySchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "must be lower-case letters, digits, _ or -, at most 64 characters");

export const batchSchema = z
  .object({
    v: z.literal(1),
    site: siteKeySchema,
    batch: idSchema,
    sent_at: timestampSchema,
    /**
     * Attempts made before this one: 0 on a first send, ≥ 1 on every resend (the SDK sends 1).
     * Absent (an SDK from before it existed, or another client): the collector judges by
     * `sent_at` (worker/resend.ts). A resend asks every shard of the site for its id; a first
     * send goes straight to its visitor's shard.
     */
    retry: z.number().int().min(0).max(MAX_RETRY_COUNT).optional(),
    visitor: idSchema.optional(),
    session: idSchema.optional(),
    events: z.array(eventSchema).min(1).max(MAX_EVENTS_PER_BATCH),
  })
  .superRefine((batch, ctx) => {
    const seen = new Set<string>();
    batch.events.forEach((event, index) => {
      if (seen.has(event.id))
        ctx.addIssue({
          code: "custom",
          path: ["events", index, "id"],
          message: "duplicates an earlier event id in this batch",
        });
      seen.add(event.id);
    });
  });

export type Batch = z.infer<typeof batchSchema>;
/** What a client sends, before normalisation (the SDK builds this). */
export type BatchInput = z.input<typeof batchSchema>;
export type Event = z.infer<typeof eventSchema>;
export type EventInput = z.input<typeof eventSchema>;
export type EventType = Event["type"];
export type PageViewEvent = z.infer<typeof pageViewEventSchema>;
export type CartEvent = z.infer<typeof cartEventSchema>;
export type CartAction = z.infer<typeof cartActionSchema>;
export type PurchaseEvent = z.infer<typeof purchaseEventSchema>;
export type PurchaseItem = z.infer<typeof purchaseItemSchema>;
export type VitalEvent = z.infer<typeof vitalEventSchema>;
export type VitalMetric = z.infer<typeof vitalMetricSchema>;
export type CustomEvent = z.infer<typeof customEventSchema>;
