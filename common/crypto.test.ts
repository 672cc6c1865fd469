import { describe, expect, it } from "vitest";
import { hmacSha256, hmacSha256Verify, randomHex, sha256Hex, toHex } from "./crypto";

describe("hex digests and HMACs", () => {
  it("encodes bytes as lower-case hex, keeping leading zeros, optionally only a prefix", () => {
    const bytes = new Uint8Array([0, 1, 15, 16, 171, 255]);
    expect(toHex(bytes)).toBe("00010f10abff");
    expect(toHex(bytes.buffer, 2)).toBe("0001");
    expect(randomHex(16)).toMatch(/^[0-9a-f]{32}$/);
  });

  it("matches the published SHA-256 and HMAC-SHA256 test vectors", async () => {
    expect(await sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    // RFC 4231, test case 2.
    const mac = await hmacSha256("Jefe", "what do ya want for nothing?");
    expect(toHex(mac)).toBe("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    expect(await hmacSha256Verify("Jefe", new Uint8Array(mac), "what do ya want for nothing?")).toBe(true);
    expect(await hmacSha256Verify("jefe", new Uint8Array(mac), "what do ya want for nothing?")).toBe(false);
  });
});
