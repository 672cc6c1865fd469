import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { batchSchema } from "../protocol";
import { hasWrk } from "./throughput";
import { parseWrkOutput, runWrk, writeWrkBodies } from "./wrk";

const work = mkdtempSync(join(tmpdir(), "bench-wrk-test-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("wrk request lines", () => {
  it("hold full SDK batches with a batch-id placeholder and the browser's headers", () => {
    const path = join(work, "bodies.txt");
    const { meanBytes } = writeWrkBodies(path, { count: 50, eventsPerBatch: 20, sites: ["shop-a", "shop-b"], seed: 1 });
    const lines = readFileSync(path, "utf8").trim().split("\n");
    expect(lines).toHaveLength(50);
    expect(meanBytes).toBeGreaterThan(1000);
    for (const line of lines) {
      const [userAgent, origin, ip, body] = line.split("\t");
      expect(userAgent).toMatch(/^Mozilla\//);
      expect(ip).toMatch(/^10\.\d+\.\d+\.\d+$/);
      expect(origin).toMatch(/^https:\/\/shop-[ab]\.example$/);
      const batch = batchSchema.parse(JSON.parse((body ?? "").replace("__BATCH__", "b-1")));
      expect(batch.events).toHaveLength(20);
    }
  });
});

describe("parseWrkOutput", () => {
  it("reads the Lua summary: throughput, latency in ms, failures = non-202 answers + socket errors", () => {
    const stdout = [
      "Running 2s test @ http://127.0.0.1:1",
      'WRK_JSON {"requests":1000,"duration_us":2000000,"bytes":1,"p50_us":1500,"p90_us":3000,"p99_us":9000,"max_us":12000,"mean_us":1800.5,' +
        '"errors":{"connect":0,"read":1,"write":0,"status":3,"timeout":2},"statuses":{"202":997,"503":3}}',
    ].join("\n");
    const result = parseWrkOutput(stdout, 8, 1);
    expect(result.requestsPerSecond).toBe(500);
    expect(result.latencyMs).toEqual({ p50: 1.5, p90: 3, p99: 9, max: 12 });
    expect(result.failures).toBe(6);
    expect(result.statuses).toEqual({ "202": 997, "503": 3 });
  });

  it("says so when wrk printed no summary", () => {
    expect(() => parseWrkOutput("unable to connect", 1, 1)).toThrow(/no summary/);
  });
});

describe.skipIf(!hasWrk())("the wrk script against a real server", () => {
  let server: Server;
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("gives every request its own batch id and counts answers by status", async () => {
    const ids: string[] = [];
    server = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      request.on("end", () => {
        const batch = batchSchema.parse(JSON.parse(body));
        ids.push(batch.batch);
        const refuse = ids.length % 10 === 0;
        response.writeHead(refuse ? 429 : 202, { "content-type": "application/json" });
        response.end(refuse ? '{"error":{"code":"rate_limited","message":"x"}}' : '{"accepted":20,"duplicate":false}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const path = join(work, "wrk-bodies.txt");
    writeWrkBodies(path, { count: 5, eventsPerBatch: 20, sites: ["demo"], seed: 2 });
    const result = await runWrk({
      url: `http://127.0.0.1:${port}`,
      bodiesPath: path,
      runId: "t",
      connections: 2,
      durationSeconds: 1,
    });
    expect(result.requests).toBeGreaterThan(10);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => /^t-\d+-\d+$/.test(id))).toBe(true);
    expect(result.statuses["429"]).toBeGreaterThan(0);
    expect(result.failures).toBe((result.statuses["429"] ?? 0) + result.socketErrors);
  });
});
