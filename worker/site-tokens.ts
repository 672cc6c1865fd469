/**
 * Registry tokens: 32 random bytes, base64url, prefixed `ep_` so a leaked one is recognisable
 * in a secret scanner. Only the SHA-256 digest is stored (auth.ts `tokenDigest`); the secret
 * is in exactly one answer, the one that created it.
 */
import type { NewToken } from "../durable-objects/site-registry";
import type { TokenScope } from "../protocol/sites";
import { tokenDigest } from "./auth";

const TOKEN_PREFIX = "ep_";
/** Characters of the token kept to tell tokens apart in a list: the prefix plus 4, far from enough to guess the rest. */
const HINT_LENGTH = TOKEN_PREFIX.length + 4;

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

export async function mintToken(scopes: TokenScope[], label: string): Promise<{ secret: string; token: NewToken }> {
  const secret = TOKEN_PREFIX + base64url(crypto.getRandomValues(new Uint8Array(32)));
  const id = `tok_${base64url(crypto.getRandomValues(new Uint8Array(9)))}`;
  return {
    secret,
    token: {
      id,
      digest: await tokenDigest(secret),
      hint: secret.slice(0, HINT_LENGTH),
      scopes: [...new Set(scopes)].sort(),
      label,
    },
  };
}
