/**
 * Tests that run inside workerd (the Worker, the Durable Objects, pure modules beside them),
 * through the Workers vitest plugin. A real local ClickHouse (chdb behind its HTTP endpoint)
 * is started by the global setup, and its URL is passed to the Worker as CLICKHOUSE_URL.
 */
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          LOCAL_DEV: "1",
          CLICKHOUSE_URL: inject<string>("clickhouseUrl"),
          CLICKHOUSE_DATABASE: "edgepulse",
        },
      },
    })),
  ],
  test: {
    include: [
      "worker/**/*.test.ts",
      "durable-objects/**/*.test.ts",
      "protocol/**/*.test.ts",
      "common/**/*.test.ts",
      "tracing/**/*.test.ts",
      "clickhouse/*.worker.test.ts",
    ],
    globalSetup: ["./test/support/workers-global-setup.ts"],
    // Some tests drive hundreds of batches through real objects; a loaded 2-core runner needs the room.
    testTimeout: 90_000,
  },
});
