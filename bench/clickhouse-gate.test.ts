import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClickHouseGate } from "./clickhouse-gate";

/** Stands in for ClickHouse: answers every request, and reports inserted lines as written rows. */
let upstream: Server;
let upstreamUrl = "";
const seen: string[] = [];

beforeAll(async () => {
  upstream = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
    request.on("end", () => {
      const query = new URL(request.url ?? "/", "http://x").searchParams.get("query") ?? body;
      seen.push(query);
      const rows = query.startsWith("INSERT") ? body.split("\n").filter((line) => line !== "").length : 0;
      response.writeHead(200, { "X-ClickHouse-Summary": JSON.stringify({ written_rows: String(rows) }) });
      response.end(query.startsWith("INSERT") ? "" : "1\n");
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => upstream.close(() => resolve())));

describe("ClickHouseGate", () => {
  it("holds inserts while closed, lets queries through, and records what each insert wrote", async () => {
    const { gate, url } = await ClickHouseGate.start(upstreamUrl);
    try {
      gate.close();
      const insertUrl = `${url}/?query=${encodeURIComponent("INSERT INTO edgepulse.events FORMAT JSONEachRow")}&insert_deduplication_token=shop:3:e:events:1-2`;
      const insert = fetch(insertUrl, { method: "POST", body: '{"a":1}\n{"a":2}\n' });
      const query = await fetch(`${url}/?query=${encodeURIComponent("SELECT 1")}`);
      expect(await query.text()).toBe("1\n");
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(gate.heldCount).toBe(1);
      expect(seen).not.toContain("INSERT INTO edgepulse.events FORMAT JSONEachRow");

      const landed = gate.until(() => gate.inserts.length === 1, 5_000);
      gate.release();
      expect((await insert).status).toBe(200);
      expect(await landed).toBe(true);
      expect(gate.inserts[0]).toMatchObject({
        table: "events",
        token: "shop:3:e:events:1-2",
        status: 200,
        writtenRows: 2,
      });
      expect(gate.inserts[0]?.forwardedAt).toBeGreaterThanOrEqual((gate.inserts[0]?.arrivedAt ?? 0) + 90);
    } finally {
      await gate.stop();
    }
  });
});
