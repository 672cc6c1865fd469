import { describe, expect, it } from "vitest";
import { type CpuProfile, hotFunctions, phaseShares } from "./profile";

// root → fetch → ingest → applyBatch (self) ; root → alarm (self)
const frame = (functionName: string, line = 0) => ({
  functionName,
  url: "file:///bundle/index.js",
  lineNumber: line,
  columnNumber: 0,
});
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame("(root)"), children: [2, 5] },
    { id: 2, callFrame: frame("fetch", 10), children: [3] },
    { id: 3, callFrame: frame("ingest", 20), children: [4] },
    { id: 4, callFrame: frame("applyBatch", 30) },
    { id: 5, callFrame: frame("alarm", 40) },
  ],
  startTime: 0,
  endTime: 10,
  samples: [4, 4, 4, 3, 5, 5, 2, 4, 4, 5],
  timeDeltas: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
};

describe("CPU profile summaries", () => {
  it("ranks functions by self time and gives their inclusive share", () => {
    const hot = hotFunctions(profile, 3);
    expect(hot.map((entry) => entry.name)).toEqual([
      "applyBatch index.js:31",
      "alarm index.js:41",
      "ingest index.js:21",
    ]);
    expect(hot[0]?.selfShare).toBe(0.5);
    expect(hot[2]).toMatchObject({ selfShare: 0.1, totalShare: 0.6 });
  });

  it("puts each sample in the first phase with a function on its stack, the rest in other", () => {
    const phases = [
      { name: "shard ingest", functions: ["ingest", "applyBatch"] },
      { name: "flush", functions: ["alarm"] },
      { name: "hub", functions: ["applyShardState"] },
    ];
    expect(phaseShares(profile, phases)).toEqual({ "shard ingest": 0.6, flush: 0.3, hub: 0, other: 0.1 });
  });
});
