/** Hard limits of wire protocol v1. The Worker enforces them while reading; the SDK builds within them. */
export const MAX_BODY_BYTES = 64 * 1024;
export const MAX_EVENTS_PER_BATCH = 100;

/** Longest accepted identifier (batch, event, visitor, session, product, order ids). */
export const MAX_ID_LENGTH = 128;
/** Free text longer than these is cut at the edge, so no row can fail a ClickHouse insert later. */
export const MAX_URL_LENGTH = 2048;
export const MAX_TEXT_LENGTH = 512;
export const MAX_NAME_LENGTH = 128;
export const MAX_PROPS = 20;
export const MAX_PROP_VALUE_LENGTH = 256;
export const MAX_PURCHASE_ITEMS = 50;

/** Money and quantities: finite, non-negative, and within what Decimal(18, 4) and UInt32 hold. */
export const MAX_MONEY = 1_000_000_000;
export const MAX_QUANTITY = 100_000;

/**
 * Event time, after clock-skew correction, must lie within this range of the time the
 * Worker received the batch. Older events come from a client's persisted queue (the SDK
 * drops what is older than a day); anything outside is a broken clock or hostile input.
 */
export const MAX_EVENT_AGE_MS = 48 * 3600 * 1000;
export const MAX_EVENT_FUTURE_MS = 5 * 60 * 1000;

/** Largest `retry` (attempts before this one) a batch may carry: a client counting its attempts stays within it. */
export const MAX_RETRY_COUNT = 1_000_000;
