/** Tests that run in Node: local ClickHouse server, SDK build and browser tests, tools, end-to-end. */
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: [
      "clickhouse/**/*.test.ts",
      "sdk/**/*.test.ts",
      "tools/**/*.test.ts",
      "bench/**/*.test.ts",
      "dashboard/**/*.test.ts",
      "test/**/*.test.ts",
    ],
    exclude: ["clickhouse/*.worker.test.ts", "node_modules/**"],
    // End-to-end files each start real servers; two cores do not gain from running them at once.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
