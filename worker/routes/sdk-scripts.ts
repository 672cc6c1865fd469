/**
 * `GET /ep.js`, `GET /ep.vitals.js` and `GET /ep.outbound.js`: the SDK builds. The SDK's rollup build copies them
 * into the static assets (dashboard/public/, git-ignored), and this route re-serves them with
 * the headers a third-party script needs: a JavaScript type, `Access-Control-Allow-Origin: *`
 * and caching that is short enough for an unversioned URL (1 h, then revalidated in the
 * background for a day) so a new deploy reaches every page within the hour.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { ApiError } from "../errors";

export const SCRIPT_CACHE_CONTROL = "public, max-age=3600, stale-while-revalidate=86400";
const SCRIPTS = ["/ep.js", "/ep.vitals.js", "/ep.outbound.js"] as const;

export const sdkScriptRoutes = new Hono<AppEnv>();

for (const script of SCRIPTS) {
  sdkScriptRoutes.get(script, async (c) => {
    // Only the conditional header is forwarded: a revalidation can still answer 304.
    const headers = new Headers();
    const ifNoneMatch = c.req.header("If-None-Match");
    if (ifNoneMatch !== undefined) headers.set("If-None-Match", ifNoneMatch);
    const asset = await c.env.ASSETS.fetch(new Request(new URL(script, c.req.url), { headers }));
    if (asset.status !== 200 && asset.status !== 304) {
      await asset.body?.cancel();
      throw new ApiError(404, "not_found", `${script} is not built; run npm run build:sdk`);
    }
    const answer = new Headers({
      "Content-Type": "application/javascript; charset=utf-8",
      "Cache-Control": SCRIPT_CACHE_CONTROL,
      "Access-Control-Allow-Origin": "*",
      "X-Content-Type-Options": "nosniff",
    });
    const etag = asset.headers.get("ETag");
    if (etag !== null) answer.set("ETag", etag);
    return new Response(asset.status === 304 ? null : asset.body, { status: asset.status, headers: answer });
  });
}
