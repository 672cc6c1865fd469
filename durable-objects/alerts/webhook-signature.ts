/**
 * The webhook signature: `X-EdgePulse-Signature: sha256=<hex>`, HMAC-SHA256 of the exact
 * request body under the rule's secret (the GitHub convention, so receivers have code for it).
 * The body carries the notification id and window, so a replayed request is a repeat the
 * receiver already drops by id.
 */
import { hmacSha256, hmacSha256Verify, randomHex, toHex } from "../../common/crypto";

export async function signWebhookBody(secret: string, body: string): Promise<string> {
  return `sha256=${toHex(await hmacSha256(secret, body))}`;
}

/** Constant-time check of a signature header against a body (receivers and tests). */
export async function verifyWebhookSignature(secret: string, body: string, header: string): Promise<boolean> {
  const match = /^sha256=([0-9a-f]{64})$/.exec(header.trim());
  if (match?.[1] === undefined) return false;
  const signature = new Uint8Array(match[1].match(/../g)?.map((pair) => parseInt(pair, 16)) ?? []);
  return hmacSha256Verify(secret, signature, body);
}

/** A fresh per-rule secret: 32 random bytes, hex. */
export function newWebhookSecret(): string {
  return randomHex(32);
}
