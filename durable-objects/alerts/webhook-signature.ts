/**
 * The webhook signature: `X-EdgePulse-Signature: sha256=<hex>`, HMAC-SHA256 of the exact
 * request body under the rule's secret (the GitHub convention, so receivers have code for it).
 * The body carries the notification id and window, so a replayed request is a repeat the
 * receiver already drops by id.
 */
const encoder = new TextEncoder();

async function hmacKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
    "verify",
  ]);
}

function toHex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

export async function signWebhookBody(secret: string, body: string): Promise<string> {
  return `sha256=${toHex(await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(body)))}`;
}

/** Constant-time check of a signature header against a body (receivers and tests). */
export async function verifyWebhookSignature(secret: string, body: string, header: string): Promise<boolean> {
  const match = /^sha256=([0-9a-f]{64})$/.exec(header.trim());
  if (match?.[1] === undefined) return false;
  const signature = new Uint8Array(match[1].match(/../g)?.map((pair) => parseInt(pair, 16)) ?? []);
  return crypto.subtle.verify("HMAC", await hmacKey(secret), signature, encoder.encode(body));
}

/** A fresh per-rule secret: 32 random bytes, hex. */
export function newWebhookSecret(): string {
  const bytes = new Uint8Array(32);
  crypto.getRandomValues(bytes);
  return toHex(bytes.buffer);
}
