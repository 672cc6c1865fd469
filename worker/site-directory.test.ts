import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "./app";

/** The registry namespace, counting how often the Worker reaches for the registry object. */
function countingRegistry(): { namespace: Env["SITE_REGISTRY"]; calls: () => number } {
  let calls = 0;
  const real = env.SITE_REGISTRY;
  const namespace = {
    idFromName: (name: string) => real.idFromName(name),
    get: (id: DurableObjectId) => {
      calls++;
      return real.get(id);
    },
  };
  return { namespace: namespace as unknown as Env["SITE_REGISTRY"], calls: () => calls };
}

describe("site directory cache", () => {
  it("resolves a registry site once for a run of batches, not once per batch", async () => {
    const key = `cached-${Date.now().toString(36)}`;
    const created = await exports.default.fetch(
      new Request("http://collector.test/v1/admin/sites", {
        method: "POST",
        headers: { Authorization: "Bearer dev-admin-token", "Content-Type": "application/json" },
        body: JSON.stringify({ key, origins: ["https://cached.example"] }),
      }),
    );
    expect(created.status).toBe(201);
    const registry = countingRegistry();
    const testEnv = { ...env, SITE_REGISTRY: registry.namespace };
    for (let index = 0; index < 40; index++) {
      const now = Date.now();
      const body = JSON.stringify({
        v: 1,
        site: key,
        batch: `b-${key}-${index}`,
        sent_at: now,
        visitor: `v-${index}`,
        events: [{ type: "page_view", id: "e1", ts: now, url: "https://cached.example/" }],
      });
      const ctx = createExecutionContext();
      const response = await app.fetch(
        new Request("http://collector.test/v1/events", {
          method: "POST",
          headers: { "Content-Type": "text/plain", Origin: "https://cached.example" },
          body,
        }),
        testEnv,
        ctx,
      );
      await waitOnExecutionContext(ctx);
      expect(response.status).toBe(202);
    }
    // One lookup for the site, one for "does any site allow this origin" (CORS): then cached.
    expect(registry.calls()).toBeLessThanOrEqual(2);
  });

  it("never asks the registry for a site from SITES", async () => {
    const registry = countingRegistry();
    const testEnv = { ...env, SITE_REGISTRY: registry.namespace };
    const now = Date.now();
    const body = JSON.stringify({
      v: 1,
      site: "demo",
      batch: `b-seed-${now}`,
      sent_at: now,
      visitor: "v-seed",
      events: [{ type: "page_view", id: "e1", ts: now, url: "https://shop.example/" }],
    });
    const ctx = createExecutionContext();
    const response = await app.fetch(
      new Request("http://collector.test/v1/events", {
        method: "POST",
        headers: { "Content-Type": "text/plain", Origin: "https://shop.example" },
        body,
      }),
      testEnv,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(response.status).toBe(202);
    expect(registry.calls()).toBe(0);
  });
});
