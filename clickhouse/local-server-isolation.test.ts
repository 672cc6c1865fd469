/**
 * One query must not hurt the others (issue 13, section 3, items 2 and 7): the standalone
 * server (`npm run clickhouse`, its own process, so its memory can be read) runs slow
 * queries side by side with quick ones, keeps slots for writes however many reads wait,
 * and stops an unbounded query whose client went away or stopped reading.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let dataDir: string;
let child: ChildProcess;
let baseUrl: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "edgepulse-local-isolation-"));
  // As `npm run clickhouse` starts it: the thread-pool size must be set before the process starts.
  child = spawn(process.execPath, [join("node_modules", "tsx", "dist", "cli.mjs"), "clickhouse/local-server.ts"], {
    env: { ...process.env, CLICKHOUSE_PORT: "0", CLICKHOUSE_DATA_DIR: dataDir, UV_THREADPOOL_SIZE: "16" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  baseUrl = await new Promise<string>((resolveUrl, rejectUrl) => {
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) resolveUrl(match[1]);
    });
    child.once("exit", (code) => rejectUrl(new Error(`local server exited with ${code}: ${output}`)));
  });
  await query("CREATE TABLE quick (x UInt32) ENGINE = MergeTree ORDER BY x");
});

afterAll(async () => {
  if (child?.exitCode === null) {
    const exited = new Promise((resolveExit) => child.once("exit", resolveExit));
    child.kill("SIGTERM");
    await exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

async function query(sql: string, params: Record<string, string> = {}, signal?: AbortSignal): Promise<string> {
  const response = await fetch(`${baseUrl}/?${new URLSearchParams(params)}`, {
    method: "POST",
    body: sql,
    ...(signal ? { signal } : {}),
  });
  const body = await response.text();
  if (response.status !== 200) throw new Error(`${response.status}: ${body}`);
  return body;
}

/** Resident memory of the server process, in bytes. */
function serverRss(): number {
  const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) * 1024;
}

/** Settles in order of completion: which of the promises finished first. */
function order(labelled: Array<[string, Promise<unknown>]>): Promise<string[]> {
  const finished: string[] = [];
  return Promise.all(labelled.map(([label, promise]) => promise.then(() => finished.push(label)))).then(() => finished);
}

describe("concurrent queries", () => {
  it("answers a quick INSERT and SELECT while four slow queries run", async () => {
    const slow = Array.from({ length: 4 }, (_, index): [string, Promise<unknown>] => [
      `slow${index}`,
      query("SELECT sleep(2)"),
    ]);
    await new Promise((resolveWait) => setTimeout(resolveWait, 300));
    const quick: Array<[string, Promise<unknown>]> = [
      ["insert", query("INSERT INTO quick VALUES (1)")],
      ["select", query("SELECT count() FROM quick")],
    ];
    const finished = await order([...slow, ...quick]);
    expect(finished.slice(0, 2).sort()).toEqual(["insert", "select"]);
  });

  it("keeps slots for writes however many read-only queries are running or waiting", async () => {
    const reads = Array.from({ length: 20 }, (_, index): [string, Promise<unknown>] => [
      `read${index}`,
      query("SELECT sleep(2)", { readonly: "1" }),
    ]);
    await new Promise((resolveWait) => setTimeout(resolveWait, 300));
    const finished = await order([...reads, ["insert", query("INSERT INTO quick VALUES (2)")]]);
    expect(finished[0]).toBe("insert");
  });
});

describe("a query whose client is gone", () => {
  it("stops an aborted unbounded SELECT and one whose client stopped reading, with memory bounded", async () => {
    const before = serverRss();
    // A client that reads a little, then aborts.
    const aborted = new AbortController();
    const response = await fetch(`${baseUrl}/`, {
      method: "POST",
      body: "SELECT * FROM system.numbers",
      signal: aborted.signal,
    });
    const reader = response.body?.getReader();
    await reader?.read();
    // A client that never reads: back-pressure must stall the query, not buffer its result.
    const stalled = new AbortController();
    const unread = await fetch(`${baseUrl}/`, {
      method: "POST",
      body: "SELECT number, toString(number) FROM system.numbers",
      signal: stalled.signal,
    });
    expect(unread.status).toBe(200);
    aborted.abort();
    await reader?.cancel().catch(() => undefined);

    let peak = 0;
    for (let sample = 0; sample < 10; sample += 1) {
      peak = Math.max(peak, serverRss());
      await new Promise((resolveWait) => setTimeout(resolveWait, 300));
    }
    stalled.abort();
    // Unbounded, the old server grew by gigabytes a second; streamed with back-pressure it stays flat.
    expect(peak - before).toBeLessThan(512 * 1024 * 1024);
    expect(await query("SELECT 'still answering'")).toBe("still answering\n");
  });
});
