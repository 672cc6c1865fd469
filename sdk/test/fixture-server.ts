/**
 * Serves the fixture pages of the SDK's browser tests on their own origin (127.0.0.1,
 * ephemeral port), different from the collector's. Every path under /app/ is the SPA shell
 * (so reloads at any SPA path work); `{{COLLECTOR}}` in a page is the collector origin and
 * `{{ATTRIBUTES}}` the script tag's extra data attributes, from the query string `?attrs=`.
 */
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface FixtureServer {
  origin: string;
  close(): Promise<void>;
}

const fixtures = new URL("fixtures/", import.meta.url);
const webVitals = new URL("../../node_modules/web-vitals/dist/web-vitals.iife.js", import.meta.url);

export async function startFixtureServer(collectorOrigin: string): Promise<FixtureServer> {
  const server = createServer(async (request, response) => {
    const url = new URL(request.url ?? "/", "http://fixtures");
    try {
      if (url.pathname === "/web-vitals.js") {
        response.writeHead(200, { "content-type": "text/javascript" });
        return response.end(await readFile(webVitals));
      }
      const page = url.pathname.startsWith("/app/") ? "app.html" : url.pathname.slice(1);
      if (!/^[a-z-]+\.html$/.test(page)) throw new Error("no such fixture");
      const html = (await readFile(new URL(page, fixtures), "utf8"))
        .replaceAll("{{COLLECTOR}}", collectorOrigin)
        .replaceAll("{{ATTRIBUTES}}", url.searchParams.get("attrs") ?? "data-allow-automation");
      response.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "max-age=3600" });
      response.end(html);
    } catch {
      response.writeHead(404, { "content-type": "text/plain" });
      response.end("not found");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
