import { createExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../app";
import { SCRIPT_CACHE_CONTROL } from "./sdk-scripts";

describe("GET /ep.js, /ep.vitals.js and /ep.outbound.js", () => {
  it.each(["/ep.js", "/ep.vitals.js", "/ep.outbound.js"])(
    "serves %s from the assets as cacheable, cross-origin JavaScript",
    async (path) => {
      const built = await env.ASSETS.fetch(new Request(`http://collector.test${path}`));
      const expectedBody = built.status === 200 ? await built.text() : null;
      const response = await exports.default.fetch(new Request(`http://collector.test${path}`));
      if (expectedBody === null) {
        // Not built in this checkout (npm test builds the SDK first): a JSON 404 saying so.
        expect(response.status).toBe(404);
        expect(await response.json()).toMatchObject({ error: { code: "not_found" } });
        return;
      }
      expect(response.status).toBe(200);
      expect(response.headers.get("Content-Type")).toBe("application/javascript; charset=utf-8");
      expect(response.headers.get("Cache-Control")).toBe(SCRIPT_CACHE_CONTROL);
      expect(response.headers.get("Access-Control-Allow-Origin")).toBe("*");
      expect(await response.text()).toBe(expectedBody);
    },
  );

  it("answers a JSON 404 naming the build step when the script is missing", async () => {
    const noAssets = { fetch: async () => new Response("not found", { status: 404 }) } as unknown as Fetcher;
    const response = await app.fetch(
      new Request("http://collector.test/ep.js"),
      { ...env, ASSETS: noAssets },
      createExecutionContext(),
    );
    expect(response.status).toBe(404);
    const body: { error: { code: string; message: string } } = await response.json();
    expect(body.error.code).toBe("not_found");
    expect(body.error.message).toContain("build:sdk");
  });
});
