/**
 * Hex digests and HMACs with Web Crypto, shared by the Worker and the Durable Objects:
 * visitor ids, rate-limit keys, token digests, batch digests and webhook signatures.
 */
const encoder = new TextEncoder();

/** Lower-case hex of the bytes, optionally only the first `length` of them. */
export function toHex(bytes: ArrayBuffer | Uint8Array, length?: number): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let hex = "";
  for (const byte of length === undefined ? view : view.subarray(0, length)) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

export function randomHex(byteCount: number): string {
  return toHex(crypto.getRandomValues(new Uint8Array(byteCount)));
}

export async function sha256Hex(text: string): Promise<string> {
  return toHex(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

const hmacKeys = new Map<string, Promise<CryptoKey>>();
/** Secrets come from configuration (a handful per isolate); the bound guards against a caller cycling through many. */
const MAX_CACHED_KEYS = 64;

/** The HMAC-SHA256 key for a secret, imported once per isolate. */
export function hmacKey(secret: string): Promise<CryptoKey> {
  let key = hmacKeys.get(secret);
  if (key === undefined) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
      "verify",
    ]);
    if (hmacKeys.size >= MAX_CACHED_KEYS) hmacKeys.clear();
    hmacKeys.set(secret, key);
  }
  return key;
}

export async function hmacSha256(secret: string, message: string): Promise<ArrayBuffer> {
  return crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(message));
}

export async function hmacSha256Verify(
  secret: string,
  signature: Uint8Array<ArrayBuffer>,
  message: string,
): Promise<boolean> {
  return crypto.subtle.verify("HMAC", await hmacKey(secret), signature, encoder.encode(message));
}
