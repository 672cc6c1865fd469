import { describe, expect, it } from "vitest";
import { newWebhookSecret, signWebhookBody, verifyWebhookSignature } from "./webhook-signature";

describe("webhook signature", () => {
  it("is HMAC-SHA256 of the body, hex, as sha256=…", async () => {
    // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
    expect(await signWebhookBody("Jefe", "what do ya want for nothing?")).toBe(
      "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    );
  });

  it("verifies the right body under the right secret only", async () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    const body = JSON.stringify({ id: "r_1:1:firing:10000", value: 3 });
    const header = await signWebhookBody(secret, body);
    expect(await verifyWebhookSignature(secret, body, header)).toBe(true);
    expect(await verifyWebhookSignature(secret, body.replace("3", "4"), header)).toBe(false);
    expect(await verifyWebhookSignature(newWebhookSecret(), body, header)).toBe(false);
    expect(await verifyWebhookSignature(secret, body, "sha256=zz")).toBe(false);
  });
});
