import { describe, expect, it } from "vitest";
import { bundleComposition, busyMilliseconds } from "./deploy";

describe("deploy dry-run measurements", () => {
  it("counts a CPU profile's busy time, leaving out idle and program samples", () => {
    const profile = {
      nodes: [
        { id: 1, callFrame: { functionName: "(root)" } },
        { id: 2, callFrame: { functionName: "(idle)" } },
        { id: 3, callFrame: { functionName: "object" } },
        { id: 4, callFrame: { functionName: "(program)" } },
      ],
      samples: [2, 3, 3, 4, 1],
      timeDeltas: [30_000, 1_000, 1_500, 2_000, 500],
    };
    expect(busyMilliseconds(JSON.stringify(profile))).toBe(3);
  });

  it("groups the bundle's bytes by npm package and by our top folder, largest first", () => {
    const meta = {
      outputs: {
        "index.js": {
          entryPoint: "worker/index.ts",
          inputs: {
            "node_modules/zod/v4/core/schemas.js": { bytesInOutput: 300 },
            "node_modules/zod/v4/classic/schemas.js": { bytesInOutput: 200 },
            "node_modules/@clickhouse/client-web/dist/index.js": { bytesInOutput: 400 },
            "worker/routes/events.ts": { bytesInOutput: 50 },
            "worker/config.ts": { bytesInOutput: 70 },
          },
        },
        "index.js.map": { inputs: {} },
      },
    };
    expect(bundleComposition(JSON.stringify(meta))).toEqual([
      ["npm zod", 500],
      ["npm @clickhouse/client-web", 400],
      ["worker", 70],
      ["worker/routes", 50],
    ]);
  });
});
