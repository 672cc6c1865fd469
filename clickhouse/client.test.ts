/**
 * The ClickHouse wrapper in Node against the local server, and against servers that fail in
 * the ways real deployments do: refused connections, hangs, proxies answering without a code.
 * What matters is the classification the IngestShard acts on: retry later, or quarantine.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ClickHouse, ClickHouseError, createClickHouse } from "./client";
import { type LocalClickHouse, startLocalClickHouse } from "./local-server";
import { applyMigrations } from "./migrate";
import type { QuarantineRow } from "./rows";
import { LATEST_SCHEMA_VERSION } from "./schema-version";

let dataDir: string;
let server: LocalClickHouse;
let clickhouse: ClickHouse;
const config = () => ({ url: server.url, username: "default", password: "", database: "edgepulse" });

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "edgepulse-client-"));
  server = await startLocalClickHouse({ port: 0, dataDir });
  await applyMigrations(config());
  clickhouse = createClickHouse(config());
});

afterAll(async () => {
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function failure(promise: Promise<unknown>): Promise<ClickHouseError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  if (!(error instanceof ClickHouseError)) throw new Error(`expected a ClickHouseError, got ${String(error)}`);
  return error;
}

function quarantineRow(site: string, error = "e"): QuarantineRow {
  return { site, target_table: "events", quarantined_at: "2026-11-23 10:00:00.123", error, row: "{}" };
}

/** An HTTP server on an ephemeral port with a fixed behaviour, for failures the local server never shows. */
async function fakeServer(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; server: Server }> {
  const fake = createServer(handler);
  await new Promise<void>((resolve) => fake.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(fake.address() as AddressInfo).port}`, server: fake };
}

describe("reads and writes", () => {
  it("inserts rows once per dedup token and reads them back with parameters", async () => {
    const rows = [quarantineRow("client-a", "one"), quarantineRow("client-a", "two")];
    await clickhouse.insert("quarantine", rows, "client-test-1");
    await clickhouse.insert("quarantine", rows, "client-test-1");
    const read = await clickhouse.query<{ error: string; n: number }>(
      "SELECT error, count() AS n FROM quarantine WHERE site = {site:String} GROUP BY error ORDER BY error",
      { site: "client-a" },
    );
    expect(read).toEqual([
      { error: "one", n: 1 },
      { error: "two", n: 1 },
    ]);
    await clickhouse.insert("quarantine", [], "never-sent");
  });

  it("pings and reports the schema version", async () => {
    expect(await clickhouse.ping()).toBe(true);
    expect(await clickhouse.schemaVersion()).toBe(LATEST_SCHEMA_VERSION);
    expect(await createClickHouse({ ...config(), database: "default" }).schemaVersion()).toBeNull();
  });

  it("applies per-query settings such as readonly", async () => {
    const error = await failure(clickhouse.query("INSERT INTO quarantine (site) VALUES ('x')", {}, { readonly: "1" }));
    expect(error.code).toBe(164);
    expect(error.type).toBe("READONLY");
  });
});

describe("error classification", () => {
  it("marks rows ClickHouse cannot parse as not retryable", async () => {
    const bad = { ...quarantineRow("client-b"), quarantined_at: "not a time" };
    const error = await failure(clickhouse.insert("quarantine", [bad], "client-test-bad"));
    expect(error.retryable).toBe(false);
    expect(error.code).toBeGreaterThan(0);
    expect(error.message).toMatch(/^ClickHouse [A-Z_]+ \(\d+\): /);
  });

  it("marks SQL errors as not retryable", async () => {
    const error = await failure(clickhouse.query("SELECT (1"));
    expect(error).toMatchObject({ code: 62, type: "SYNTAX_ERROR", retryable: false });
  });

  it("keeps misconfiguration retryable: a missing table, wrong credentials", async () => {
    const missing = await failure(
      createClickHouse({ ...config(), database: "nowhere" }).insert("quarantine", [quarantineRow("c")], "t"),
    );
    expect(missing).toMatchObject({ code: 81, retryable: true });
    const denied = await failure(createClickHouse({ ...config(), password: "wrong" }).query("SELECT 1"));
    expect(denied).toMatchObject({ code: 516, retryable: true });
  });

  it("marks an unreachable server as retryable without a code", async () => {
    const refused = await fakeServer(() => {});
    const url = refused.url;
    await new Promise((resolve) => refused.server.close(resolve));
    const down = createClickHouse({ ...config(), url });
    const error = await failure(down.insert("quarantine", [quarantineRow("c")], "t"));
    expect(error).toMatchObject({ code: null, retryable: true });
    expect(await down.ping()).toBe(false);
    expect(await down.schemaVersion()).toBeNull();
  });

  it("gives up after the timeout, retryably", async () => {
    const hanging = await fakeServer(() => {
      // Never answers.
    });
    try {
      const slow = createClickHouse({ ...config(), url: hanging.url }, { timeoutMs: 200 });
      const error = await failure(slow.query("SELECT 1"));
      expect(error).toMatchObject({ code: null, retryable: true });
      expect(error.message).toMatch(/Timeout/);
    } finally {
      hanging.server.closeAllConnections();
      await new Promise((resolve) => hanging.server.close(resolve));
    }
  });

  it("treats a proxy's 503 without an exception code as retryable", async () => {
    const proxy = await fakeServer((_request, response) => {
      response.writeHead(503, { "Content-Type": "text/html" }).end("<h1>upstream unavailable</h1>");
    });
    try {
      const error = await failure(
        createClickHouse({ ...config(), url: proxy.url }).insert("quarantine", [quarantineRow("c")], "t"),
      );
      expect(error).toMatchObject({ code: null, retryable: true });
    } finally {
      await new Promise((resolve) => proxy.server.close(resolve));
    }
  });

  it("fails every call retryably when no URL is configured", async () => {
    const unset = createClickHouse({ ...config(), url: "" });
    expect(await failure(unset.query("SELECT 1"))).toMatchObject({
      code: null,
      retryable: true,
      message: "CLICKHOUSE_URL is not configured",
    });
    expect(await unset.ping()).toBe(false);
  });
});
